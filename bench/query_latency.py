"""Latency of /stations/nearest and /locate against their raw SQL and a trivial endpoint.

Runs the real server (uvicorn, one worker) on 127.0.0.1 and calls it over HTTP keep-alive, so the
figures include routing, validation and JSON. Baselines in the same run:
  (a) the same spatial SQL round trip, from this process, with no HTTP;
  (b) GET /conformance, an endpoint of the same app that touches no database.
Target: endpoint p50 within 1.5x of (a)+(b) on PostGIS; a 10,000-point batch under 2 s; at scale 20
latency grows at most 1.3x.

    .venv/bin/python bench/query_latency.py [--scale 1 20] [--backends spatialite postgis] [-n 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time

import httpx
from common import database_url, start_server, summary, timings_ms
from sqlalchemy import text

from geo.db import make_engine
from geo.locate import data_extent
from geo.nearest import nearest_stations
from geo.sql import bbox_filter, point_sql
from geo.store import AS_OF


def _points(url: str, n: int) -> list[tuple[float, float]]:
    """Random points inside the data's districts (rejection sampling on the extent)."""
    engine = make_engine(url)
    rng = random.Random(7)
    with engine.connect() as conn:
        minx, miny, maxx, maxy = data_extent(conn)  # type: ignore[misc]
        pip = text(f"SELECT count(*) FROM units WHERE level = 'district' AND {bbox_filter(conn, 'units')} "
                   f"AND valid_to IS NULL AND ST_Intersects(geom, {point_sql(conn)})")
        out: list[tuple[float, float]] = []
        while len(out) < n:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if conn.execute(pip, {"lon": lon, "lat": lat, "minx": lon, "miny": lat, "maxx": lon, "maxy": lat}).scalar():
                out.append((lon, lat))
    engine.dispose()
    return out


def run(backend: str, scale: int, n: int) -> dict[str, dict[str, float]]:
    url = database_url(backend, scale)
    points = _points(url, n)
    today = dt.date.today()
    engine = make_engine(url)
    results: dict[str, dict[str, float]] = {}
    with engine.connect() as conn:
        locate_sql = text(f"SELECT code, name, name_en, level, version FROM units WHERE {bbox_filter(conn, 'units')} "
                          f"AND ({AS_OF}) AND ST_Intersects(geom, {point_sql(conn)}) ORDER BY code")

        def raw_locate(i: int) -> None:
            lon, lat = points[i % n]
            conn.execute(locate_sql, {"lon": lon, "lat": lat, "minx": lon, "miny": lat, "maxx": lon, "maxy": lat,
                                      "as_of": today}).all()

        def raw_nearest(i: int) -> None:
            lon, lat = points[i % n]
            nearest_stations(conn, lon, lat, as_of=today, k=3)

        results["raw locate SQL (a)"] = summary(timings_ms(raw_locate, n))
        results["raw nearest SQL (a)"] = summary(timings_ms(raw_nearest, n))
    engine.dispose()
    proc, base = start_server(url)
    try:
        with httpx.Client(base_url=base) as client:
            def get(path: str, params_of: object) -> object:
                def call(i: int) -> None:
                    response = client.get(path, params=params_of(i))  # type: ignore[operator]
                    assert response.status_code in (200, 404), response.text
                return call

            results["GET /conformance (b)"] = summary(timings_ms(get("/conformance", lambda i: {}), n))
            pt = lambda i: {"lon": points[i % n][0], "lat": points[i % n][1]}  # noqa: E731
            results["GET /locate"] = summary(timings_ms(get("/locate", pt), n))
            results["GET /stations/nearest"] = summary(timings_ms(get("/stations/nearest", pt), n))
            batch = [{"lon": lon, "lat": lat} for lon, lat in (points * (10_000 // n + 1))[:10_000]]
            started = time.perf_counter()
            response = client.post("/stations/nearest", json={"points": batch, "k": 3}, timeout=60)
            assert response.status_code == 200, response.text
            results["POST /stations/nearest x10000"] = {"total_s": time.perf_counter() - started}
    finally:
        proc.terminate()
        proc.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("--backends", nargs="+", default=["spatialite", "postgis"])
    parser.add_argument("-n", type=int, default=500, help="requests per measurement")
    args = parser.parse_args()
    print(f"{'backend':10} {'scale':>5}  {'measurement':32} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for scale in args.scale:
        for backend in args.backends:
            for name, figures in run(backend, scale, args.n).items():
                if "total_s" in figures:
                    print(f"{backend:10} {scale:>5}  {name:32} total {figures['total_s']:.2f} s")
                else:
                    print(f"{backend:10} {scale:>5}  {name:32} {figures['p50']:8.2f} {figures['p99']:8.2f} "
                          f"{figures['rps']:8.0f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
