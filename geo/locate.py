"""Which units contain a point, at every level, as of a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
from sqlalchemy import Connection, text

from geo.domain import LEVELS
from geo.sql import bbox_filter, point_sql
from geo.store import AS_OF


@dataclass(frozen=True)
class LocatedUnit:
    """A unit containing the query point."""

    code: str
    name: str
    name_en: str | None
    level: str
    version: int


def locate(conn: Connection, lon: float, lat: float, *, as_of: dt.date) -> list[LocatedUnit]:
    """Units containing the point at each level, top down. On a shared boundary the lowest code wins."""
    params = {"lon": lon, "lat": lat, "minx": lon, "miny": lat, "maxx": lon, "maxy": lat, "as_of": as_of}
    rows = conn.execute(
        text(
            "SELECT code, name, name_en, level, version FROM units "
            f"WHERE {bbox_filter(conn, 'units')} AND ({AS_OF}) "
            f"AND ST_Intersects(geom, {point_sql(conn)}) ORDER BY code"
        ),
        params,
    ).all()
    first: dict[str, LocatedUnit] = {}
    for code, name, name_en, level, version in rows:
        first.setdefault(level, LocatedUnit(code, name, name_en, level, int(version)))
    return [first[lv.value] for lv in LEVELS if lv.value in first]


def data_extent(conn: Connection) -> tuple[float, float, float, float] | None:
    """Bounding box (minx, miny, maxx, maxy) of the current districts, or None when empty."""
    rows = conn.execute(
        text("SELECT ST_AsBinary(geom) FROM units WHERE level = 'district' AND valid_to IS NULL")
    ).scalars().all()
    if not rows:
        return None
    bounds = shapely.total_bounds(shapely.from_wkb([bytes(r) for r in rows]))
    return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))
