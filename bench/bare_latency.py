"""`/locate` and `/stations/nearest` beside a bare FastAPI + psycopg-pool app running the same SQL (bench/bare_app.py).

Both served by one uvicorn worker on the same PostGIS database, called alternately at the same
random points over HTTP keep-alive, taking turns. Goal: gridgov p50 at most 1.2x the bare app's.

    PYTHONPATH=$PWD .venv/bin/python bench/bare_latency.py [--scale 1] [-n 1000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import httpx
from common import database_url, free_port
from ogc_items import _start_gridgov, _wait, interleaved
from query_latency import _points

HERE = Path(__file__).resolve().parent


def _start_bare(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BARE_DSN": url.replace("postgresql+psycopg://", "postgresql://")}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE), "--port",
                             str(port), "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _wait(base, "/locate?lon=0&lat=0", proc)
    return proc, base


def run(scale: int, n: int) -> dict[str, dict[str, float]]:
    url = database_url("postgis", scale)
    points = _points(url, n)
    servers = {"bare": _start_bare(url), "gridgov": _start_gridgov(url)}
    results: dict[str, dict[str, float]] = {}
    try:
        clients = {name: httpx.Client(base_url=base) for name, (_, base) in servers.items()}
        for path in ("/locate", "/stations/nearest"):
            calls = {}
            for name, client in clients.items():
                def call(i: int, client: httpx.Client = client, path: str = path) -> None:
                    r = client.get(path, params={"lon": points[i % n][0], "lat": points[i % n][1]})
                    assert r.status_code == 200, r.text[:200]
                calls[f"{name} GET {path}"] = call
            results.update(interleaved(calls, n, 50))  # taking turns: load on the machine hits both alike
        for client in clients.values():
            client.close()
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    for scale in args.scale:
        results = run(scale, args.n)
        print(f"\nscale {scale}\n{'measurement':36} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
        for name, f in results.items():
            print(f"{name:36} {f['p50']:8.2f} {f['p99']:8.2f} {f['rps']:8.0f}")
        for path in ("/locate", "/stations/nearest"):
            ratio = results[f"gridgov GET {path}"]["p50"] / results[f"bare GET {path}"]["p50"]
            print(f"{path}: gridgov/bare = {ratio:.2f}")


if __name__ == "__main__":
    main()
