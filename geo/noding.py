"""Noding: every vertex that lies on another unit's boundary becomes a vertex of that boundary too.

A valid polygonal coverage in the exact GEOS sense (``shapely.coverage_is_valid``) needs neighbours
to share vertices along every shared edge. A cut whose end point lands on a neighbour's edge, or an
imported layer drawn with independent vertex lists, leaves a T-junction: the point is a vertex of one
unit and merely lies on the other's segment. Inserting it there changes no shape (the point is on the
segment, within ``TOLERANCE``) and makes the edges match, which ``coverage_union`` and
``coverage_simplify`` rely on.

Why not ``shapely.snap``: it does insert points into segments (several per segment, holes and
multipolygons included), but it also *moves* existing vertices onto reference points within the
tolerance — a vertex 1e-9° from a neighbour's is replaced rather than kept — so the unit loses the
vertex its other neighbours share, and snapping is not idempotent across a set. This module only
ever inserts the exact coordinates of other units' vertices and never moves or drops one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.reassign.geometry import GRID

TOLERANCE = 2 * GRID  # degrees: a point this close to a segment lies on it (twice the change grid)


def node_geometries(
    geoms: Iterable[BaseGeometry | None],
    extra_points: Iterable[Any] | None = None,
    tolerance: float = TOLERANCE,
) -> tuple[np.ndarray, int]:
    """Insert into every polygon ring each vertex of another polygon (or extra point) lying on it.

    ``geoms`` are Polygons or MultiPolygons (EPSG:4326; None and other types pass through);
    ``extra_points`` are (x, y) pairs or Points to insert wherever they lie on a boundary. A point
    within ``tolerance`` of a ring segment that is not already a vertex of that ring is inserted with
    its exact coordinates, in order along the segment. A polygon's own vertices are never inserted
    into itself (that could pinch a near-touching ring). Returns the noded geometries (an object
    array; a geometry with nothing to insert is the same object) and the number of vertices added.
    Our own insertion, not ``shapely.snap``, which moves existing vertices (see the module docstring).
    """
    arr = _as_array(geoms)
    xy, owner = _vertices(arr)
    if extra_points is not None:
        extra = _points_xy(extra_points)
        xy = np.vstack([xy, extra])
        owner = np.concatenate([owner, np.full(len(extra), -1)])
    return _insert(arr, xy, owner, tolerance)


def node_neighbourhood(
    changed: Mapping[str, BaseGeometry],
    neighbours: Mapping[str, BaseGeometry],
    tolerance: float = TOLERANCE,
) -> tuple[dict[str, BaseGeometry], dict[str, BaseGeometry]]:
    """``changed`` and ``neighbours`` noded against each other, for a boundary change.

    ``changed`` holds the after-geometries of every unit a change touches (all levels); ``neighbours``
    the current geometries of every unit touching them (any level, any parent). The changed units gain
    every vertex of any unit in either set that lies on their boundary; a neighbour gains the vertices
    of the changed units that lie on its boundary (not those of other neighbours: T-junctions already
    standing between untouched units are not this change's to fix). Returns all changed units (noded)
    and only the neighbours that gained a vertex, which the caller writes as new versions. A code in
    both mappings counts as changed.
    """
    codes = list(changed)
    others = [c for c in neighbours if c not in changed]
    fixed = _as_array([neighbours[c] for c in others])
    moved = _canonical(_as_array([changed[c] for c in codes]), fixed, tolerance)
    both = np.concatenate([moved, fixed]) if len(fixed) else moved
    xy, owner = _vertices(both)
    noded, _ = _insert(both[: len(codes)], xy, owner, tolerance)
    out_changed = dict(zip(codes, noded, strict=True))
    own_xy, own_owner = _vertices(noded)
    # Offset the owners so no changed unit's vertex is mistaken for a neighbour's own vertex.
    touched, _ = _insert(both[len(codes):], own_xy, own_owner + len(both), tolerance)
    gained = {c: g for c, g, before in zip(others, touched, both[len(codes):], strict=True) if g is not before}
    return out_changed, gained


def _canonical(changed: np.ndarray, fixed: np.ndarray, tol: float) -> np.ndarray:
    """``changed`` with vertices closer than ``tol`` to another vertex made one and the same.

    A change computes each level's new shapes in its own overlay, on the precision grid; where a cut
    crosses an edge that one level holds as one segment and another as several, the crossing can round
    to grid points one step apart (1e-9°). Two such vertices would each be inserted beside the other,
    and the neighbours' edges would never match. So every cluster of vertices within ``tol`` takes one
    representative: an existing vertex of an unchanged unit if there is one (those never move), else the
    smallest. Moving a vertex by at most a few 1e-9° changes no area beyond numeric noise.
    """
    ok = np.flatnonzero(_polygonal(changed))
    if not len(ok):
        return changed
    own = np.unique(shapely.get_coordinates(changed[ok]), axis=0)  # sorted: the smallest comes first
    fixed_xy = np.unique(shapely.get_coordinates(fixed[_polygonal(fixed)]), axis=0) if len(fixed) else own[:0]
    xy = np.vstack([fixed_xy, own])
    left, right = shapely.STRtree(shapely.points(xy)).query(shapely.points(own), predicate="dwithin", distance=tol)
    left = left + len(fixed_xy)
    root = np.arange(len(xy))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = int(root[i])
        return i

    for i, j in zip(left, right, strict=True):
        a, b = find(int(i)), find(int(j))
        if a != b:
            root[max(a, b)] = min(a, b)  # the lower index wins: fixed vertices first, then the smallest
    target = {tuple(xy[i]): xy[find(i)] for i in range(len(fixed_xy), len(xy)) if find(i) != i}
    if not target:
        return changed

    def snap(coords: np.ndarray) -> np.ndarray:
        return np.array([target.get((x, y), (x, y)) for x, y in coords], dtype=float)

    out = changed.copy()
    for i in ok:
        if any(tuple(c) in target for c in shapely.get_coordinates(changed[i])):
            snapped = shapely.remove_repeated_points(shapely.transform(changed[i], snap))
            out[i] = snapped if snapped.is_valid else _polygons_of(shapely.make_valid(snapped))
    return out


def _polygons_of(geom: BaseGeometry) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    return MultiPolygon(parts)


def _as_array(geoms: Iterable[BaseGeometry | None]) -> np.ndarray:
    items = list(geoms)
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


def _points_xy(points: Iterable[Any]) -> np.ndarray:
    rows = [shapely.get_coordinates(p)[0] if isinstance(p, BaseGeometry) else p for p in points]
    return np.asarray(rows, dtype=float).reshape(-1, 2)


def _polygonal(arr: np.ndarray) -> np.ndarray:
    kinds = shapely.get_type_id(arr)
    ok = np.isin(kinds, (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON))
    result: np.ndarray = ok & ~shapely.is_empty(arr)
    return result


def _vertices(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct vertices of each polygonal geometry, with the position of the geometry owning them."""
    ok = np.flatnonzero(_polygonal(arr))
    if not len(ok):
        return np.empty((0, 2)), np.empty(0, dtype=int)
    xy, index = shapely.get_coordinates(arr[ok], return_index=True)
    owner = ok[index]
    rows = np.unique(np.column_stack([owner, xy]), axis=0)
    return rows[:, 1:], rows[:, 0].astype(int)


def _insert(targets: np.ndarray, xy: np.ndarray, owner: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """Insert the points ``xy`` (owned by position ``owner``) into the target boundaries they lie on.

    One vectorised pass finds candidate (point, target) pairs: an STRtree of the points queried with
    every ring segment's box grown by ``tol``, minus the pairs where the point is the target's own
    or an end of the segment (the shared vertices of a noded coverage, nearly all hits), then a numpy
    point-segment distance. Only the few targets left are rebuilt, ring by ring.
    """
    out = targets.copy()
    ok = np.flatnonzero(_polygonal(targets))
    if not len(ok) or not len(xy):
        return out, 0
    start, end, seg_target = _segments(targets, ok)
    low, high = np.minimum(start, end) - tol, np.maximum(start, end) + tol
    hit_seg, hit_point = shapely.STRtree(shapely.points(xy)).query(shapely.box(*low.T, *high.T))
    target = seg_target[hit_seg]
    p, a, b = xy[hit_point], start[hit_seg], end[hit_seg]
    keep = (owner[hit_point] != target) & ~(p == a).all(axis=1) & ~(p == b).all(axis=1)
    keep[keep] = _distance(p[keep], a[keep], b[keep]) <= tol
    target, hit_point = target[keep], hit_point[keep]
    if not len(target):
        return out, 0
    added = 0
    order = np.argsort(target, kind="stable")
    target, hit_point = target[order], hit_point[order]
    firsts = np.flatnonzero(np.r_[True, target[1:] != target[:-1]])
    for t, points in zip(target[firsts], np.split(hit_point, firsts[1:]), strict=True):
        pts = np.unique(xy[points], axis=0)
        geom, n = _node_one(targets[t], pts, tol)
        if n:
            out[t], added = geom, added + n
    return out, added


def _segments(targets: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end points of every ring segment of the polygonal ``targets[ok]``, and their target."""
    parts, part_of = shapely.get_parts(targets[ok], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    same_ring = coord_of[:-1] == coord_of[1:]
    target = ok[part_of[ring_of[coord_of[:-1][same_ring]]]]
    return coords[:-1][same_ring], coords[1:][same_ring], target


def _distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Planar distance from each point ``p`` to the segment from ``a`` to ``b`` (row-wise)."""
    d = b - a
    length2 = (d**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length2 > 0, ((p - a) * d).sum(axis=1) / length2, 0.0)
    closest = a + np.clip(t, 0, 1)[:, None] * d
    result: np.ndarray = np.hypot(*(p - closest).T)
    return result


def _node_one(geom: BaseGeometry, pts: np.ndarray, tol: float) -> tuple[BaseGeometry, int]:
    """``geom`` with the points ``pts`` inserted into the rings they lie on; the count inserted."""
    polygons = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    rebuilt, added = [], 0
    for poly in polygons:
        rings = [np.asarray(poly.exterior.coords)[:, :2]] + [np.asarray(r.coords)[:, :2] for r in poly.interiors]
        new_rings = []
        for ring in rings:
            coords, n = _node_ring(ring, pts, tol)
            new_rings.append(coords)
            added += n
        rebuilt.append(Polygon(new_rings[0], new_rings[1:]))
    if not added:
        return geom, 0
    return (MultiPolygon(rebuilt) if isinstance(geom, MultiPolygon) else rebuilt[0]), added


def _node_ring(ring: np.ndarray, pts: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """One closed ring with the points on it inserted, each on its nearest segment, ordered along it.

    A point that equals a vertex of the ring is skipped; a point within ``tol`` of a vertex but not
    equal to it is inserted next to that vertex (on the nearer segment), so nothing is ever moved.
    """
    is_vertex = (pts[:, None, :] == ring[None, :, :]).all(axis=2).any(axis=1)
    pts = pts[~is_vertex]
    if not len(pts):
        return ring, 0
    a, b = ring[:-1], ring[1:]
    d = b - a  # (n, 2)
    length2 = (d**2).sum(axis=1)
    rel = pts[:, None, :] - a[None, :, :]  # (k, n, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length2 > 0, (rel * d[None]).sum(axis=2) / length2, 0.0)
    closest = a[None] + np.clip(t, 0, 1)[..., None] * d[None]
    dist = np.hypot(*(pts[:, None, :] - closest).transpose(2, 0, 1))
    segment = dist.argmin(axis=1)
    on = dist[np.arange(len(pts)), segment] <= tol
    if not on.any():
        return ring, 0
    pts, segment = pts[on], segment[on]
    param = t[np.flatnonzero(on), segment]
    order = np.lexsort((param, segment))
    pts, segment = pts[order], segment[order]
    coords = np.insert(ring[:-1], segment + 1, pts, axis=0)  # each after its segment's start, in order
    return np.vstack([coords, coords[:1]]), len(pts)
