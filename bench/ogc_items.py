"""OGC API Features items and the 10,000-point nearest batch, beside tipg and the floors, in one run.

Serves the same current grids from the same PostGIS database with gridgov and with tipg (its own
virtualenv, default /tmp/tipg-venv: `python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install
tipg uvicorn`), one uvicorn worker each, and measures over HTTP keep-alive with gzip:
  - items `limit=1000` (first page) and ~1 km² bbox pages of 100 at random places;
  - the floor: the page's raw SQL from this process plus `GET /conformance` of gridgov;
  - `POST /stations/nearest` with 10,000 points (k=1 and k=5) beside the exact in-memory floor
    (KD-tree candidates + pyproj geodesic refinement over the same stations, no HTTP).
Goals: items p50 <= tipg/3, bbox pages <= tipg/2, batch <= 2x floor.

    PYTHONPATH=$PWD .venv/bin/python bench/ogc_items.py [--scale 1] [-n 40] [--tipg /tmp/tipg-venv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import orjson
from common import database_url, free_port, summary
from sqlalchemy import text

from geo.db import make_engine
from geo.locate import data_extent
from geo.nearest import nearest_indices, read_station_rows

ROOT = Path(__file__).resolve().parent.parent
VIEW = "bench_current_grids"


def _wait(base: str, path: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server at {base} did not start")


def _start_gridgov(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRIDGOV_DATABASE_URL": url, "GRIDGOV_PORT": str(port)}
    run = ("import uvicorn; from api.app import create_app; from api.settings import ApiSettings; "
           "s = ApiSettings(); uvicorn.run(create_app(s), host='127.0.0.1', port=s.port, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", run], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _wait(base, "/health", proc)
    return proc, base


def _start_tipg(url: str, venv: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    env = {**os.environ, "DATABASE_URL": pg, "TIPG_DB_SCHEMAS": '["public"]', "TIPG_DB_TABLES": f'["public.{VIEW}"]',
           "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    proc = subprocess.Popen([str(venv / "bin" / "uvicorn"), "tipg.main:app", "--port", str(port), "--log-level",
                             "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _wait(base, "/collections", proc)
    return proc, base


def _view(url: str) -> None:
    """The current grids as a view tipg can serve: the same rows gridgov's `grids` collection serves."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            f"CREATE OR REPLACE VIEW {VIEW} AS SELECT code AS id, code, name, name_en, level, kind, parent_code, "
            "version, valid_from, valid_to, geom FROM units WHERE level = 'grid' AND valid_to IS NULL"))
    engine.dispose()


def _boxes(extent: tuple[float, float, float, float], n: int) -> list[str]:
    rng = random.Random(14)
    out = []
    for _ in range(n):
        lon, lat = rng.uniform(extent[0], extent[2] - 0.01), rng.uniform(extent[1], extent[3] - 0.009)
        out.append(f"{lon:.5f},{lat:.5f},{lon + 0.01:.5f},{lat + 0.009:.5f}")  # about 1 km x 1 km
    return out


def run(scale: int, n: int, tipg_venv: Path) -> dict[str, dict[str, float]]:
    url = database_url("postgis", scale)
    _view(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        extent = data_extent(conn)
        assert extent is not None
        page_sql = text("SELECT code, name, name_en, level, kind, parent_code, version, valid_from, valid_to, "
                        "ST_AsBinary(geom) FROM units WHERE level = 'grid' AND valid_to IS NULL "
                        "ORDER BY code LIMIT 1000")
        stations = read_station_rows(conn, as_of=dt.date.today(), kinds=None)
    results: dict[str, dict[str, float]] = {}
    raw = engine.connect()

    def raw_page(i: int) -> None:
        raw.execute(page_sql).all()

    boxes = _boxes(extent, n * 5)
    rng = np.random.default_rng(7)
    pts = rng.uniform(extent[:2], extent[2:], size=(10_000, 2))
    s_lon = np.array([r[7] for r in stations], dtype=float)
    s_lat = np.array([r[8] for r in stations], dtype=float)
    servers = {"gridgov": _start_gridgov(url), "tipg": _start_tipg(url, tipg_venv)}
    paths = {"gridgov": "/collections/grids/items", "tipg": f"/collections/public.{VIEW}/items"}
    clients = {name: httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}, timeout=120)
               for name, (_, base) in servers.items()}
    try:
        def page(name: str) -> Callable[[int], None]:
            def call(i: int) -> None:
                r = clients[name].get(paths[name], params={"limit": 1000})
                assert r.status_code == 200 and len(r.json()["features"]) == 1000, r.text[:300]
            return call

        def boxed(name: str) -> Callable[[int], None]:
            def call(i: int) -> None:
                r = clients[name].get(paths[name], params={"limit": 100, "bbox": boxes[i % len(boxes)]})
                assert r.status_code == 200, r.text[:300]
            return call

        # Calls alternate between the servers (and the floors), so load on the machine hits all alike.
        results.update(interleaved({"gridgov items limit=1000": page("gridgov"), "tipg items limit=1000":
                                    page("tipg"), "raw SQL, page of 1000 (floor a)": raw_page,
                                    "gridgov GET /conformance (floor b)":
                                    lambda i: clients["gridgov"].get("/conformance")}, n, 3))
        results.update(interleaved({"gridgov items bbox ~1 km², limit=100": boxed("gridgov"),
                                    "tipg items bbox ~1 km², limit=100": boxed("tipg")}, n * 5, 10))
        batch = {"points": [{"lon": float(x), "lat": float(y)} for x, y in pts]}
        for k in (1, 5):
            body = orjson.dumps({**batch, "k": k})

            def post(i: int, body: bytes = body) -> None:
                r = clients["gridgov"].post("/stations/nearest", content=body,
                                            headers={"content-type": "application/json"})
                assert r.status_code == 200, r.text[:300]

            def floor(i: int, k: int = k) -> None:
                nearest_indices(s_lon, s_lat, pts[:, 0], pts[:, 1], k=k)

            results.update(interleaved({f"gridgov POST /stations/nearest x10000 k={k}": post,
                                        f"in-memory nearest x10000 k={k} (floor)": floor}, 7, 1))
    finally:
        for client in clients.values():
            client.close()
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()
        raw.close()
        engine.dispose()
    return results


def interleaved(funcs: dict[str, Callable[[int], object]], n: int, warmup: int) -> dict[str, dict[str, float]]:
    """Each function n times, taking turns; p50/p99 of each (ms)."""
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for i in range(warmup + n):
        for name, func in funcs.items():
            started = time.perf_counter()
            func(i)
            if i >= warmup:
                samples[name].append((time.perf_counter() - started) * 1000.0)
    return {name: summary(s) for name, s in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("-n", type=int, default=40, help="requests per measurement (bbox pages: 5n)")
    parser.add_argument("--tipg", type=Path, default=Path("/tmp/tipg-venv"), help="virtualenv with tipg and uvicorn")
    args = parser.parse_args()
    for scale in args.scale:
        results = run(scale, args.n, args.tipg)
        print(f"\nscale {scale}\n{'measurement':48} {'p50 ms':>9} {'p99 ms':>9}")
        for name, figures in results.items():
            print(f"{name:48} {figures['p50']:9.2f} {figures['p99']:9.2f}")
        p50 = {name: f["p50"] for name, f in results.items()}
        floor = p50["raw SQL, page of 1000 (floor a)"] + p50["gridgov GET /conformance (floor b)"]
        print(f"items 1000: gridgov/tipg = {p50['gridgov items limit=1000'] / p50['tipg items limit=1000']:.2f}, "
              f"gridgov/floor = {p50['gridgov items limit=1000'] / floor:.2f}")
        print(f"bbox pages: gridgov/tipg = "
              f"{p50['gridgov items bbox ~1 km², limit=100'] / p50['tipg items bbox ~1 km², limit=100']:.2f}")
        for k in (1, 5):
            ratio = p50[f"gridgov POST /stations/nearest x10000 k={k}"] / p50[f"in-memory nearest x10000 k={k} (floor)"]
            print(f"batch k={k}: gridgov/floor = {ratio:.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
