"""A normal client's /locate latency while an attacker sends the worst request of each kind (issue #12).

Starts ``gridgov serve`` on the demo (SpatiaLite, scale 1) at port 8201, measures the client's
/locate p50/p99 alone (the floor), then again during each attack, run by ``--attackers`` threads:

* ``big_body``: an anonymous 92 MB JSON to POST /proposals (was: 401 after 11.6 s, 9.8 s stall)
* ``many_points``: 2,000,000 points to POST /stations/nearest (was: parsed first, 19 s stall)
* ``points_k``: 10,000 points with k=100 (was: a 266 MB answer, +1.8 GiB of memory)
* ``upload``: an anonymous 300 MiB upload to POST /imports (was: written to disk before the 401)
* ``grid_splits``: POST /grid-splits min 0 max 1 (was: > 108 s of CPU; 40 in parallel took /locate down)
* ``pdf``: anonymous report.pdf in a loop (was: ~6.5 s each, unbounded)
* ``drawn_area``: a planner's 30,000-vertex drawn area (was: is_valid held the GIL for seconds)

Usage: ``PYTHONPATH=. python bench/attack_load.py [--seconds 20] [--attackers 8]``; figures go in
bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import database_url, summary  # noqa: E402

PORT = 8201
PLANNER = "bench-planner-key-0123456789"
BASE = f"http://127.0.0.1:{PORT}"


def start_server(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRIDGOV_DATABASE_URL": url, "GRIDGOV_PORT": str(PORT),
           "GRIDGOV_API_KEYS": json.dumps({PLANNER: "planner"})}
    proc = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(BASE + "/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def stream(total: int, head: bytes = b"", chunk: bytes = b" " * 65536) -> Iterator[bytes]:
    yield head
    sent = len(head)
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


def _points(n: int) -> bytes:
    return json.dumps({"points": [{"lon": 105.95 + (i % 100) * 1e-4, "lat": 26.25 + (i // 100 % 100) * 1e-4}
                                  for i in range(n)], "k": 100}).encode()


def attacks(proposal: int) -> dict[str, Callable[[httpx.Client], int]]:
    many = 2_000_000 * 30  # about 30 bytes a point

    def big_body(c: httpx.Client) -> int:
        return c.post("/proposals", content=stream(92_000_000, b'{"from_code": "'),
                      headers={"content-type": "application/json", "content-length": "92000000"}).status_code

    def many_points(c: httpx.Client) -> int:
        head = b'{"points": ['
        point = b'{"lon":105.95,"lat":26.25},'
        return c.post("/stations/nearest", content=stream(many, head, point * 2000),
                      headers={"content-type": "application/json"}).status_code

    ten_thousand = _points(10_000)

    def points_k(c: httpx.Client) -> int:
        return c.post("/stations/nearest", content=ten_thousand,
                      headers={"content-type": "application/json"}).status_code

    def upload(c: httpx.Client) -> int:
        size = 300 * 2**20
        return c.post("/imports", content=stream(size, b"--x\r\n"),
                      headers={"content-type": "multipart/form-data; boundary=x",
                               "content-length": str(size)}).status_code

    def grid_splits(c: httpx.Client) -> int:
        return c.post("/grid-splits", json={"min_households": 0, "max_households": 1}).status_code

    def pdf(c: httpx.Client) -> int:
        return c.get(f"/proposals/{proposal}/report.pdf").status_code

    ring = [[105.95 + 0.01 * math.cos(2 * math.pi * i / 30_000), 26.25 + 0.01 * math.sin(2 * math.pi * i / 30_000)]
            for i in range(30_000)]
    area = {"from_code": "520402006006", "to_code": "520402006009", "effective_date": "2025-03-01",
            "author": "bench", "area": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}

    area_body = json.dumps(area).encode()

    def drawn_area(c: httpx.Client) -> int:
        return c.post("/proposals", content=area_body,
                      headers={"X-API-Key": PLANNER, "content-type": "application/json"}).status_code

    return {"big_body": big_body, "many_points": many_points, "points_k": points_k, "upload": upload,
            "grid_splits": grid_splits, "pdf": pdf, "drawn_area": drawn_area}


def attacker(name: str, proposal: int, stop: Any, out: Any) -> None:
    """One attacking process (not a thread of the measuring process: they would share its GIL)."""
    action = attacks(proposal)[name]
    seen: collections.Counter[str] = collections.Counter()
    with httpx.Client(base_url=BASE, timeout=120) as client:
        while not stop.is_set():
            try:
                seen[str(action(client))] += 1
            except httpx.HTTPError as exc:  # the server answered and closed before the body was sent
                seen[type(exc).__name__] += 1
                time.sleep(0.05)
    out.put(dict(seen))


def client_latency(seconds: float) -> tuple[list[float], int]:
    """Sequential /locate calls at random demo points for ``seconds``: milliseconds each, and failures.

    A failure is a 5xx or no answer; a 404 (a point outside the district) is a normal answer.
    """
    rng = random.Random(7)
    samples, failures = [], 0
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=BASE, timeout=30) as client:
        while time.monotonic() < deadline:
            params = {"lon": 105.85 + rng.random() * 0.2, "lat": 26.15 + rng.random() * 0.2}
            started = time.perf_counter()
            try:
                ok = client.get("/locate", params=params).status_code < 500
            except httpx.HTTPError:
                ok = False
            samples.append((time.perf_counter() - started) * 1000)
            failures += not ok
    return samples, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--attackers", type=int, default=8)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    url = database_url("spatialite", 1)
    proc = start_server(url)
    try:
        with httpx.Client(base_url=BASE, timeout=60) as c:
            made = c.post("/proposals", headers={"X-API-Key": PLANNER}, json={
                "from_code": "520402006006", "to_code": "520402006009", "child_codes": ["520402006006006"],
                "effective_date": "2025-03-01", "author": "bench"})
            proposal = made.json().get("proposal", {}).get("id") or made.json().get("id") or 1
        samples, failures = client_latency(args.seconds)
        floor = summary(samples)
        print(f"| alone (floor) | – | {floor['p50']:.1f} | {floor['p99']:.1f} | {len(samples)} | {failures} |")
        context = multiprocessing.get_context("fork")
        for name in attacks(proposal):
            if args.only and name not in args.only:
                continue
            stop, results = context.Event(), context.Queue()
            workers = [context.Process(target=attacker, args=(name, proposal, stop, results), daemon=True)
                       for _ in range(args.attackers)]
            for w in workers:
                w.start()
            time.sleep(1)
            samples, failures = client_latency(args.seconds)
            stop.set()
            seen: collections.Counter[str] = collections.Counter()
            for _ in workers:
                seen.update(results.get(timeout=130))
            for w in workers:
                w.join(timeout=10)
            s = summary(samples)
            answers = ", ".join(f"{k}×{v}" for k, v in sorted(seen.items()))
            print(f"| {name} | {answers} | {s['p50']:.1f} | {s['p99']:.1f} | {len(samples)} | {failures} |",
                  flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
