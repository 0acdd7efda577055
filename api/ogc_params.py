"""Query parameters of OGC API Features items, parsed as Part 1 and its clients expect.

``datetime`` is an instant or an interval (``A/B``, ``../B``, ``A/..``; GDAL sends ``2024-01-01T/..``);
``bbox`` has 4 or 6 numbers and may cross the antimeridian (``minLon > maxLon``); documented
properties filter by equality (``?kind=urban``; repeat for any of several values). Anything else is
an unknown parameter. Every mistake is a :class:`BadParameter`, answered with 400 (Part 1).
"""

from __future__ import annotations

import datetime as dt
import math

from geo.errors import InvalidInput
from geo.feature_schema import Collection, Field
from geo.features import Box, Period

# Parameters of the items operation besides the collection's queryables. ``f`` (json/geojson)
# and the CRS84 ``crs``/``bbox-crs`` are accepted because common clients send them.
ITEMS_PARAMETERS = frozenset({"limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f"})
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# EPSG:4326 is not among them: its axis order is lat/lon, and coordinates here are lon/lat.
_CRS84_NAMES = {CRS84, "http://www.opengis.net/def/crs/OGC/1.3/CRS84h"}


class BadParameter(InvalidInput):
    """A query parameter of an OGC API Features request that cannot be used (HTTP 400)."""


def _instant(text: str, field: str) -> dt.date:
    """A date, ``YYYY-MM-DDT`` (GDAL) or an RFC 3339 date-time, as the day it falls on."""
    value = text.strip()
    try:
        if len(value) == 10 or (len(value) == 11 and value[10] in "Tt"):
            return dt.date.fromisoformat(value[:10])
        if len(value) < 11 or value[10] not in "Tt":
            raise ValueError(value)
        return dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00")).date()
    except ValueError:
        raise BadParameter(
            f"datetime {text!r} is not a date (YYYY-MM-DD) or RFC 3339 date-time / datetime 不是日期或时间",
            field=field,
        ) from None


def parse_period(value: str | None, *, today: dt.date) -> Period:
    """``datetime`` as a :class:`Period` of days; absent means today."""
    if value is None or value == "":
        return Period.day(today)
    if "/" not in value:
        return Period.day(_instant(value, "datetime"))
    parts = value.split("/")
    if len(parts) != 2:
        raise BadParameter(f"datetime {value!r} has more than one '/'; an interval is start/end", field="datetime")
    start, end = (None if p in ("..", "") else _instant(p, "datetime") for p in parts)
    if start is not None and end is not None and start > end:
        raise BadParameter(f"datetime interval {value!r} ends before it starts / 时间区间的结束早于开始",
                           field="datetime")
    return Period(start, end)


def parse_boxes(value: str | None) -> list[Box]:
    """``bbox`` as one box, or two when it crosses the antimeridian; empty when absent."""
    if value is None or value == "":
        return []
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise BadParameter(
            f"bbox needs 4 numbers (minLon,minLat,maxLon,maxLat) or 6 (with minZ and maxZ); got {len(parts)} / "
            "bbox 需要4个或6个数", field="bbox")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise BadParameter(f"bbox {value!r} has a value that is not a number / bbox 含非数字", field="bbox") from None
    if not all(math.isfinite(v) for v in numbers):
        raise BadParameter("bbox values must be finite numbers", field="bbox")
    minx, miny, maxx, maxy = numbers if len(numbers) == 4 else (numbers[0], numbers[1], numbers[3], numbers[4])
    if len(numbers) == 6 and numbers[2] > numbers[5]:
        raise BadParameter("bbox minimum height is greater than its maximum", field="bbox")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise BadParameter("bbox is out of range: lon within ±180, lat within ±90 / bbox 超出范围", field="bbox")
    if miny > maxy:
        raise BadParameter("bbox minimum latitude is greater than its maximum (order: minLon,minLat,maxLon,maxLat)",
                           field="bbox")
    if minx > maxx:  # across the antimeridian: east of minx, and west of maxx
        return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    return [(minx, miny, maxx, maxy)]


def _typed(f: Field, raw: str) -> object:
    if f.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise BadParameter(f"{f.name} must be an integer, not {raw!r}", field=f.name) from None
    if f.type == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise BadParameter(f"{f.name} must be a date (YYYY-MM-DD), not {raw!r}", field=f.name) from None
    return raw


def parse_filters(coll: Collection, role: str, params: list[tuple[str, str]]) -> dict[str, list[object]]:
    """Property filters from the query string; an unknown parameter is refused, naming it."""
    queryable = coll.queryable(role)
    filters: dict[str, list[object]] = {}
    for name, raw in params:
        if name in ITEMS_PARAMETERS:
            continue
        f = queryable.get(name)
        if f is None:
            raise BadParameter(
                f"unknown query parameter {name!r} / 未知参数; use limit, offset, bbox, datetime or a queryable "
                f"of {coll.id}: {', '.join(queryable)}", field=name)
        filters.setdefault(name, []).append(_typed(f, raw))
    return filters


def check_crs(params: dict[str, str]) -> None:
    """Only CRS84 (lon/lat) is served; other ``crs``/``bbox-crs`` values are refused."""
    for name in ("crs", "bbox-crs"):
        value = params.get(name)
        if value is not None and value not in _CRS84_NAMES:
            raise BadParameter(f"{name} {value!r} is not supported; only {CRS84}", field=name)
    fmt = params.get("f")
    if fmt is not None and fmt not in ("json", "geojson"):
        raise BadParameter(f"f={fmt!r} is not supported; only json or geojson", field="f")
