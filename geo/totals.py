"""Population totals per unit: sums of buildings, rolled up the hierarchy through parent links.

Population lives only on buildings; every unit total is derived, never stored, so totals cannot
drift from the buildings. Roll-up follows ``parent_code`` (not code prefixes: a grid moved to
another community keeps its code).
"""

from __future__ import annotations

import datetime as dt
import threading

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from geo.domain import LEVELS, POPULATION_FIELDS
from geo.store import AS_OF

TOTAL_FIELDS: tuple[str, ...] = (*POPULATION_FIELDS, "buildings")


def unit_totals(units: pd.DataFrame, buildings: pd.DataFrame) -> pd.DataFrame:
    """Totals per unit code: populations, building count and workers (communities' summed upwards).

    ``units`` and ``buildings`` are the versions valid on one date (as :mod:`geo.store` reads them).
    """
    per_grid = buildings.assign(buildings=1).groupby("grid_code")[list(TOTAL_FIELDS)].sum()
    return _roll_up(units, per_grid)


def _roll_up(units: pd.DataFrame, per_grid: pd.DataFrame) -> pd.DataFrame:
    codes = pd.Index(units["code"], name="code")
    totals = pd.DataFrame(0, index=codes, columns=list(TOTAL_FIELDS), dtype="int64")
    workers = pd.to_numeric(units["workers"], errors="coerce").fillna(0).astype("int64")
    totals["workers"] = workers.to_numpy()
    grid_index = per_grid.index.intersection(totals.index)
    totals.loc[grid_index, list(TOTAL_FIELDS)] = per_grid.loc[grid_index, list(TOTAL_FIELDS)].to_numpy()
    parent = units.set_index("code")["parent_code"]
    level = units.set_index("code")["level"]
    columns = [*TOTAL_FIELDS, "workers"]
    # Bottom-up, deepest level first: each unit adds its children's totals to its own.
    for lv in reversed(LEVELS[1:]):
        level_codes = level.index[level == lv.value]
        sums = totals.loc[level_codes, columns].groupby(parent.loc[level_codes].to_numpy()).sum()
        sums = sums[sums.index.isin(totals.index)]
        totals.loc[sums.index, columns] = totals.loc[sums.index, columns].to_numpy() + sums.to_numpy()
    return totals


def with_totals(units: gpd.GeoDataFrame, buildings: pd.DataFrame) -> gpd.GeoDataFrame:
    """``units`` with total columns joined (``workers`` summed for sub-districts and districts)."""
    totals = unit_totals(units, buildings)
    out = units.drop(columns=[c for c in totals.columns if c in units.columns and c != "workers"])
    out = out.drop(columns=["workers"]).merge(totals, left_on="code", right_index=True, how="left")
    return gpd.GeoDataFrame(out, geometry=units.geometry.name, crs=units.crs)


def read_totals(conn: Connection, as_of: dt.date) -> pd.DataFrame:
    """Totals of every unit valid on ``as_of``, computed in SQL per grid and rolled up in pandas."""
    units = pd.DataFrame(
        [tuple(r) for r in conn.execute(
            text(f"SELECT code, level, parent_code, workers FROM units WHERE {AS_OF}"), {"as_of": as_of}
        )],
        columns=["code", "level", "parent_code", "workers"],
    )
    sums = ", ".join(f"sum({f})" for f in POPULATION_FIELDS)
    per_grid = pd.DataFrame(
        [tuple(r) for r in conn.execute(
            text(f"SELECT grid_code, {sums}, count(*) FROM buildings WHERE {AS_OF} GROUP BY grid_code"),
            {"as_of": as_of},
        )],
        columns=["grid_code", *POPULATION_FIELDS, "buildings"],
    )
    return _roll_up(units, per_grid.set_index("grid_code"))


class TotalsCache:
    """Totals per date, recomputed only after the change log grows (i.e. after any write)."""

    def __init__(self, max_entries: int = 8) -> None:
        self._entries: dict[tuple[dt.date, int], pd.DataFrame] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, conn: Connection, as_of: dt.date) -> pd.DataFrame:
        """Totals valid on ``as_of`` (a frame indexed by unit code)."""
        stamp = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM change_log")).scalar_one())
        key = (as_of, stamp)
        with self._lock:
            if key in self._entries:
                return self._entries[key]
        table = read_totals(conn, as_of)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = table
        return table
