"""Coverage and nesting measurements shared by import validation and ``gridgov check``.

Invariants 1-3 of the architecture say that the children of a unit tile it exactly, that every unit
lies inside its parent and that every building is in exactly one grid. The functions here measure
how far a set of layers is from that, in square metres, so callers can report or refuse.

Overlays run in the data's own lon/lat coordinates, where the edges are straight (as in the database):
projecting first would bend a parent's long edge away from its children's shorter ones and invent
slivers of hundreds of m². Only the resulting pieces are projected, to one metric CRS (the UTM zone of
the data's centre, :func:`geo.crs.utm_crs_for`), to measure them; within a district that is accurate
to well under 0.1 %. Anything below ``tolerance_m2`` (1 m² by default) is numeric noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, utm_crs_for

TOLERANCE_M2 = 1.0
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@dataclass(frozen=True)
class CoverageIssue:
    """A gap, an overlap, or a child outside its parent, with its size and where it is (EPSG:4326)."""

    kind: str  # "gap" | "overlap" | "outside" | "unnoded"
    parent: str | None
    children: tuple[str, ...]
    area_m2: float
    geometry: BaseGeometry

    def __str__(self) -> str:
        if self.kind == "gap":
            return f"gap of {self.area_m2:,.1f} m² in {self.parent} not covered by its children"
        if self.kind == "overlap":
            a, b = self.children
            return f"{a} and {b} (children of {self.parent}) overlap by {self.area_m2:,.1f} m²"
        if self.kind == "unnoded":
            first, *others = self.children
            whose = f"those of {', '.join(others)}" if others else "its neighbours'"
            x, y = self.geometry.representative_point().coords[0] if not self.geometry.is_empty else (0.0, 0.0)
            return (f"{first}'s edges do not match {whose} near ({x:.7f}, {y:.7f}): "
                    "a vertex on a shared edge is missing from one side (T-junction) or the edges cross")
        return f"{self.children[0]} has {self.area_m2:,.1f} m² outside its parent {self.parent}"


def metric_crs_for(*frames: gpd.GeoDataFrame) -> CRS:
    """The UTM zone containing the centre of the bounds of the given EPSG:4326 layers."""
    bounds = np.array([f.total_bounds for f in frames if len(f) and not f.geometry.isna().all()])
    if not len(bounds):
        return utm_crs_for(0.0, 0.0)
    x0, y0 = np.nanmin(bounds[:, :2], axis=0)
    x1, y1 = np.nanmax(bounds[:, 2:], axis=0)
    return utm_crs_for((x0 + x1) / 2, (y0 + y1) / 2)


def polygonal(geoms: Any) -> np.ndarray:
    """Geometries made valid and reduced to their polygonal parts (others become None).

    Validation reports invalid geometry once; measuring the repaired shape keeps that one problem
    from cascading into spurious gaps and buildings outside every grid.
    """
    arr = np.array(geoms, dtype=object)
    out = np.full(len(arr), None, dtype=object)
    ok = ~shapely.is_missing(arr) & ~shapely.is_empty(arr) & np.isin(shapely.get_type_id(arr), _POLYGONAL)
    out[ok] = arr[ok]
    bad = np.flatnonzero(ok & ~shapely.is_valid(arr))
    for i in bad:
        fixed = shapely.make_valid(arr[i])
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[i] = shapely.union_all(parts) if parts else None
    return out


def coverage_report(
    parents: gpd.GeoDataFrame,
    children: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = TOLERANCE_M2,
    metric_crs: CRS | None = None,
) -> list[CoverageIssue]:
    """Gaps, sibling overlaps and children outside their parent, per parent, with areas in m².

    ``parents`` needs ``code``; ``children`` needs ``code`` and ``parent_code``; both in EPSG:4326.
    Children whose parent is not among ``parents`` are ignored; a parent without children is one
    big gap. Invalid geometries are repaired first (see :func:`polygonal`).

    Fast path: with U the union of a parent P's children, the gap is area(P ∪ U) - area(U), the
    part outside is area(P ∪ U) - area(P), and overlaps add up to sum(area(child)) - area(U). Two
    unions per parent screen every parent; the costly pieces (differences, pairwise intersections)
    are computed only where one of those figures exceeds the tolerance.
    """
    crs = metric_crs or metric_crs_for(parents, children)
    parents = parents.drop_duplicates("code")
    kids = children[children["parent_code"].isin(set(parents["code"]))]
    fam = _Families(
        codes=parents["code"].to_numpy(dtype=object),
        geoms=polygonal(parents.geometry.values),
        child_codes=kids["code"].to_numpy(dtype=object),
        child_geoms=polygonal(kids.geometry.values),
        slot=pd.Index(parents["code"]).get_indexer(kids["parent_code"]),
    )
    unions = np.array([shapely.union_all(fam.child_geoms[m]) for m in fam.members()], dtype=object)
    a_parent = np.nan_to_num(shapely.area(fam.geoms))
    a_union = np.nan_to_num(shapely.area(unions))
    a_both = a_parent.copy()  # area(P ∪ U); equal to area(P) where P covers U (cheap, prepared test)
    shapely.prepare(fam.geoms)
    spill = ~shapely.covers(fam.geoms, unions) & ~shapely.is_missing(fam.geoms)
    a_both[spill] = np.nan_to_num(shapely.area(shapely.union(fam.geoms[spill], unions[spill])))
    a_sum = np.bincount(fam.slot, weights=np.nan_to_num(shapely.area(fam.child_geoms)), minlength=len(fam.codes))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.nan_to_num(area_m2(fam.geoms, crs) / a_parent)  # m² per square degree, per parent
    issues: list[CoverageIssue] = []
    for i in np.flatnonzero((a_both - a_parent) * scale > tolerance_m2):
        issues += _outside(fam, i, tolerance_m2, crs)
    for i in np.flatnonzero((a_both - a_union) * scale > tolerance_m2):
        issues += _gap(fam, i, unions[i], tolerance_m2, crs)
    for i in np.flatnonzero((a_sum - a_union) * scale > tolerance_m2):
        issues += _overlaps(fam, i, tolerance_m2, crs)
    return issues


@dataclass(frozen=True)
class _Families:
    """Parents and their children as aligned arrays; ``slot`` is each child's parent position."""

    codes: np.ndarray
    geoms: np.ndarray
    child_codes: np.ndarray
    child_geoms: np.ndarray
    slot: np.ndarray

    def members(self) -> list[np.ndarray]:
        """Positions of the children of each parent, in parent order (one sort, no quadratic scan)."""
        order = np.argsort(self.slot, kind="stable")
        bounds = np.searchsorted(self.slot[order], np.arange(len(self.codes) + 1))
        return [order[bounds[i]:bounds[i + 1]] for i in range(len(self.codes))]

    def children_of(self, i: Any) -> np.ndarray:
        return np.flatnonzero(self.slot == i)


def area_m2(geoms: Any, crs: CRS) -> np.ndarray:
    """Areas in m² of EPSG:4326 geometries, measured in the metric ``crs`` (0 for missing ones)."""
    projected = gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=WGS84).to_crs(crs)
    return cast(np.ndarray, np.nan_to_num(shapely.area(np.asarray(projected.values, dtype=object))))


def _outside(fam: _Families, i: Any, tol: float, crs: CRS) -> list[CoverageIssue]:
    kids = fam.children_of(i)
    outside = shapely.difference(fam.child_geoms[kids], fam.geoms[i])
    area = area_m2(outside, crs)
    return [
        CoverageIssue("outside", fam.codes[i], (fam.child_codes[k],), float(a), part)
        for k, a, part in zip(kids, area, outside, strict=True) if a > tol
    ]


def _gap(fam: _Families, i: Any, union: BaseGeometry | None, tol: float, crs: CRS) -> list[CoverageIssue]:
    gap = fam.geoms[i] if union is None else shapely.difference(fam.geoms[i], union)
    area = float(area_m2([gap], crs)[0])
    return [CoverageIssue("gap", fam.codes[i], (), area, gap)] if area > tol else []


def _overlaps(fam: _Families, i: Any, tol: float, crs: CRS) -> list[CoverageIssue]:
    kids = fam.children_of(i)
    geoms = fam.child_geoms[kids]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    left, right = left[left < right], right[left < right]
    shared = shapely.intersection(geoms[left], geoms[right])
    area = area_m2(shared, crs)
    issues = []
    for k in np.flatnonzero(area > tol):
        a, b = sorted((fam.child_codes[kids[left[k]]], fam.child_codes[kids[right[k]]]))
        issues.append(CoverageIssue("overlap", fam.codes[i], (a, b), float(area[k]), shared[k]))
    return issues


def coverage_edge_problems(codes: Any, geoms: Any) -> list[CoverageIssue]:
    """Units of one level whose edges do not match their neighbours' in the exact GEOS sense.

    ``shapely.coverage_invalid_edges`` (gap width 0) marks the edges of each polygon that are not
    shared exactly with a neighbour although they touch or overlap one: T-junctions (a neighbour's
    vertex lies on the edge but is not one of its vertices), crossings and overlaps. It does not see
    gaps; :func:`coverage_report` measures those. One issue per unit with invalid edges, kind
    ``"unnoded"``, ``children`` = (the unit, the neighbours the edges meet), ``geometry`` = the edges.
    Invalid geometries are repaired first (:func:`polygonal`); missing ones are skipped.
    """
    codes = np.asarray(codes, dtype=object)
    shapes = polygonal(geoms)
    present = np.flatnonzero(~shapely.is_missing(shapes))
    if len(present) < 2:
        return []
    codes, shapes = codes[present], shapes[present]
    edges = shapely.coverage_invalid_edges(shapes, gap_width=0.0)
    bad = np.flatnonzero(~shapely.is_missing(edges) & ~shapely.is_empty(edges))
    if not len(bad):
        return []
    edge_idx, unit_idx = shapely.STRtree(shapes).query(edges[bad], predicate="intersects")
    issues = []
    for k, i in enumerate(bad):
        others = sorted({codes[u] for u in unit_idx[edge_idx == k] if u != i})
        issues.append(CoverageIssue("unnoded", None, (codes[i], *others), 0.0, edges[i]))
    return issues


def points_in_polygons(
    points: gpd.GeoSeries | gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, *, code_col: str = "code"
) -> pd.Series:
    """The code of the polygon containing each point, or None when it is in none.

    Boundaries count as inside (``intersects``). A point on a boundary shared by several polygons
    gets the **lowest code** (string order, which is numeric order for codes of one level), so the
    answer never depends on row order. Missing points get None.
    """
    pts = np.asarray(points.geometry.values, dtype=object)
    polys = polygonal(polygons.geometry.values)
    codes = polygons[code_col].to_numpy(dtype=object)
    point_idx, poly_idx = shapely.STRtree(polys).query(pts, predicate="intersects")
    hits = pd.DataFrame({"point": point_idx, "code": codes[poly_idx]})
    first = hits.sort_values(["point", "code"]).drop_duplicates("point")
    result = np.full(len(pts), None, dtype=object)
    result[first["point"].to_numpy()] = first["code"].to_numpy(dtype=object)
    return pd.Series(result, index=points.index, dtype=object, name=code_col)
