"""Limits on drawn geometry (a move's ``area``, a split's ``parts``): vertex count and size, with a clear 422.

200,000 vertices held the GIL for ~12 s in ``is_valid`` and 1,000,000 ran for over 500 s. The
vertices are counted in the raw GeoJSON, before shapely parses anything, so the refusal is cheap;
under the cap, validation and the change's geometry take well under a second.
"""

from __future__ import annotations

from typing import Any

from geo.errors import InvalidInput

MAX_VERTICES = 20_000  # per request (area, or all parts together); a hand-drawn polygon has tens to hundreds
MAX_AREA_KM2 = 5_000.0  # larger than a Chinese district (Xixiu: ~1,700 km²); a drawn area is clipped to A anyway


def count_vertices(data: Any, limit: int) -> int:
    """Positions in a GeoJSON geometry's ``coordinates`` (stops counting past ``limit``)."""
    count = 0
    stack = [data.get("coordinates") if isinstance(data, dict) else None]
    if isinstance(data, dict) and data.get("type") == "GeometryCollection":
        stack = [g.get("coordinates") for g in data.get("geometries") or [] if isinstance(g, dict)]
    while stack and count <= limit:
        item = stack.pop()
        if isinstance(item, list):
            if item and all(isinstance(v, (int, float)) for v in item):
                count += 1
            else:
                stack.extend(item)
    return count


def check_vertices(geometries: list[Any], field: str, limit: int = MAX_VERTICES) -> None:
    """422 naming ``field`` when the geometries have more than ``limit`` vertices in all."""
    total = 0
    for data in geometries:
        total += count_vertices(data, limit - total)
        if total > limit:
            raise InvalidInput(f"{field} has more than {limit:,} vertices; simplify the drawing", field=field,
                               zh=f"{field} 的顶点超过 {limit:,} 个，请简化所画的图形")


def check_area(geom: Any, field: str, limit_km2: float = MAX_AREA_KM2) -> Any:
    """``geom`` (lon/lat) unchanged, or 422 when its geodesic area is larger than ``limit_km2``."""
    from geo.crs import geodesic_area_m2

    if geom is None or geom.is_empty:
        return geom
    area_km2 = abs(geodesic_area_m2(geom)) / 1e6
    if area_km2 > limit_km2:
        raise InvalidInput(f"{field} covers {area_km2:,.0f} km², more than the {limit_km2:,.0f} km² allowed",
                           field=field,
                           zh=f"{field} 面积为 {area_km2:,.0f} 平方公里，超过上限 {limit_km2:,.0f} 平方公里")
    return geom
