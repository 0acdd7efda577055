"""Reading and writing the versioned layers as GeoDataFrames.

Every read takes an ``as_of`` date and returns the versions valid on that day; every write inserts
new versions (closing old ones is the job of the change that replaces them). SQL here is the
subset that SpatiaLite 5 and PostGIS 3 share (``ST_AsBinary``, ``ST_GeomFromWKB``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, bindparam, text

from geo.domain import POPULATION_FIELDS, Level

SRID = 4326

UNIT_COLUMNS = ("code", "version", "name", "name_en", "level", "kind", "parent_code", "workers", "synthetic",
                "valid_from", "valid_to", "change_id")
BUILDING_COLUMNS = ("code", "version", "grid_code", "address", *POPULATION_FIELDS, "synthetic",
                    "valid_from", "valid_to", "change_id")
STATION_COLUMNS = ("code", "version", "name", "name_en", "kind", "capacity", "community_code", "synthetic",
                   "valid_from", "valid_to", "change_id")
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "units": UNIT_COLUMNS,
    "buildings": BUILDING_COLUMNS,
    "stations": STATION_COLUMNS,
}

AS_OF = "valid_from <= :as_of AND (valid_to IS NULL OR valid_to > :as_of)"


def read_table(
    conn: Connection,
    table: str,
    *,
    as_of: dt.date | None,
    where: Sequence[str] = (),
    params: dict[str, Any] | None = None,
    expanding: Iterable[str] = (),
) -> gpd.GeoDataFrame:
    """Rows of a versioned table (valid on ``as_of``, or every version when None) meeting ``where``.

    ``where`` clauses are SQL with named ``params``; ``expanding`` names list parameters (``IN :codes``).
    """
    columns = TABLE_COLUMNS[table]
    clauses = [AS_OF] if as_of is not None else []
    clauses += list(where)
    sql = f"SELECT {', '.join(columns)}, ST_AsBinary(geom) AS wkb FROM {table}"
    if clauses:
        sql += " WHERE " + " AND ".join(f"({c})" for c in clauses)
    sql += " ORDER BY code, version"
    stmt = text(sql)
    for name in expanding:
        stmt = stmt.bindparams(bindparam(name, expanding=True))
    bound = dict(params or {})
    if as_of is not None:
        bound["as_of"] = as_of
    rows = [tuple(r) for r in conn.execute(stmt, bound)]  # plain tuples: pandas probes Rows slowly
    frame = pd.DataFrame(rows, columns=[*columns, "wkb"])
    geometry = shapely.from_wkb([bytes(w) for w in frame.pop("wkb")]) if len(frame) else []
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=SRID), crs=SRID)
    for col in ("valid_from", "valid_to"):
        gdf[col] = gdf[col].map(as_date)
    if "synthetic" in gdf:
        gdf["synthetic"] = gdf["synthetic"].astype(bool)
    return gdf


def as_date(value: Any) -> dt.date | None:
    """A date from what the driver returns (date, datetime or ISO text on SQLite); None stays None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def read_units(
    conn: Connection,
    *,
    as_of: dt.date | None,
    level: Level | str | None = None,
    codes: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Units valid on ``as_of`` (all versions when None), optionally of one level or some codes."""
    where: list[str] = []
    params: dict[str, Any] = {}
    expanding: list[str] = []
    if level is not None:
        where.append("level = :level")
        params["level"] = str(level)
    if codes is not None:
        where.append("code IN :codes")
        params["codes"] = list(codes)
        expanding.append("codes")
    return read_table(conn, "units", as_of=as_of, where=where, params=params, expanding=expanding)


def read_buildings(conn: Connection, *, as_of: dt.date | None) -> gpd.GeoDataFrame:
    """Buildings valid on ``as_of`` (all versions when None)."""
    return read_table(conn, "buildings", as_of=as_of)


def read_stations(conn: Connection, *, as_of: dt.date | None) -> gpd.GeoDataFrame:
    """Stations valid on ``as_of`` (all versions when None)."""
    return read_table(conn, "stations", as_of=as_of)


def read_made_by(conn: Connection, table: str, change_id: int) -> gpd.GeoDataFrame:
    """Every version of ``table`` that the change ``change_id`` wrote."""
    return read_table(conn, table, as_of=None, where=["change_id = :c"], params={"c": change_id})


def read_all_versions(conn: Connection, table: str, codes: Sequence[str]) -> gpd.GeoDataFrame:
    """Every version, closed or open, of the given codes."""
    return read_table(conn, table, as_of=None, where=["code IN :codes"], params={"codes": list(codes) or [""]},
                      expanding=["codes"])


def read_latest(
    conn: Connection,
    table: str,
    *,
    where_in: dict[str, Sequence[str]] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """The latest version (``valid_to`` NULL) of rows of ``table``, filtered by column values and a box.

    Changes are always computed against the latest versions, whatever their ``valid_from``.
    """
    return read_filtered(conn, table, as_of=None, where_in=where_in, bbox=bbox)


def read_filtered(
    conn: Connection,
    table: str,
    *,
    as_of: dt.date | None,
    where_in: dict[str, Sequence[str]] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Rows valid on ``as_of`` (the latest versions when None) with column values in lists and in a box."""
    from geo.sql import bbox_filter

    where = ["valid_to IS NULL"] if as_of is None else []
    params: dict[str, Any] = {}
    expanding = []
    for column, values in (where_in or {}).items():
        where.append(f"{column} IN :{column}")
        params[column] = list(values) or [""]
        expanding.append(column)
    if bbox is not None:
        where.append(bbox_filter(conn, table))
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    return read_table(conn, table, as_of=as_of, where=where, params=params, expanding=expanding)


def insert_versions(conn: Connection, table: str, gdf: gpd.GeoDataFrame) -> int:
    """Insert rows (new versions) into a versioned table; the frame must have every column."""
    columns = TABLE_COLUMNS[table]
    if gdf.empty:
        return 0
    geom_sql = "ST_Multi(ST_GeomFromWKB(:wkb, 4326))" if table == "units" else "ST_GeomFromWKB(:wkb, 4326)"
    stmt = text(
        f"INSERT INTO {table} ({', '.join(columns)}, geom) "
        f"VALUES ({', '.join(':' + c for c in columns)}, {geom_sql})"
    )
    records = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    records = records.where(pd.notna(records), None)
    wkbs = shapely.to_wkb(gdf.geometry.values, output_dimension=2)
    rows = []
    for record, wkb in zip(records.to_dict("records"), wkbs, strict=True):
        row = {c: record.get(c) for c in columns}
        row["wkb"] = wkb
        rows.append(row)
    conn.execute(stmt, rows)
    return len(rows)


def close_versions(conn: Connection, table: str, codes: Sequence[str], valid_to: dt.date, *,
                   change_id: int | None = None) -> int:
    """Close the current versions of ``codes`` on ``valid_to`` (the day the new ones start), by ``change_id``."""
    if not codes:
        return 0
    stmt = text(
        f"UPDATE {table} SET valid_to = :valid_to, closed_by = :change WHERE valid_to IS NULL AND code IN :codes"
    ).bindparams(bindparam("codes", expanding=True))
    result = conn.execute(stmt, {"valid_to": valid_to, "change": change_id, "codes": list(codes)})
    return int(result.rowcount or 0)


def next_versions(conn: Connection, table: str, codes: Sequence[str]) -> dict[str, int]:
    """The next free version number of each code: one past every version it ever had, cancelled ones too."""
    if not codes:
        return {}
    stmt = text(f"SELECT code, max(version) FROM {table} WHERE code IN :codes GROUP BY code").bindparams(
        bindparam("codes", expanding=True))
    found = {code: int(v) + 1 for code, v in conn.execute(stmt, {"codes": list(codes)})}
    return {code: found.get(code, 1) for code in codes}


def existing_codes(conn: Connection, table: str) -> set[str]:
    """Every code that has ever had a version in ``table``."""
    return {row[0] for row in conn.execute(text(f"SELECT DISTINCT code FROM {table}"))}
