"""Impact report of the Nanjiao -> Lida change (a drawn area, a third of Nanjiao's residents): JSON and PDF.

Each run creates the proposal as a draft and times, n times each: the impact model (what
``GET /proposals/{id}/impact`` computes), its JSON, the HTML page and the A4 PDF (model included, as
``GET /proposals/{id}/report.pdf`` does it). It then applies the proposal, times the model and PDF of
the applied proposal (read from the versioned tables) and reverts it, so the database ends as it began
with two more changes in its history. Wall-clock and CPU seconds are both shown: on a busy machine
wall time includes waiting for the CPU. Targets: JSON under 1 s, PDF under 5 s.

    .venv/bin/python bench/report.py [--scale 1] [--backends spatialite postgis] [-n 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import database_url
from sqlalchemy import text

from geo.db import make_engine
from geo.impact import compute_impact
from geo.reassign import ProposalRequest, apply_proposal, create_proposal, revert_proposal
from maps.report import render_html, render_pdf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from scenarios import nanjiao_third_polygon  # noqa: E402


def _timed(call: Callable[[], object], n: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``n`` calls (after one warm-up call), and the last result."""
    result = call()
    walls, cpus = [], []
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def run(backend: str, scale: int, n: int) -> list[tuple[str, float, float]]:
    engine = make_engine(database_url(backend, scale))
    polygon, nanjiao, lida = nanjiao_third_polygon(engine)
    with engine.connect() as conn:  # after every change already in the history
        latest = conn.execute(text("SELECT max(effective_date) FROM change_log")).scalar_one()
    day = max(dt.date.fromisoformat(str(latest)[:10]) + dt.timedelta(days=1), dt.date(2026, 1, 1))
    pid = create_proposal(engine, ProposalRequest(from_code=nanjiao.code, to_code=lida.code, author="bench",
                                                  area=polygon, effective_date=day))
    rows = []
    wall, cpu, report = _timed(lambda: compute_impact(engine, pid), n)
    rows.append(("draft: impact model", wall, cpu))
    wall, cpu, _ = _timed(lambda: compute_impact(engine, pid).model_dump_json(), n)
    rows.append(("draft: JSON (model + dump)", wall, cpu))
    wall, cpu, _ = _timed(lambda: render_html(compute_impact(engine, pid), "zh"), n)
    rows.append(("draft: HTML (model + page)", wall, cpu))
    wall, cpu, pdf = _timed(lambda: render_pdf(compute_impact(engine, pid), "zh"), n)
    rows.append(("draft: PDF (model + A4)", wall, cpu))
    apply_proposal(engine, pid, author="bench")
    try:
        wall, cpu, _ = _timed(lambda: compute_impact(engine, pid).model_dump_json(), n)
        rows.append(("applied: JSON", wall, cpu))
        wall, cpu, _ = _timed(lambda: render_pdf(compute_impact(engine, pid), "zh"), n)
        rows.append(("applied: PDF", wall, cpu))
    finally:
        revert_proposal(engine, pid, author="bench", effective_date=day + dt.timedelta(days=1))
    print(f"  {backend} x{scale}: {report.summary.moved.residents:,} residents in "  # type: ignore[attr-defined]
          f"{report.summary.moved.buildings} buildings moved; PDF {len(pdf):,} bytes")  # type: ignore[attr-defined,arg-type]
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("--backends", nargs="+", default=["spatialite", "postgis"])
    parser.add_argument("-n", type=int, default=5, help="repetitions (median reported)")
    args = parser.parse_args()
    results = [(backend, scale, run(backend, scale, args.n)) for scale in args.scale for backend in args.backends]
    print(f"{'backend':10} {'scale':>5}  {'step':28} {'wall s':>7} {'CPU s':>7}")
    for backend, scale, rows in results:
        for name, wall, cpu in rows:
            print(f"{backend:10} {scale:>5}  {name:28} {wall:7.3f} {cpu:7.3f}")


if __name__ == "__main__":
    main()
