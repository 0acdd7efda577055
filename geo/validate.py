"""Every problem in an interchange dataset, each as a :class:`~geo.errors.Problem`.

Import is all-or-nothing, so a planner fixing a file wants the whole list at once, not the first
error: every check runs on every feature, vectorised (shapely arrays, STRtree, pandas), and a problem
found in one check does not stop the others. A feature is named by its code, or ``row N``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage import TOLERANCE_M2, CoverageIssue, area_m2, coverage_report, metric_crs_for, points_in_polygons
from geo.crs import WGS84
from geo.domain import CODE_LENGTH, LEVELS, STATION_KINDS, UNIT_KINDS, Level
from geo.errors import Problem
from geo.interchange import LAYERS, LayerSpec
from geo.io import Dataset, feature_ids, text_values

ExistingCodes = AbstractSet[str] | Mapping[str, AbstractSet[str]]


@dataclass
class _Layer:
    """One layer under validation: its rows (every spec column present), names and usable shapes."""

    spec: LayerSpec
    frame: gpd.GeoDataFrame
    ids: np.ndarray
    absent: set[str]
    usable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def text(self, column: str) -> np.ndarray:
        """A column as stripped text, None where blank."""
        return text_values(self.frame[column])


def _isin(values: np.ndarray, allowed: object) -> np.ndarray:
    """Elementwise membership that tolerates None (``np.isin`` may sort, and None does not sort)."""
    return pd.Series(values, dtype=object).isin(list(allowed)).to_numpy(dtype=bool)  # type: ignore[call-overload,no-any-return]


class _Report:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, layer: _Layer, mask: np.ndarray, column: str, reason: str | Sequence[str]) -> None:
        """One problem per row in ``mask``; ``reason`` is shared or one per masked row."""
        rows = np.flatnonzero(mask)
        reasons = [reason] * len(rows) if isinstance(reason, str) else list(reason)
        self.problems += [Problem(layer.spec.name, layer.ids[i], column, r) for i, r in zip(rows, reasons, strict=True)]

    def one(self, layer: str, feature: str, column: str, reason: str) -> None:
        self.problems.append(Problem(layer, feature, column, reason))


def validate_dataset(
    ds: Dataset,
    *,
    existing_codes: ExistingCodes = frozenset(),
    existing_districts: gpd.GeoDataFrame | None = None,
) -> list[Problem]:
    """Every problem in ``ds``, including those found while reading it; empty when it can be imported.

    ``existing_codes`` are codes already in the database: one set for every layer, or a mapping
    from layer name (``units``, ``buildings``, ``stations``) to a set. ``existing_districts``
    (code, geometry) are the districts already loaded, which new districts must not overlap.
    """
    report = _Report()
    layers = {name: _layer(report, ds.layer(name), spec) for name, spec in LAYERS.items()}
    for name, lay in layers.items():
        lay.usable = _check_geometry(report, lay)
        known = existing_codes.get(name, frozenset()) if isinstance(existing_codes, Mapping) else existing_codes
        _check_codes(report, lay, known)
        _check_integers(report, lay)
    units = layers["units"]
    _check_levels(report, units)
    _check_parents(report, units)
    _check_coverage(report, units)
    if existing_districts is not None and len(existing_districts):
        _check_new_districts(report, units, existing_districts)
    _check_population(report, layers["buildings"])
    _check_buildings(report, layers["buildings"], units)
    _check_stations(report, layers["stations"], units)
    read = {(p.layer, p.feature, p.field) for p in ds.problems}
    return list(ds.problems) + [p for p in report.problems if (p.layer, p.feature, p.field) not in read]


def _layer(report: _Report, frame: gpd.GeoDataFrame, spec: LayerSpec) -> _Layer:
    absent = {c for c in spec.columns if c not in frame}
    for column in sorted(absent & set(spec.required)) if len(frame) else []:
        report.one(spec.name, "*", column, "required column is missing")
    full = frame.reset_index(drop=True).copy()
    for column in absent:
        full[column] = None
    if frame.crs is not None and not frame.crs.equals(WGS84):
        report.one(spec.name, "*", "geometry", f"layer is in {frame.crs.to_string()}, not EPSG:4326")
    lay = _Layer(spec, full, feature_ids(full), absent)
    for column in spec.required:
        if column not in absent and column not in spec.integer_fields:
            report.add(lay, pd.isna(lay.text(column)), column, "missing value")
    return lay


def _check_geometry(report: _Report, lay: _Layer) -> np.ndarray:
    """Report missing, empty, mistyped, invalid and out-of-range geometry; return the usable rows."""
    geoms = np.asarray(lay.frame.geometry.values, dtype=object)
    allowed = sorted(lay.spec.geometry_types)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    typed = np.isin(shapely.get_type_id(geoms), [shapely.GeometryType[t.upper()] for t in allowed])
    wrong = ~missing & ~empty & ~typed
    report.add(lay, missing, "geometry", "missing geometry")
    report.add(lay, empty, "geometry", "empty geometry")
    report.add(lay, wrong, "geometry", [f"wrong geometry type {g.geom_type}; expected {' or '.join(allowed)}"
                                         for g in geoms[wrong]])
    shaped = ~missing & ~empty & typed
    reasons = np.full(len(geoms), "Valid Geometry", dtype=object)
    reasons[shaped] = shapely.is_valid_reason(geoms[shaped])
    invalid = reasons != "Valid Geometry"
    report.add(lay, invalid, "geometry", [f"invalid geometry: {r}" for r in reasons[invalid]])
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    out = shaped & ((x0 < -180) | (x1 > 180) | (y0 < -90) | (y1 > 90))
    report.add(lay, out, "geometry", "coordinates outside the lon/lat range: was the right CRS declared?")
    return cast(np.ndarray, shaped & ~out)


def _check_codes(report: _Report, lay: _Layer, existing: AbstractSet[str]) -> None:
    if "code" in lay.absent:
        return
    codes = pd.Series(lay.text("code"))
    counts = codes.value_counts()
    for code, n in counts[counts > 1].items():
        report.one(lay.spec.name, str(code), "code", f"duplicate code: it appears {n} times")
    report.add(lay, codes.isin(list(existing)).to_numpy(dtype=bool), "code", "code already exists in the database")


def numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Values as floats (NaN where missing or not numeric) and a mask of the non-numeric ones."""
    raw = values.astype(object).where(values.notna(), None)
    parsed = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = raw.notna().to_numpy() & ~np.isfinite(parsed)
    return np.where(np.isfinite(parsed), parsed, np.nan), bad


def _check_integers(report: _Report, lay: _Layer) -> None:
    for column in lay.spec.integer_fields:
        if column in lay.absent:
            continue
        raw = lay.frame[column].astype(object)
        value, bad = numbers(raw)
        report.add(lay, bad, column, [f"not a number: {v!r}" for v in raw[bad]])
        if column in lay.spec.required:
            report.add(lay, np.isnan(value) & ~bad, column, "missing value")
        fraction = ~np.isnan(value) & (value % 1 != 0)
        report.add(lay, fraction, column, [f"not a whole number: {v:g}" for v in value[fraction]])
        negative = value < 0
        report.add(lay, negative, column, [f"negative: {v:g}" for v in value[negative]])


def _check_levels(report: _Report, units: _Layer) -> None:
    """Level names, code format per level (digits, CODE_LENGTH), and kinds allowed per level."""
    level, code, kind = units.text("level"), units.text("code"), units.text("kind")
    names = ", ".join(LEVELS)
    unknown = pd.notna(level) & ~_isin(level, LEVELS)
    report.add(units, unknown, "level", [f"unknown level {v!r}; expected one of {names}" for v in level[unknown]])
    text = pd.Series(code, dtype=object)
    not_digits = text.notna().to_numpy() & ~text.str.fullmatch(r"[0-9]+").fillna(False).to_numpy(dtype=bool)
    report.add(units, not_digits, "code", "a unit code must be digits only")
    expected = np.array([CODE_LENGTH.get(Level(v), 0) if v in LEVELS else 0 for v in level])
    lengths = text.str.len().fillna(0).to_numpy()
    wrong = ~not_digits & text.notna().to_numpy() & (expected > 0) & (lengths != expected)
    report.add(units, wrong, "code", [f"a {lv} code has {n} digits, not {m}"
                                      for lv, n, m in zip(level[wrong], expected[wrong], lengths[wrong], strict=True)])
    for lv in LEVELS:
        allowed = UNIT_KINDS[lv]
        bad = (level == lv) & pd.notna(kind) & ~_isin(kind, allowed)
        hint = f"expected one of {', '.join(sorted(allowed))}" if allowed else f"a {lv} has no kind"
        report.add(units, bad, "kind", [f"unknown kind {k!r} for a {lv}; {hint}" for k in kind[bad]])


def _check_parents(report: _Report, units: _Layer) -> None:
    """Every unit below the district names an existing parent exactly one level up."""
    level, parent = units.text("level"), units.text("parent_code")
    level_of = pd.Series(level, index=units.text("code")).groupby(level=0).first()
    below = _isin(level, LEVELS[1:])
    report.add(units, below & pd.isna(parent), "parent_code", "missing parent: only a district has none")
    given = below & pd.notna(parent)
    parent_level = level_of.reindex(parent).to_numpy(dtype=object)
    unknown = given & pd.isna(parent_level)
    report.add(units, unknown, "parent_code", [f"unknown parent {p}: not in the dataset" for p in parent[unknown]])
    expected = np.array([Level(v).parent if v in LEVELS else None for v in level], dtype=object)
    wrong = given & ~unknown & (parent_level != expected)
    report.add(units, wrong, "parent_code", [
        f"parent {p} is a {pl}; the parent of a {lv} must be a {ex}"
        for p, pl, lv, ex in zip(parent[wrong], parent_level[wrong], level[wrong], expected[wrong], strict=True)
    ])


def _check_coverage(report: _Report, units: _Layer) -> None:
    """Children inside their parent, and siblings tiling it: no gap or overlap above 1 m²."""
    frame = units.frame[units.usable].assign(code=units.text("code")[units.usable],
                                             parent_code=units.text("parent_code")[units.usable],
                                             level=units.text("level")[units.usable])
    frame = frame[frame["code"].notna()]
    if frame.empty:
        return
    names = dict(zip(frame["code"], frame["name"], strict=True))
    metric = metric_crs_for(frame)
    for parent_level in LEVELS[:-1]:
        child_level = parent_level.child
        children = frame[frame["level"] == child_level]
        if children.empty:
            continue
        parents = frame[frame["level"] == parent_level].drop_duplicates("code")
        for issue in coverage_report(parents, children, metric_crs=metric):
            report.one("units", *_coverage_problem(issue, str(child_level), names))


def _coverage_problem(issue: CoverageIssue, child_level: str, names: dict[str, str]) -> tuple[str, str, str]:
    area = f"{issue.area_m2:,.1f} m²"
    parent = f"{issue.parent} ({names.get(str(issue.parent), '')})"
    if issue.kind == "outside":
        return issue.children[0], "geometry", f"{area} lies outside its parent {parent}"
    if issue.kind == "gap":
        return str(issue.parent), "geometry", f"gap of {area} in {parent} not covered by its {child_level} units"
    a, b = issue.children
    return a, "geometry", f"overlaps {b} by {area}; both are {child_level} units in {parent}"


def _check_population(report: _Report, buildings: _Layer) -> None:
    """Elderly (60+) and children (under 14) are disjoint groups of the residents."""
    if {"elderly", "children", "residents"} & buildings.absent:
        return
    elderly, children, residents = (numbers(buildings.frame[c])[0] for c in ("elderly", "children", "residents"))
    over = np.nan_to_num(elderly) + np.nan_to_num(children) > residents
    report.add(buildings, over, "residents", [
        f"elderly ({e:g}) + children ({c:g}) exceed residents ({r:g})"
        for e, c, r in zip(np.nan_to_num(elderly[over]), np.nan_to_num(children[over]), residents[over], strict=True)
    ])


def _check_new_districts(report: _Report, units: _Layer, existing: gpd.GeoDataFrame) -> None:
    """A district being imported must not overlap one already in the database."""
    new = _units_of(units, Level.district)
    if new.empty:
        return
    left, right = shapely.STRtree(existing.geometry.values).query(new.geometry.values, predicate="intersects")
    shared = shapely.intersection(new.geometry.values[left], existing.geometry.values[right])
    areas = area_m2(shared, metric_crs_for(new))
    for i, j, area in zip(left, right, areas, strict=True):
        if area > TOLERANCE_M2:
            report.one("units", str(new["code"].iloc[i]), "geometry",
                       f"overlaps district {existing['code'].iloc[j]}, already in the database, by {area:,.0f} m²")


def _units_of(units: _Layer, level: Level) -> gpd.GeoDataFrame:
    """Usable units of one level, with their code as text, for locating points."""
    rows = units.usable & (units.text("level") == level)
    return units.frame[rows].assign(code=units.text("code")[rows])


def _check_buildings(report: _Report, buildings: _Layer, units: _Layer) -> None:
    """Each building lies in a grid, and in the grid it names when it names one."""
    if buildings.frame.empty or "level" in units.absent:  # without levels there are no grids to look in
        return
    grids = _units_of(units, Level.grid)
    located = points_in_polygons(buildings.frame.geometry, grids).to_numpy(dtype=object)
    report.add(buildings, buildings.usable & pd.isna(located), "geometry", "outside every grid")
    if "grid_code" in buildings.absent:
        return
    given = buildings.text("grid_code")
    all_grids = set(units.text("code")[units.text("level") == Level.grid])
    unknown = pd.notna(given) & ~_isin(given, all_grids)
    report.add(buildings, unknown, "grid_code", [f"unknown grid {g}" for g in given[unknown]])
    shapes = grids.drop_duplicates("code").set_index("code").geometry
    check = buildings.usable & pd.notna(given) & pd.notna(located) & _isin(given, shapes.index)
    inside = np.ones(len(given), dtype=bool)
    grid_geoms = np.asarray(shapes.reindex(given[check]).values, dtype=object)
    inside[check] = shapely.covers(grid_geoms, np.asarray(buildings.frame.geometry.values)[check])
    report.add(buildings, ~inside, "grid_code", [f"the building is not inside grid {g}; it lies in {loc}"
                                                 for g, loc in zip(given[~inside], located[~inside], strict=True)])


def _check_stations(report: _Report, stations: _Layer, units: _Layer) -> None:
    """Known kinds, known responsible community, and a location inside some community."""
    if stations.frame.empty:
        return
    kind = stations.text("kind")
    bad = pd.notna(kind) & ~_isin(kind, STATION_KINDS)
    valid = ", ".join(sorted(STATION_KINDS))
    report.add(stations, bad, "kind", [f"unknown kind {k!r}; valid kinds: {valid}" for k in kind[bad]])
    if "level" in units.absent:
        return
    communities = _units_of(units, Level.community)
    located = points_in_polygons(stations.frame.geometry, communities).to_numpy(dtype=object)
    report.add(stations, stations.usable & pd.isna(located), "geometry", "outside every community")
    if "community_code" not in stations.absent:
        given = stations.text("community_code")
        known = set(units.text("code")[units.text("level") == Level.community])
        unknown = pd.notna(given) & ~_isin(given, known)
        report.add(stations, unknown, "community_code", [f"unknown community {c}" for c in given[unknown]])
