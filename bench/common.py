"""Shared set-up for benchmarks: demo databases per backend and scale, built once and reused."""

from __future__ import annotations

import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from geo.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def demo_gpkg(scale: int) -> Path:
    """The demo GeoPackage at ``scale`` (built on first use)."""
    from data.generate import build_dataset

    path = BENCH_DIR / f"xixiu-x{scale}.gpkg"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        build_dataset(path, scale=scale)
    return path


def database_url(backend: str, scale: int) -> str:
    """A database of ``backend`` holding the demo at ``scale`` (loaded on first use)."""
    if backend == "spatialite":
        path = BENCH_DIR / f"bench-x{scale}.sqlite"
        url = f"sqlite:///{path}"
        fresh = not path.exists()
    else:
        name = f"gridgov_bench_x{scale}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            fresh = not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if fresh:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    if fresh:
        from geo.importer import import_dataset
        from geo.io import read_dataset

        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        import_dataset(engine, read_dataset(demo_gpkg(scale)), author="bench", valid_from=dt.date(2024, 1, 1))
        print(f"  loaded x{scale} into {backend} in {time.perf_counter() - started:.1f} s")
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    return url


def timings_ms(func: Callable[[int], object], n: int, warmup: int = 20) -> list[float]:
    """Run ``func(i)`` ``n`` times after a warm-up; wall-clock milliseconds of each call."""
    for i in range(warmup):
        func(i)
    out = []
    for i in range(n):
        started = time.perf_counter()
        func(i)
        out.append((time.perf_counter() - started) * 1000.0)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    """p50, p99 (ms) and sequential requests per second."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"p50": statistics.median(ordered), "p99": p99, "rps": 1000.0 / statistics.mean(ordered)}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, *, extra_env: dict[str, str] | None = None,
                 port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``gridgov serve`` of this checkout on ``url`` (at ``port`` or a free one); the process and its base URL
    once it answers. ``extra_env`` adds settings, e.g. ``GRIDGOV_API_KEYS``."""
    import httpx

    port = port or free_port()
    env = {**os.environ, "GRIDGOV_DATABASE_URL": url, "GRIDGOV_PORT": str(port), "PYTHONPATH": str(ROOT),
           **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")
