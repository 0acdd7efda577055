"""Events: batch ingest through the HTTP API (routing included), single-report latency, layer speed.

Runs the real server (``gridgov serve``, one uvicorn worker) on a fresh copy of the demo database and
calls it over HTTP keep-alive. Baselines measured in the same run:
  (a) the same rows through ``geo.events.ingest`` in-process (no HTTP): the floor of the batch API;
  (b) GET /locate, one point per request: the speed routing would have one SQL lookup at a time;
  (c) GET /conformance (no database) for the single report; GET /collections/grids/items over the
      same box for the events layer.
Targets: batch ingest >= 2,000 events/s; single report p50 < 20 ms; layer as fast as the other layers.

    PYTHONPATH=. python bench/events.py [--backend spatialite|postgis] [--events 20000] [-n 300]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
from common import BENCH_DIR, PG_ADMIN, demo_gpkg, start_server, summary, timings_ms
from sqlalchemy import create_engine, text

from geo.db import make_engine, migrate

KEY = "bench-planner-key-0123456789"


def _database(backend: str) -> str:
    """A fresh database holding the demo (a copy of a template built once per backend)."""
    import datetime as dt

    from geo.importer import import_dataset
    from geo.io import read_dataset

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if backend == "spatialite":
        template = BENCH_DIR / "events-template.sqlite"
        if not template.exists():
            engine = make_engine(f"sqlite:///{template}")
            migrate(engine)
            import_dataset(engine, read_dataset(demo_gpkg(1)), author="bench", valid_from=dt.date(2024, 1, 1))
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
        path = BENCH_DIR / "events-run.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    template, run = "gridgov_bench_events_tpl", "gridgov_bench_events_run"
    base = PG_ADMIN.rsplit("/", 1)[0]
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template}).first():
            conn.execute(text(f'CREATE DATABASE "{template}"'))
            engine = make_engine(f"{base}/{template}")
            migrate(engine)
            import_dataset(engine, read_dataset(demo_gpkg(1)), author="bench", valid_from=dt.date(2024, 1, 1))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
            engine.dispose()
        conn.execute(text(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{run}" TEMPLATE "{template}"'))
    admin.dispose()
    return f"{base}/{run}"


def _serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = int(os.environ["BENCH_PORT"]) if "BENCH_PORT" in os.environ else None
    return start_server(url, extra_env={"GRIDGOV_API_KEYS": f'{{"{KEY}": "planner"}}'}, port=port)


def _rows(url: str, n: int, tag: str) -> list[dict[str, object]]:
    """Demo-like events (the synthetic generator) with fresh client ids and no history."""
    import datetime as dt

    from data.generator.events import generate_events
    from geo.events.routing import unit_index

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = generate_events(conn, count=n, seed=11)
        placed = unit_index(conn).place_many([r["lon"] for r in rows], [r["lat"] for r in rows],
                                             [dt.date.fromisoformat(str(r["reported_at"])[:10]) for r in rows])
    engine.dispose()
    rows = [r for r, p in zip(rows, placed, strict=True) if p is not None]  # the API refuses a batch with strays
    return [{k: r[k] for k in ("category", "lon", "lat", "source", "description", "reported_at")}
            | {"client_id": f"{tag}-{i}"} for i, r in enumerate(rows)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="spatialite", choices=["spatialite", "postgis"])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    url = _database(args.backend)
    rows = _rows(url, args.events, uuid.uuid4().hex[:6])
    print(f"{args.backend}: {len(rows)} events, batches of {args.batch}")

    from geo.events.catalogue import Catalogue
    from geo.events.ingest import ingest

    engine = make_engine(url)
    floor_rows = [{**r, "client_id": f"floor-{r['client_id']}"} for r in rows]
    started = time.perf_counter()
    for i in range(0, len(floor_rows), args.batch):
        with engine.begin() as conn:
            ingest(conn, floor_rows[i:i + args.batch], catalogue=Catalogue())
    floor = len(rows) / (time.perf_counter() - started)
    engine.dispose()
    print(f"  in-process ingest: {floor:,.0f} events/s", flush=True)

    proc, base = _serve(url)
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            http.post("/events", json={"events": rows[: args.batch]})  # warm-up (index built)
            started = time.perf_counter()
            created = 0
            for i in range(args.batch, len(rows), args.batch):
                r = http.post("/events", json={"events": rows[i:i + args.batch]})
                r.raise_for_status()
                created += r.json()["created"]
            api_rate = created / (time.perf_counter() - started)
            print(f"  POST /events batches: {api_rate:,.0f} events/s", flush=True)
            pts = [(float(r["lon"]), float(r["lat"])) for r in rows]  # type: ignore[arg-type]
            locate = summary(timings_ms(lambda i: http.get("/locate", params={"lon": pts[i][0], "lat": pts[i][1]}),
                                        args.n))
            conformance = summary(timings_ms(lambda i: http.get("/conformance"), args.n))
            single = summary(timings_ms(lambda i: http.post("/events", json={
                **rows[i % len(rows)], "client_id": f"single-{uuid.uuid4().hex}"}), args.n))
            lon, lat = pts[0]
            box = f"{lon - 0.03:.5f},{lat - 0.02:.5f},{lon + 0.03:.5f},{lat + 0.02:.5f}"
            small = f"{lon - 0.004:.5f},{lat - 0.003:.5f},{lon + 0.004:.5f},{lat + 0.003:.5f}"
            grids = summary(timings_ms(lambda i: http.get("/collections/grids/items",
                                                          params={"bbox": box, "limit": 1000}), 10, warmup=2))
            layer = summary(timings_ms(lambda i: http.get("/events/grids", params={
                "bbox": box, "format": "geojson", "geometry": "point"}), 10, warmup=2))
            points = summary(timings_ms(lambda i: http.get("/events", params={
                "bbox": small, "format": "geojson", "limit": 2000}, headers={"X-API-Key": KEY}), 10, warmup=2))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"| {args.backend} | batch ingest, in-process ingest() (a) | {floor:,.0f} events/s |")
    print(f"| {args.backend} | batch ingest, POST /events x{args.batch} | {api_rate:,.0f} events/s |")
    print(f"| {args.backend} | GET /locate one point per request (b) | {locate['rps']:,.0f} req/s, p50 "
          f"{locate['p50']:.2f} ms |")
    print(f"| {args.backend} | GET /conformance (c) | p50 {conformance['p50']:.2f} ms |")
    print(f"| {args.backend} | POST /events single report | p50 {single['p50']:.2f} ms, p99 {single['p99']:.2f} ms |")
    print(f"| {args.backend} | GET /collections/grids/items 6x4 km box (c) | p50 {grids['p50']:.1f} ms |")
    print(f"| {args.backend} | GET /events/grids geojson points, same box | p50 {layer['p50']:.1f} ms |")
    print(f"| {args.backend} | GET /events geojson, zoom-16 box (planner) | p50 {points['p50']:.1f} ms |")


if __name__ == "__main__":
    main()
