"""Section 2: the changed units before and after, judged against the norms, and the district medians.

Every figure is recomputed here from the two :class:`~geo.impact.state.State` s (buildings summed per
grid, grids rolled up through parent links, shapes measured geodesically), independently of the
reassignment preview's own figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import GEOD
from geo.domain import Level
from geo.impact.model import Crossing, Flag, Median, Norms, UnitFigures, UnitImpact
from geo.impact.state import FIGURES, State
from geo.nulls import optional_text

NOISE_M2 = 1.0  # pieces smaller than this are numeric noise


def shape_measures(geom: BaseGeometry | None, *, parts: bool = True) -> dict[str, Any]:
    """Geodesic area (km²), Polsby-Popper compactness and (with ``parts``) pieces and contiguity."""
    if geom is None or geom.is_empty:
        return {"area_km2": 0.0, "parts": 0, "contiguous": False, "compactness": 0.0}
    area, perimeter = GEOD.geometry_area_perimeter(geom)
    area = abs(float(area))
    out: dict[str, Any] = {"area_km2": round(area / 1e6, 6),
                           "compactness": round(4 * math.pi * area / perimeter**2, 4) if perimeter else 0.0}
    if parts:
        pieces = shapely.get_parts(geom)
        count = 1 if len(pieces) == 1 else sum(
            1 for p in pieces if abs(GEOD.geometry_area_perimeter(p)[0]) >= NOISE_M2)
        out.update(parts=count, contiguous=count == 1)
    return out


def _flags(fig: dict[str, Any], level: str, norms: Norms) -> list[Flag]:
    flags: list[Flag] = []
    if fig["residents"] == 0:
        flags.append("empty")
    if fig["workers"] is not None and fig["residents"] > 0:
        if fig["workers"] == 0:
            flags.append("no_workers")
        elif fig["residents"] / fig["workers"] > norms.residents_per_worker:
            flags.append("understaffed")
    per_grid = fig["households_per_grid"]
    if per_grid is not None and fig["households"] > 0:
        if per_grid < norms.grid_households_min:
            flags.append("grids_small")
        elif per_grid > norms.grid_households_max:
            flags.append("grids_large")
    if not fig["contiguous"]:
        flags.append("not_contiguous")
    return flags


def _absent(level: str) -> dict[str, Any]:
    """The figures of a unit on the side where it does not exist: zero, no shape, no flags."""
    people = level != Level.grid
    return {**dict.fromkeys(FIGURES, 0), "workers": 0 if people else None, "residents_per_worker": None,
            "workers_needed": 0 if people else None, "grids": 0, "households_per_grid": None,
            "grids_below_band": 0, "grids_above_band": 0, "empty_grids": 0, **shape_measures(None),
            "flags": [], "exists": False}


def _figures(state: State, codes: Sequence[str], norms: Norms) -> dict[str, dict[str, Any]]:
    """Figures of each unit in ``codes`` in ``state`` (a unit absent from ``state`` is left out)."""
    units = state.read("units", where_in={"code": list(codes)}).set_index("code")
    codes = [c for c in codes if c in units.index]
    grids = state.descendants(list(codes), Level.grid)
    sums = state.grid_sums(grids=list(grids["code"])).reindex(grids["code"], fill_value=0)
    per_grid = sums.assign(ancestor=grids["ancestor"].to_numpy())
    communities = state.descendants(list(codes), Level.community)
    workers_rows = state.read("units", where_in={"code": list(communities["code"])})
    workers = dict(zip(workers_rows["code"], pd.to_numeric(workers_rows["workers"]).fillna(0).astype(int),
                       strict=True))
    out = {}
    for code in codes:
        unit = units.loc[code]
        mine = per_grid[per_grid["ancestor"] == code]
        fig: dict[str, Any] = {f: int(mine[f].sum()) for f in FIGURES}
        n_grids = len(mine)
        if unit["level"] == Level.grid:
            fig["workers"] = fig["residents_per_worker"] = fig["workers_needed"] = None
        else:
            fig["workers"] = int(sum(workers.get(c, 0) for c in communities.loc[communities["ancestor"] == code,
                                                                                "code"]))
            fig["residents_per_worker"] = round(fig["residents"] / fig["workers"], 1) if fig["workers"] else None
            fig["workers_needed"] = norms.workers_needed(fig["residents"])
        households = mine["households"].to_numpy()
        fig.update(
            grids=n_grids,
            households_per_grid=round(fig["households"] / n_grids, 1) if n_grids else None,
            grids_below_band=int(np.sum(households < norms.grid_households_min)),
            grids_above_band=int(np.sum(households > norms.grid_households_max)),
            empty_grids=int(np.sum(mine["residents"].to_numpy() == 0)),
            **shape_measures(unit.geometry),
        )
        fig["flags"] = _flags(fig, str(unit["level"]), norms)
        fig["exists"] = True
        out[code] = fig
    return out


def unit_impacts(before: State, after: State, focus: list[dict[str, Any]], norms: Norms) -> list[UnitImpact]:
    """The changed units (``focus``: code and role from the preview), before and after.

    A new unit is absent before and a retired one after: that side's figures are zero and flag
    nothing, and a retired unit crosses no norm (it ends, and its people are counted where they go).
    """
    codes = [u["code"] for u in focus]
    figures_before, figures_after = _figures(before, codes, norms), _figures(after, codes, norms)
    names = pd.concat([after.read("units", where_in={"code": codes}),
                       before.read("units", where_in={"code": codes})]).drop_duplicates("code", keep="last")
    names = names.set_index("code")
    out = []
    for unit in focus:
        code = unit["code"]
        level = str(names.loc[code, "level"])
        b, a = figures_before.get(code) or _absent(level), figures_after.get(code) or _absent(level)
        crossings = [] if not a["exists"] else (
            [Crossing(flag=f, change="new") for f in a["flags"] if f not in b["flags"]]
            + [Crossing(flag=f, change="resolved") for f in b["flags"] if f not in a["flags"]])
        out.append(UnitImpact(
            code=code, name=str(names.loc[code, "name"]), name_en=optional_text(names.loc[code, "name_en"]),
            level=str(names.loc[code, "level"]), kind=optional_text(names.loc[code, "kind"]), role=unit["role"],
            before=UnitFigures(**b), after=UnitFigures(**a),
            crossings=crossings,
        ))
    return out


def _median(values: pd.Series) -> float | None:
    values = values.dropna()
    return round(float(values.median()), 4) if len(values) else None


def district_medians(state: State, district: str, groups: Sequence[tuple[str, str | None]]) -> list[Median]:
    """Medians over the units of each (level, kind) in the district, in ``state`` (the map before the change).

    Units are compared with their own kind (urban communities with urban communities, villages with
    villages): the district's hundreds of villages would otherwise set the median of a town community.
    """
    table = state.unit_table(district)
    sums = state.grid_sums(prefix=district)
    parent = dict(zip(table["code"], table["parent_code"], strict=True))
    level_of = dict(zip(table["code"], table["level"], strict=True))
    grids = table[table["level"] == Level.grid].copy()
    out = []
    for level, kind in dict.fromkeys(groups):
        def ancestor(code: str, level: str = level) -> str | None:
            current: str | None = code
            while current is not None and level_of.get(current) != level:
                current = parent.get(current)
            return current

        grids["ancestor"] = grids["code"].map(ancestor)
        per_grid = sums.reindex(grids["code"], fill_value=0).assign(ancestor=grids["ancestor"].to_numpy())
        totals = per_grid.groupby("ancestor")[list(FIGURES)].sum()
        counts = per_grid.groupby("ancestor").size()
        units = table[(table["level"] == level) & ((table["kind"] == kind) if kind else True)].set_index("code")
        frame = pd.DataFrame(index=units.index)
        for f in ("residents", "households"):
            frame[f] = totals[f].reindex(frame.index, fill_value=0)
        frame["grids"] = counts.reindex(frame.index, fill_value=0)
        workers = None
        if level in (Level.community, Level.subdistrict):
            communities = table[table["level"] == Level.community]
            owner = communities["code"].map(lambda c: ancestor(c))
            per_unit = pd.to_numeric(communities["workers"]).fillna(0).groupby(owner.to_numpy()).sum()
            frame["workers"] = per_unit.reindex(frame.index, fill_value=0)
            rpw = frame["residents"] / frame["workers"].where(frame["workers"] > 0)
            workers = (_median(frame["workers"]), _median(rpw))
        hpg = frame["households"] / frame["grids"].where(frame["grids"] > 0)
        shapes = state.read("units", where_in={"code": list(units.index)})
        measures = pd.DataFrame([shape_measures(g, parts=False) for g in shapes.geometry], index=shapes["code"])
        out.append(Median(
            level=level, kind=kind, units_counted=len(frame), residents=_median(frame["residents"]) or 0.0,
            households=_median(frame["households"]) or 0.0,
            workers=workers[0] if workers else None, residents_per_worker=workers[1] if workers else None,
            grids=_median(frame["grids"]) or 0.0, households_per_grid=_median(hpg),
            area_km2=_median(measures["area_km2"]) or 0.0, compactness=_median(measures["compactness"]) or 0.0,
        ))
    return out
