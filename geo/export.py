"""The database as interchange layers on a given day, with population totals on every unit.

Totals are sums of buildings carried up the *parent links* (grid -> community -> subdistrict ->
district), not code prefixes: a grid reassigned to another community keeps its code but counts
where it now belongs. The computed columns (``residents``, ``households``, ``buildings``) are
extras that import ignores, so an export can be imported again as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine

from geo.domain import LEVELS, Level
from geo.interchange import BUILDINGS, STATIONS, UNITS, LayerSpec
from geo.io import Dataset, write_dataset
from geo.store import read_buildings, read_stations, read_units
from geo.totals import unit_totals

TOTALS = ("residents", "households", "buildings")


def export_dataset(
    conn_or_engine: Connection | Engine, *, as_of: dt.date, levels: AbstractSet[Level] | None = None
) -> Dataset:
    """The interchange layers valid on ``as_of``; units carry ``residents``, ``households``, ``buildings``.

    ``levels`` limits the units exported (all by default). Buildings need their grids to be
    imported again, so they come only with the grid level; stations only with the community level.
    """
    if isinstance(conn_or_engine, Engine):
        options = {"isolation_level": "REPEATABLE READ"} if conn_or_engine.dialect.name == "postgresql" else {}
        with conn_or_engine.connect().execution_options(**options) as conn, conn.begin():
            return export_dataset(conn, as_of=as_of, levels=levels)
    conn = conn_or_engine
    units = read_units(conn, as_of=as_of)
    buildings = read_buildings(conn, as_of=as_of)
    totals = unit_totals(units, buildings)
    for column in TOTALS:
        units[column] = totals[column].reindex(units["code"]).to_numpy()
    wanted = set(LEVELS) if levels is None else {Level(level) for level in levels}
    units = units[units["level"].isin(wanted)]
    if Level.grid not in wanted:
        buildings = buildings.iloc[:0]
    stations = read_stations(conn, as_of=as_of)
    if Level.community not in wanted:
        stations = stations.iloc[:0]
    return Dataset(
        units=_layer(units, UNITS, TOTALS),
        buildings=_layer(buildings, BUILDINGS),
        stations=_layer(stations, STATIONS),
    )


def _layer(frame: gpd.GeoDataFrame, spec: LayerSpec, extra: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """The interchange columns in spec order, whole numbers as integers, bookkeeping (versions) dropped."""
    table = pd.DataFrame(frame[[c for c in (*spec.columns, *extra) if c in frame]]).reset_index(drop=True)
    for column in spec.integer_fields:
        if column in table:
            table[column] = pd.to_numeric(table[column]).astype("Int64")
    return gpd.GeoDataFrame(table, geometry=frame.geometry.reset_index(drop=True), crs=frame.crs)


def export_to_path(
    engine: Engine | Connection,
    path: str | Path,
    *,
    fmt: str,
    as_of: dt.date,
    levels: AbstractSet[Level] | None = None,
) -> Path:
    """Export the layers valid on ``as_of`` to a file or folder (see :func:`geo.io.write_dataset`)."""
    return write_dataset(export_dataset(engine, as_of=as_of, levels=levels), path, fmt=fmt)

