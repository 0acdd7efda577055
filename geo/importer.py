"""Load an interchange dataset into the database: validate everything, then write in one transaction.

Every feature becomes version 1, valid from the given date, tied to one ``change_log`` row of kind
``import``. Buildings get the grid that contains them (lowest code on a shared boundary, see
:func:`geo.coverage.points_in_polygons`) unless the file names one, which validation has checked;
stations without a ``community_code`` get the community that contains them. Unit boundaries are
noded on the way in (:func:`geo.noding.node_geometries`, across all levels): a dataset whose only fault
is a vertex of one unit lying on another's edge without being a vertex there is repaired, and the
summary counts the vertices added; what noding cannot fix (edges that cross) is refused. Either everything is
written or nothing: a rejected dataset never opens a write transaction, and any failure while
writing rolls the whole transaction back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import Connection, Engine, insert

from geo.coverage import coverage_edge_problems, points_in_polygons
from geo.domain import LEVELS, POPULATION_FIELDS, Level
from geo.errors import ImportRejected, Problem
from geo.interchange import LAYERS
from geo.io import Dataset, text_values
from geo.models import ChangeLog
from geo.noding import node_geometries
from geo.reassign.geometry import GRID
from geo.store import TABLE_COLUMNS, existing_codes, insert_versions, read_units
from geo.totals import unit_totals
from geo.validate import validate_dataset


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote: units per level, buildings, stations, population, and its change id."""

    change_id: int
    units: dict[str, int]
    buildings: int
    stations: int
    residents: int
    households: int
    districts: dict[str, dict[str, int]]  # per district: population fields and buildings
    vertices_added: int = 0  # vertices inserted into unit boundaries so shared edges match (noding)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able figures (also stored as the change log's summary)."""
        return asdict(self)


def import_dataset(
    engine: Engine,
    ds: Dataset,
    *,
    author: str,
    valid_from: dt.date,
    document_ref: str | None = None,
    reason: str | None = None,
) -> ImportSummary:
    """Validate ``ds`` and write it as version 1 of every feature; all or nothing.

    Raises :class:`~geo.errors.ImportRejected` with every problem when validation fails (nothing is
    written). Codes already in the database are problems too; the unique ``(code, version)``
    constraints catch any that another writer adds meanwhile, and roll the import back.
    """
    with engine.connect() as conn:
        existing = {table: existing_codes(conn, table) for table in LAYERS}
        districts = read_units(conn, as_of=None, level=Level.district)
    problems = validate_dataset(ds, existing_codes=existing, existing_districts=districts[districts["valid_to"].isna()])
    if problems:
        raise ImportRejected(problems)
    units, added = noded_units(unit_rows(ds.units, valid_from))
    rows = {
        "units": units,
        "buildings": building_rows(ds.buildings, units, valid_from),
        "stations": station_rows(ds.stations, units, valid_from),
    }
    figures = {**_figures(rows), "vertices_added": added}
    with engine.begin() as conn:
        change_id = _log(conn, rows["units"], figures, author=author, valid_from=valid_from,
                         document_ref=document_ref, reason=reason)
        for table, frame in rows.items():
            insert_versions(conn, table, frame.assign(change_id=change_id))
    return ImportSummary(change_id=change_id, **figures)


def _base(frame: gpd.GeoDataFrame, table: str, valid_from: dt.date) -> gpd.GeoDataFrame:
    """The table's columns from a layer: text stripped, version 1, open-ended validity.

    Coordinates are rounded to the precision grid every boundary change uses (:data:`GRID`, 1e-9°,
    about 0.1 mm): a change then leaves untouched vertices exactly where they were, so neighbours
    keep matching; off-grid data would drift by a few ulps and leave hairline gaps or crossings.
    """
    geoms = shapely.set_precision(np.asarray(frame.geometry.values, dtype=object), GRID)
    if table == "units":
        geoms = np.array([MultiPolygon([g]) if isinstance(g, Polygon) else g for g in geoms], dtype=object)
    out = gpd.GeoDataFrame(index=range(len(frame)), geometry=geoms, crs=4326)
    for column in TABLE_COLUMNS[table]:
        if column in frame and column not in ("version", "valid_from", "valid_to", "change_id"):
            out[column] = text_values(frame[column])
    out["version"], out["valid_from"], out["valid_to"], out["change_id"] = 1, valid_from, None, None
    out["synthetic"] = frame["synthetic"].fillna(False).astype(bool).to_numpy() if "synthetic" in frame else False
    return out


def _integers(values: pd.Series, default: int | None) -> np.ndarray:
    """Validated whole numbers as Python ints (what the DB drivers adapt), ``default`` where missing."""
    numbers = pd.to_numeric(values.astype(object), errors="coerce")
    return np.array([default if pd.isna(v) else int(v) for v in numbers], dtype=object)


def unit_rows(units: gpd.GeoDataFrame, valid_from: dt.date) -> gpd.GeoDataFrame:
    """Rows for the ``units`` table."""
    out = _base(units, "units", valid_from)
    out["workers"] = _integers(units["workers"], None) if "workers" in units else None
    return out


def noded_units(units: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """``units`` with every vertex of any unit inserted into the boundaries it lies on; vertices added.

    Refuses the dataset when a level is still not a valid coverage afterwards (edges that cross or
    overlap without being a T-junction); validation has already refused real gaps and overlaps.
    """
    noded, added = node_geometries(units.geometry.values)
    out = units.set_geometry(gpd.GeoSeries(noded, index=units.index, crs=4326)) if added else units
    problems: list[Problem] = []
    for level in LEVELS:
        same = out[out["level"] == level.value]
        problems += [Problem("units", issue.children[0], "geometry", f"{issue} / 边界与相邻单元不一致")
                     for issue in coverage_edge_problems(same["code"], same.geometry.values)]
    if problems:
        raise ImportRejected(problems)
    return out, added


def building_rows(buildings: gpd.GeoDataFrame, units: gpd.GeoDataFrame, valid_from: dt.date) -> gpd.GeoDataFrame:
    """Rows for the ``buildings`` table, each in the grid it names or else the grid containing it."""
    out = _base(buildings, "buildings", valid_from)
    for column in POPULATION_FIELDS:
        out[column] = _integers(buildings[column], 0) if column in buildings else 0
    located = points_in_polygons(out.geometry, units[units["level"] == Level.grid])
    given = out["grid_code"] if "grid_code" in out else pd.Series(None, index=out.index, dtype=object)
    out["grid_code"] = given.where(given.notna(), located)
    return out


def station_rows(stations: gpd.GeoDataFrame, units: gpd.GeoDataFrame, valid_from: dt.date) -> gpd.GeoDataFrame:
    """Rows for the ``stations`` table; the responsible community defaults to the one containing it."""
    out = _base(stations, "stations", valid_from)
    out["capacity"] = _integers(stations["capacity"], None) if "capacity" in stations else None
    located = points_in_polygons(out.geometry, units[units["level"] == Level.community])
    given = out["community_code"] if "community_code" in out else pd.Series(None, index=out.index, dtype=object)
    out["community_code"] = given.where(given.notna(), located)
    return out


def _figures(rows: dict[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    """Counts, population, and per-district totals (what ``gridgov check`` holds districts to)."""
    units, buildings = rows["units"], rows["buildings"]
    levels = units["level"].value_counts()
    numbers = buildings.astype({c: "int64" for c in POPULATION_FIELDS})
    totals = unit_totals(units, numbers)
    districts = units.loc[units["level"] == Level.district, "code"]
    return {
        "units": {str(level): int(levels.get(level, 0)) for level in LEVELS},
        "buildings": len(buildings),
        "stations": len(rows["stations"]),
        "residents": int(numbers["residents"].sum()),
        "households": int(numbers["households"].sum()),
        "districts": {
            code: {c: int(totals.loc[code, c]) for c in (*POPULATION_FIELDS, "buildings")} for code in districts
        },
    }


def _log(
    conn: Connection,
    units: gpd.GeoDataFrame,
    figures: dict[str, Any],
    *,
    author: str,
    valid_from: dt.date,
    document_ref: str | None,
    reason: str | None,
) -> int:
    """Append the change log row of this import; its id ties every inserted version to it."""
    districts = sorted(figures["districts"])
    stmt = insert(ChangeLog).values(
        kind="import", author=author, effective_date=valid_from, reason=reason,
        document_ref=document_ref, units=districts, summary=figures,
    ).returning(ChangeLog.id)
    return int(conn.execute(stmt).scalar_one())
