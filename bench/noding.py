"""Noding and the exact coverage test on the demo (figures for bench/RESULTS.md).

Measures, in one run and on the same data:
- ``node_geometries`` on the 2,500 demo grids as imported (already noded: nothing to insert), on all
  3,076 units at once (what import does), and on the grids with T-junctions made on purpose (every
  other grid's edges segmentized, so its neighbours lack those vertices); the floor beside them is
  ``shapely.coverage_is_valid`` on the same grids;
- the exact test ``coverage_edge_problems`` on every level of the whole demo, beside the area-based
  ``coverage_report`` that ``gridgov check`` already ran, and the whole ``check_connection``.

Usage: ``PYTHONPATH=. .venv/bin/python bench/noding.py [-n 5]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from bench.common import database_url, demo_gpkg
from geo.coverage import coverage_edge_problems, coverage_report
from geo.db import make_engine
from geo.domain import LEVELS
from geo.invariants import check_connection
from geo.noding import node_geometries


def best_ms(func: Callable[[], object], n: int) -> tuple[float, float]:
    """Best and median wall time of ``n`` runs, in ms."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def row(what: str, func: Callable[[], object], n: int, note: str = "") -> None:
    best, median = best_ms(func, n)
    print(f"| {what} | {best:,.0f} | {median:,.0f} | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5)
    n = parser.parse_args().n
    units = gpd.read_file(demo_gpkg(1), layer="units")
    grids = np.asarray(units[units["level"] == "grid"].geometry.values, dtype=object)
    every = np.asarray(units.geometry.values, dtype=object)
    teed = grids.copy()
    teed[::2] = shapely.segmentize(teed[::2], 0.0005)  # ~50 m: vertices the neighbours lack
    _, added = node_geometries(teed)
    noded, _ = node_geometries(teed)
    print(f"demo: {len(units)} units, {len(grids)} grids, {int(shapely.get_num_coordinates(grids).sum()):,} grid "
          f"vertices; T-junction variant: valid before {shapely.coverage_is_valid(teed)}, {added:,} vertices "
          f"added, valid after {shapely.coverage_is_valid(noded)}")
    print("| measurement | best ms | median ms | note |\n|---|---:|---:|---|")
    row("shapely.coverage_is_valid, 2,500 grids (floor)", lambda: shapely.coverage_is_valid(grids), n)
    row("node_geometries, 2,500 grids, already noded", lambda: node_geometries(grids), n, "0 added")
    row("node_geometries, all 3,076 units (import)", lambda: node_geometries(every), n, "0 added")
    row("node_geometries, 2,500 grids with T-junctions", lambda: node_geometries(teed), n, f"{added:,} added")
    levels = [units[units["level"] == level.value] for level in LEVELS]
    row("coverage_edge_problems, every level (exact test)",
        lambda: [coverage_edge_problems(u["code"], u.geometry.values) for u in levels], n)

    def areas() -> None:
        for level in LEVELS[1:]:
            coverage_report(units[units["level"] == level.parent], units[units["level"] == level.value])

    row("coverage_report, every level (area test, peer)", areas, n)
    engine = make_engine(database_url("spatialite", 1))
    with engine.connect() as conn:
        row("check_connection on the SpatiaLite demo (gridgov check)",
            lambda: check_connection(conn, as_of=dt.date.today()), max(1, n // 2))


if __name__ == "__main__":
    main()
