"""Feature queries for OGC API Features: pages of a collection filtered by box, time and properties.

A collection is a view of one versioned table (units of one level, buildings, stations). Queries
use the spatial index for boxes. Serialization is vectorised: geometries go WKB -> GeoJSON text in
one shapely call and travel as pre-encoded JSON fragments (``orjson.Fragment``), totals join as
arrays, so a page of a thousand grids costs a few milliseconds of Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import shapely
from sqlalchemy import Connection, text

from geo.errors import NotFound
from geo.feature_schema import COLLECTIONS, Collection, get_collection
from geo.sql import is_sqlite
from geo.store import as_date
from geo.totals import TotalsCache

__all__ = ["COLLECTIONS", "Collection", "Page", "Period", "first_valid_day", "get_collection", "get_item",
           "query_items"]

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Period:
    """Days from ``start`` to ``end``, both included; ``None`` is an open end. An instant has start == end.

    A version valid over ``[valid_from, valid_to)`` meets the period when it starts on or before its
    end and ends after its start.
    """

    start: dt.date | None
    end: dt.date | None

    @classmethod
    def day(cls, day: dt.date) -> Period:
        return cls(day, day)


@dataclass(frozen=True)
class Page:
    """One page of features and the total number matching."""

    features: list[dict[str, Any]]
    number_matched: int


@dataclass(frozen=True)
class Query:
    """What to select: boxes (two for one across the antimeridian), a period, equality filters."""

    period: Period
    boxes: Sequence[Box] = ()
    filters: Mapping[str, Sequence[Any]] = field(default_factory=dict)


def _box_clause(conn: Connection, coll: Collection, i: int) -> str:
    names = f":minx{i}, :miny{i}, :maxx{i}, :maxy{i}"
    if is_sqlite(conn):
        frame = f"BuildMbr({names}, 4326)"
        index = (f"{coll.table}.id IN (SELECT rowid FROM SpatialIndex WHERE f_table_name = '{coll.table}' "
                 f"AND f_geometry_column = 'geom' AND search_frame = {frame})")
        return f"({index} AND ST_Intersects(geom, {frame}))"
    return f"ST_Intersects(geom, ST_MakeEnvelope({names}, 4326))"


def _where(conn: Connection, coll: Collection, query: Query, role: str) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if query.period.end is not None:
        clauses.append("valid_from <= :period_end")
        params["period_end"] = query.period.end
    if query.period.start is not None:
        clauses.append("(valid_to IS NULL OR valid_to > :period_start)")
        params["period_start"] = query.period.start
    if coll.level:
        clauses.append("level = :level")
        params["level"] = coll.level
    if query.boxes:
        clauses.append("(" + " OR ".join(_box_clause(conn, coll, i) for i in range(len(query.boxes))) + ")")
        for i, box in enumerate(query.boxes):
            params.update(zip((f"minx{i}", f"miny{i}", f"maxx{i}", f"maxy{i}"), box, strict=True))
    queryable = coll.queryable(role)
    for name, values in query.filters.items():
        column = queryable[name].name  # a declared identifier, never the caller's text
        names = [f"f_{column}_{j}" for j in range(len(values))]
        clauses.append(f"{column} IN ({', '.join(':' + n for n in names)})")
        params.update(zip(names, values, strict=True))
    return " AND ".join(clauses) or "1 = 1", params


def _select(coll: Collection, role: str, *, counted: bool = False) -> str:
    """Code, visible columns, validity, WKB, and (``counted``) the number of rows matched, in one round trip."""
    columns = ", ".join(f.name for f in coll.columns(role))
    count = ", count(*) OVER ()" if counted else ""
    return (f"SELECT code, {columns + ', ' if columns else ''}valid_from, valid_to, ST_AsBinary(geom){count} "
            f"FROM {coll.table}")


def _totals_day(period: Period, valid_from: Any, valid_to: Any, today: dt.date) -> dt.date:
    """The day whose totals a unit version shows: the last day of the period it is valid on."""
    day = period.end or max(today, period.start or today)
    end = as_date(valid_to)
    if end is not None and day >= end:
        day = end - dt.timedelta(days=1)
    start = as_date(valid_from)
    return max(day, start) if start is not None else day


def _totals(
    conn: Connection, cache: TotalsCache, coll: Collection, role: str, period: Period, rows: Sequence[Any]
) -> list[list[int]] | None:
    names = [f.name for f in coll.totals(role)]
    if not names or not rows:
        return None
    n = len(coll.columns(role))
    today = dt.date.today()
    if period.start is not None and period.start == period.end:  # an instant: one day for every row
        days = [period.start] * len(rows)
    else:
        days = [_totals_day(period, r[n + 1], r[n + 2], today) for r in rows]
    zeros = [0] * len(names)
    lookups = {day: _lookup(cache.get(conn, day), tuple(names)) for day in set(days)}
    return [lookups[day].get(r[0], zeros) for r, day in zip(rows, days, strict=True)]


_LOOKUPS: dict[tuple[int, tuple[str, ...]], tuple[Any, dict[str, list[int]]]] = {}


def _lookup(table: Any, names: tuple[str, ...]) -> dict[str, list[int]]:
    """Totals of every unit as a dict of plain ints, built once per totals table (the cache's frames live on)."""
    key = (id(table), names)
    hit = _LOOKUPS.get(key)
    if hit is not None and hit[0] is table:
        return hit[1]
    values = table[list(names)].fillna(0).astype("int64").to_numpy().tolist()
    lookup = dict(zip(table.index.tolist(), values, strict=True))
    if len(_LOOKUPS) >= 16:
        _LOOKUPS.pop(next(iter(_LOOKUPS)))
    _LOOKUPS[key] = (table, lookup)
    return lookup


def _features(coll: Collection, role: str, rows: Sequence[Any], totals: list[list[int]] | None) -> list[dict[str, Any]]:
    if not rows:
        return []
    keys = ("code", *(f.name for f in coll.columns(role)))
    n = len(keys)
    geometries = shapely.to_geojson(shapely.from_wkb([bytes(r[n + 2]) for r in rows])).tolist()
    if totals is None:
        values = [tuple(r[:n]) for r in rows]
    else:
        keys += tuple(f.name for f in coll.totals(role))
        values = [tuple(r[:n]) + tuple(t) for r, t in zip(rows, totals, strict=True)]
    fragment = orjson.Fragment
    return [{"type": "Feature", "id": v[0], "geometry": fragment(g), "properties": dict(zip(keys, v, strict=True))}
            for v, g in zip(values, geometries, strict=True)]


def query_items(
    conn: Connection,
    coll: Collection,
    *,
    query: Query,
    role: str,
    limit: int,
    offset: int,
    totals: TotalsCache,
) -> Page:
    """Features of ``coll`` meeting ``query`` as ``role`` may see them, ordered by code and version, one page."""
    where, params = _where(conn, coll, query, role)
    rows = conn.execute(
        text(f"{_select(coll, role, counted=True)} WHERE {where} ORDER BY code, version LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).all()
    if rows:
        matched = rows[0][-1]
    else:  # past the end (or nothing matches): the window count has no row to ride on
        matched = conn.execute(text(f"SELECT count(*) FROM {coll.table} WHERE {where}"), params).scalar_one()
    unit_totals = _totals(conn, totals, coll, role, query.period, rows)
    return Page(_features(coll, role, rows, unit_totals), int(matched))


def get_item(
    conn: Connection, coll: Collection, code: str, *, period: Period, role: str, totals: TotalsCache
) -> dict[str, Any]:
    """One feature by code: its newest version meeting ``period``, or NotFound."""
    where, params = _where(conn, coll, Query(period), role)
    row = conn.execute(
        text(f"{_select(coll, role)} WHERE {where} AND code = :code ORDER BY version DESC LIMIT 1"),
        {**params, "code": code},
    ).first()
    if row is None:
        raise NotFound(f"no feature {code!r} in {coll.id} in that time", field="featureId")
    return _features(coll, role, [row], _totals(conn, totals, coll, role, period, [row]))[0]


def first_valid_day(conn: Connection, coll: Collection) -> dt.date | None:
    """The first day any version in the collection is valid (the start of its temporal extent)."""
    level = " WHERE level = :level" if coll.level else ""
    first = conn.execute(
        text(f"SELECT min(valid_from) FROM {coll.table}{level}"), {"level": coll.level} if coll.level else {}
    ).scalar_one()
    return as_date(first)
