"""Geometry for boundary changes: one precision grid, geodesic measures, shape descriptors.

Every overlay of a change is snap-rounded to the same grid, which makes GEOS overlays robust and
the pieces cut from a unit share identical vertices. Where a drawn line crosses the edge a unit
shares with a neighbour the change does not touch, the cut point is rounded off that edge by at
most half a grid cell; the grid is therefore fine (1e-9°, about 0.1 mm), so the hairline that this
leaves against the neighbour stays far below the 1 m² noise bound even along a 1 km edge. The
generator's 1e-7° coordinates lie on this grid. Crumbs below 1 m² that a drawn line would leave
of a unit move with the territory (:func:`absorb_slivers`), so repeated changes stay clean.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import GEOD

GRID = 1e-9  # degrees, about 0.1 mm: the precision grid of every overlay in a change
NOISE_M2 = 1.0  # areas below this are numeric noise (ARCHITECTURE.md, invariant 1)
MIN_SHARED_EDGE_M = 1.0  # units touching along less than this are not neighbours


def polygonal(geom: BaseGeometry | None) -> MultiPolygon:
    """The polygonal part of a geometry as a MultiPolygon (empty when there is none)."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon | MultiPolygon) and not p.is_empty]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polys)


def cut(a: BaseGeometry, b: BaseGeometry) -> MultiPolygon:
    """``a`` minus ``b`` on the precision grid."""
    return polygonal(shapely.difference(a, b, grid_size=GRID))


def common(a: BaseGeometry, b: BaseGeometry) -> MultiPolygon:
    """``a`` and ``b``'s common area on the precision grid."""
    return polygonal(shapely.intersection(a, b, grid_size=GRID))


def join(*geoms: BaseGeometry) -> MultiPolygon:
    """The union of ``geoms`` on the precision grid."""
    return polygonal(shapely.union_all(list(geoms), grid_size=GRID))


def absorb_slivers(territory: BaseGeometry, units: list[BaseGeometry]) -> MultiPolygon:
    """``territory`` grown by every crumb (< 1 m²) it would leave of the given units.

    A drawn line running along an edge leaves hairline remnants; moving them with the territory
    keeps every unit free of crumbs without changing what is moved in any meaningful way.
    """
    crumbs = [p for unit in units for p in cut(unit, territory).geoms if area_m2(p) < NOISE_M2]
    return join(territory, *crumbs) if crumbs else polygonal(territory)


def area_m2(geom: BaseGeometry | None) -> float:
    """Geodesic area on the WGS84 ellipsoid, m²."""
    if geom is None or geom.is_empty:
        return 0.0
    area, _ = GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


def perimeter_m(geom: BaseGeometry | None) -> float:
    """Geodesic perimeter, m."""
    if geom is None or geom.is_empty:
        return 0.0
    _, perimeter = GEOD.geometry_area_perimeter(geom)
    return float(perimeter)


def shared_edge_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Geodesic length of the boundary two units share (0 when they only touch at points)."""
    shared = shapely.intersection(a.boundary, b.boundary, grid_size=GRID)
    lines = [g for g in shapely.get_parts(shared) if g.geom_type in ("LineString", "MultiLineString")]
    return float(sum(GEOD.geometry_length(g) for g in lines))


def polsby_popper(geom: BaseGeometry | None) -> float:
    """Compactness 4πA/P²: 1 for a circle, near 0 for a ragged or stringy shape."""
    perimeter = perimeter_m(geom)
    return 4 * math.pi * area_m2(geom) / perimeter**2 if perimeter else 0.0


def parts(geom: BaseGeometry | None) -> int:
    """Number of separate pieces larger than numeric noise."""
    return sum(1 for p in polygonal(geom).geoms if area_m2(p) >= NOISE_M2)


def describe(geom: BaseGeometry | None) -> dict[str, Any]:
    """Area, parts, contiguity and compactness of a unit's shape."""
    pieces = parts(geom)
    return {
        "area_km2": round(area_m2(geom) / 1e6, 6),
        "parts": pieces,
        "contiguous": pieces == 1,
        "compactness": round(polsby_popper(geom), 4),
    }
