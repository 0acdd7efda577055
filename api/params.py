"""Query parameters shared by routes, parsed into domain values with field-named errors.

Small dependencies in the titiler style: each turns raw query strings into one checked value
and raises :class:`geo.errors.InvalidInput` naming the field and the problem.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from fastapi import Depends, Query, Request

from geo.errors import InvalidInput

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Point:
    """A checked lon/lat in EPSG:4326."""

    lon: float
    lat: float


def _inside(extent: BBox | None, lon: float, lat: float) -> bool:
    return extent is not None and extent[0] <= lon <= extent[2] and extent[1] <= lat <= extent[3]


def check_point(lon: float, lat: float, extent: BBox | None, *, prefix: str = "") -> Point:
    """A point in range; lon/lat that look swapped (the swap lies in the data) are refused as such."""
    for name, value in (("lon", lon), ("lat", lat)):
        if not math.isfinite(value):
            raise InvalidInput(f"{name} must be a finite number, not {value}", field=prefix + name)
    in_range = -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
    if not _inside(extent, lon, lat) and _inside(extent, lat, lon):
        raise InvalidInput(
            f"lon={lon}, lat={lat} look swapped: ({lat}, {lon}) lies in the data; give lon first",
            field=prefix + "lon",
        )
    if not in_range:
        field = "lon" if not -180.0 <= lon <= 180.0 else "lat"
        bound = 180 if field == "lon" else 90
        raise InvalidInput(f"{field} must be between -{bound} and {bound}", field=prefix + field)
    return Point(lon, lat)


def check_points(lons: np.ndarray, lats: np.ndarray, extent: BBox | None, *, prefix: str = "points") -> None:
    """:func:`check_point` over arrays at once; the first bad point is reported as ``points[i].lon``."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lons) & np.isfinite(lats) & (np.abs(lons) <= 180.0) & (np.abs(lats) <= 90.0)
        if extent is not None:
            inside = (lons >= extent[0]) & (lons <= extent[2]) & (lats >= extent[1]) & (lats <= extent[3])
            swapped = (lats >= extent[0]) & (lats <= extent[2]) & (lons >= extent[1]) & (lons <= extent[3])
            ok &= inside | ~swapped
    bad = np.flatnonzero(~ok)
    if len(bad):
        i = int(bad[0])
        check_point(float(lons[i]), float(lats[i]), extent, prefix=f"{prefix}[{i}].")


def data_extent(request: Request) -> BBox | None:
    """The extent of the loaded districts, cached on the app (refreshed after imports)."""
    extent: BBox | None = request.app.state.extent
    return extent


async def point_query(
    request: Request,
    lon: Annotated[float, Query(allow_inf_nan=False, description="Longitude, EPSG:4326.", examples=[105.9437])],
    lat: Annotated[float, Query(allow_inf_nan=False, description="Latitude, EPSG:4326.", examples=[26.2455])],
) -> Point:
    """``lon`` and ``lat`` query parameters as a checked point."""
    return check_point(lon, lat, data_extent(request))


PointDep = Annotated[Point, Depends(point_query)]


def parse_datetime(value: str | None) -> dt.date:
    """An OGC ``datetime`` instant (date or RFC 3339 date-time) as the as-of day; today when absent."""
    if value is None or value == "":
        return dt.date.today()
    if "/" in value:
        raise InvalidInput(
            "datetime intervals are not supported: give one date or date-time (the map as of that day)",
            field="datetime",
        )
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise InvalidInput(
            f"datetime {value!r} is not a date (YYYY-MM-DD) or RFC 3339 date-time", field="datetime"
        ) from None


async def as_of_query(
    datetime: Annotated[
        str | None,
        Query(description="As-of date (YYYY-MM-DD or RFC 3339 date-time); default today.", examples=["2025-06-30"]),
    ] = None,
) -> dt.date:
    """The ``datetime`` query parameter as an as-of day."""
    return parse_datetime(datetime)


AsOfDep = Annotated[dt.date, Depends(as_of_query)]


def parse_bbox(value: str | None) -> BBox | None:
    """``minx,miny,maxx,maxy`` in lon/lat, checked; None when absent."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InvalidInput(
            f"bbox needs 4 numbers minLon,minLat,maxLon,maxLat; got {len(parts)} value(s)", field="bbox"
        )
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox {value!r} has a value that is not a number", field="bbox") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InvalidInput("bbox values must be finite numbers", field="bbox")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput("bbox is out of range: lon within ±180, lat within ±90", field="bbox")
    if minx > maxx or miny > maxy:
        raise InvalidInput("bbox minimum is greater than its maximum (order: minLon,minLat,maxLon,maxLat)",
                           field="bbox")
    return (minx, miny, maxx, maxy)


async def bbox_query(
    bbox: Annotated[
        str | None,
        Query(description="minLon,minLat,maxLon,maxLat (EPSG:4326).", examples=["105.93,26.24,105.95,26.26"]),
    ] = None,
) -> BBox | None:
    """The ``bbox`` query parameter."""
    return parse_bbox(bbox)


BBoxDep = Annotated[BBox | None, Depends(bbox_query)]
