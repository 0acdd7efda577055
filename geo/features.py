"""Feature collections for OGC API Features: the layers, paged and filtered by box and date.

A collection is a view of one versioned table (units of one level, buildings, stations). Queries
use the spatial index for ``bbox`` and return plain dicts ready to become GeoJSON features.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import Connection, text

from geo.errors import NotFound
from geo.sql import bbox_filter, is_sqlite
from geo.store import AS_OF, as_date
from geo.totals import TotalsCache


@dataclass(frozen=True)
class Collection:
    """One OGC collection: which table, which rows, which columns become properties."""

    id: str
    title: str
    description: str
    table: str
    columns: tuple[str, ...]
    level: str | None = None

    @property
    def is_unit(self) -> bool:
        return self.level is not None


_UNIT_COLUMNS = ("name", "name_en", "level", "kind", "parent_code", "version", "valid_from", "valid_to")
_TOTALS = ("residents", "households", "buildings", "elderly", "children", "special_care", "workers")

COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection("subdistricts", "Sub-districts and towns (街道/乡镇)", "Township-level units with totals.",
                   "units", _UNIT_COLUMNS, level="subdistrict"),
        Collection("communities", "Communities and villages (社区/村)", "Village-level units with totals.",
                   "units", _UNIT_COLUMNS, level="community"),
        Collection("grids", "Grids (网格)", "Management grids with totals.", "units", _UNIT_COLUMNS, level="grid"),
        Collection("buildings", "Buildings (楼栋)", "Where residents live, with populations.", "buildings",
                   ("grid_code", "address", "households", "residents", "elderly", "children", "special_care",
                    "version", "valid_from", "valid_to")),
        Collection("stations", "Service stations", "Party service centres, new-employment stations and more.",
                   "stations", ("name", "name_en", "kind", "capacity", "community_code", "version", "valid_from",
                                "valid_to")),
    )
}


def get_collection(collection_id: str) -> Collection:
    """The collection of that id, or NotFound listing the valid ones."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"unknown collection {collection_id!r}; collections are {', '.join(COLLECTIONS)}", field="collectionId"
        ) from None


@dataclass(frozen=True)
class Page:
    """One page of features and the total number matching."""

    features: list[dict[str, Any]]
    number_matched: int


def _where(
    conn: Connection, coll: Collection, bbox: tuple[float, float, float, float] | None
) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = [f"({AS_OF})"]
    params: dict[str, Any] = {}
    if coll.level:
        clauses.append("level = :level")
        params["level"] = coll.level
    if bbox is not None:
        clauses.append(bbox_filter(conn, coll.table))
        envelope = "BuildMbr(:minx, :miny, :maxx, :maxy, 4326)" if is_sqlite(conn) else (
            "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        clauses.append(f"ST_Intersects(geom, {envelope})")
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    return " AND ".join(clauses), params


def _feature(coll: Collection, row: Any, totals: dict[str, dict[str, int]] | None) -> dict[str, Any]:
    code, *values, wkb = row
    props: dict[str, Any] = {"code": code}
    for name, value in zip(coll.columns, values, strict=True):
        props[name] = value.isoformat() if isinstance(value, dt.date) else value
    if totals is not None:
        props.update(totals.get(code, dict.fromkeys(_TOTALS, 0)))
    geometry = shapely.geometry.mapping(shapely.from_wkb(bytes(wkb)))
    return {"type": "Feature", "id": code, "geometry": geometry, "properties": props}


def _unit_totals(conn: Connection, cache: TotalsCache, as_of: dt.date, codes: list[str]) -> dict[str, dict[str, int]]:
    table = cache.get(conn, as_of)
    rows = table.reindex(codes).fillna(0).astype("int64")
    return {code: {k: int(v) for k, v in values.items() if k in _TOTALS} for code, values in rows.iterrows()}


def query_items(
    conn: Connection,
    coll: Collection,
    *,
    as_of: dt.date,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    offset: int,
    totals: TotalsCache,
) -> Page:
    """Features of ``coll`` valid on ``as_of`` meeting ``bbox``, ordered by code, one page."""
    where, params = _where(conn, coll, bbox)
    params["as_of"] = as_of
    matched = conn.execute(text(f"SELECT count(*) FROM {coll.table} WHERE {where}"), params).scalar_one()
    rows = conn.execute(
        text(
            f"SELECT code, {', '.join(coll.columns)}, ST_AsBinary(geom) FROM {coll.table} WHERE {where} "
            "ORDER BY code LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset},
    ).all()
    unit_totals = _unit_totals(conn, totals, as_of, [r[0] for r in rows]) if coll.is_unit else None
    return Page([_feature(coll, r, unit_totals) for r in rows], int(matched))


def get_item(conn: Connection, coll: Collection, code: str, *, as_of: dt.date, totals: TotalsCache) -> dict[str, Any]:
    """One feature by code as of a date, or NotFound."""
    where, params = _where(conn, coll, None)
    row = conn.execute(
        text(f"SELECT code, {', '.join(coll.columns)}, ST_AsBinary(geom) FROM {coll.table} "
             f"WHERE {where} AND code = :code"),
        {**params, "as_of": as_of, "code": code},
    ).first()
    if row is None:
        raise NotFound(f"no feature {code!r} in {coll.id} on {as_of.isoformat()}", field="featureId")
    unit_totals = _unit_totals(conn, totals, as_of, [code]) if coll.is_unit else None
    return _feature(coll, row, unit_totals)


def first_valid_day(conn: Connection, coll: Collection) -> dt.date | None:
    """The first day any version in the collection is valid (the start of its temporal extent)."""
    level = " WHERE level = :level" if coll.level else ""
    first = conn.execute(
        text(f"SELECT min(valid_from) FROM {coll.table}{level}"), {"level": coll.level} if coll.level else {}
    ).scalar_one()
    return as_date(first)
