"""Load balancing: solve time on the demo and at scale, and quality against an exact MIP and a greedy baseline.

1. ``suggest_moves`` on the whole district (scale 1; target under 30 s), and at ``--scale 20`` with
   every sub-district solved on its own: time per sub-district (median, p95, max) and statuses.
2. Quality on the demo's sub-district problems (17–195 grids): the default solve (``auto`` with the
   time share it gets in the district run) against the exact optimum (the same MIP proved optimal with
   a long time limit) and against a greedy baseline (best single-grid move while it helps).

    .venv/bin/python bench/balance.py [--scale 1 20] [--backend spatialite] [--quality-limit 5] [--apply]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

import numpy as np
from common import database_url

from geo.balance.instance import BalanceOptions, build_problems, read_balance_data
from geo.balance.moves import suggest_moves
from geo.balance.optimizer import solve
from geo.balance.problem import GUARANTEES, Problem
from geo.db import make_engine


def district_run(url: str, time_limit: float) -> None:
    engine = make_engine(url)
    started = time.perf_counter()
    result = suggest_moves(engine, as_of=dt.date.today(), options=BalanceOptions(time_limit=time_limit))
    wall = time.perf_counter() - started
    s = result.summary
    times = sorted(r.seconds for r in result.solves)
    statuses = {k: sum(r.status == k for r in result.solves) for k in ("optimal", "time_limit")}
    print(f"  wall {wall:.1f} s (time limit {time_limit:.0f} s), status {result.status}; "
          f"{len(result.solves)} solves {statuses}; per solve median {statistics.median(times):.2f} s, "
          f"p95 {times[int(0.95 * (len(times) - 1))]:.2f} s, max {times[-1]:.2f} s")
    print(f"  communities within tolerance {s['within_before']} → {s['within_after']} of {s['communities']}; "
          f"over {s['over_before']} → {s['over_after']}, under {s['under_before']} → {s['under_after']}; "
          f"{s['moves']} moves, {s['moved_grids']} grids, {s['moved_residents']:,} residents")
    open_gap = [r for r in result.solves if r.status != "optimal"]
    for r in open_gap[:10]:
        print(f"    not proved: {r.subdistricts} out {r.out_of_tolerance} (bound {r.out_of_tolerance_bound}), "
              f"moved {r.moved_residents} (bound {r.moved_residents_bound})")
    engine.dispose()


def guarantees_run(url: str, time_limit: float) -> None:
    """The cost of the guarantees: the same district run with them relaxed (today's optimiser) and kept."""
    engine = make_engine(url)
    figures = {}
    for label, relax in (("relaxed", GUARANTEES), ("guaranteed", ())):
        started = time.perf_counter()
        result = suggest_moves(engine, as_of=dt.date.today(),
                               options=BalanceOptions(time_limit=time_limit, relax=tuple(relax)))
        wall = time.perf_counter() - started
        rows = result.communities
        further = int((abs(rows["ratio_after"] - 1) > abs(rows["ratio_before"] - 1) + 1e-9).sum())
        left = int(((rows["flag_before"] == "ok") & (rows["flag_after"] != "ok")).sum())
        figures[label] = (result.summary["within_after"], wall)
        statuses = {k: sum(r.status == k for r in result.solves) for k in ("optimal", "time_limit")}
        print(f"  {label:10s} within {result.summary['within_before']} → {result.summary['within_after']} of "
              f"{result.summary['communities']}; wall {wall:.1f} s; solves {statuses}; communities further from "
              f"target {further}, left the band {left}; moves {result.summary['moves']}")
    (a, ta), (b, tb) = figures["relaxed"], figures["guaranteed"]
    print(f"  guaranteed / relaxed: within {b / a:.3f} (floor 0.98), time {tb / ta:.2f}x (ceiling 1.5x)")
    engine.dispose()


def greedy(problem: Problem) -> np.ndarray:
    """Baseline: repeatedly make the valid single-grid move that helps most (fewer out, less deviation)."""
    assign = problem.home.copy()

    def score(a: np.ndarray) -> tuple[int, float]:
        load = problem.loads(a)
        over = np.maximum(0, load - problem.upper) + np.maximum(0, problem.lower - load)
        return int((~problem.within_strict(a)).sum()), float((over / np.maximum(problem.upper, 1)).sum())

    current = score(assign)
    while True:
        options = []
        for g in np.flatnonzero(problem.movable & (assign == problem.home)):
            for c in problem.candidates[g][1:]:
                trial = assign.copy()
                trial[g] = c
                s = score(trial)
                if s < current:
                    options.append((s, int(problem.residents[g]), int(g), int(c)))
        for s, _, g, c in sorted(options):
            trial = assign.copy()
            trial[g] = c
            if not problem.violations(trial):
                assign, current = trial, s
                break
        else:
            return assign


def quality(url: str, limit: float) -> None:
    engine = make_engine(url)
    options = BalanceOptions()
    with engine.connect() as conn:
        data = read_balance_data(conn, as_of=dt.date.today(), options=options)
    problems = [p for p in build_problems(data, options)[0] if p.n_grids <= 200 and p.movable.any()
                and not p.within_strict(p.home).all()]
    print(f"  {'sub-district':12} {'grids':>5} {'out before':>10} | {'exact out':>9} {'moved':>7} {'s':>6} | "
          f"{'default out':>11} {'moved':>7} {'gap %':>6} {'s':>5} | {'greedy out':>10} {'moved':>7} {'s':>5}")
    gaps, greedy_extra = [], []
    for p in problems:
        t0 = time.perf_counter()
        exact = solve(p, time_limit=300, method="auto")
        t1 = time.perf_counter()
        default = solve(p, time_limit=limit)
        t2 = time.perf_counter()
        base = greedy(p)
        t3 = time.perf_counter()
        assert default.assign is not None and not p.violations(default.assign)
        assert not p.violations(base)
        g_out = int((~p.within_strict(base)).sum())
        optimum = exact.moved_residents or 0
        gap = 100.0 * ((default.moved_residents or 0) - optimum) / max(optimum, 1)
        if default.out_of_tolerance == exact.out_of_tolerance:
            gaps.append(gap)
        greedy_extra.append(g_out - (exact.out_of_tolerance or 0))
        label = p.community_codes[0][:9]
        print(f"  {label:12} {p.n_grids:5d} {int((~p.within_strict(p.home)).sum()):10d} | "
              f"{exact.out_of_tolerance:9d} {exact.moved_residents:7d} {t1 - t0:6.1f} | "
              f"{default.out_of_tolerance:11d} {default.moved_residents:7d} {gap:6.2f} {t2 - t1:5.1f} | "
              f"{g_out:10d} {p.moved_residents(base):7d} {t3 - t2:5.1f}"
              + ("" if exact.status == "optimal" else "  (exact not proved)"))
        sys.stdout.flush()
    print(f"  default vs exact: same count in {len(gaps)}/{len(problems)}, max moved-residents gap "
          f"{max(gaps, default=0):.2f} %; greedy leaves {sum(greedy_extra)} more communities out in all")
    engine.dispose()


def apply_all(url: str) -> None:
    """Apply every suggested move of the district, on a copy of the SpatiaLite database, then check it."""
    import shutil
    import tempfile

    from geo.balance.drafts import apply_drafts, requests_for
    from geo.balance.load import LoadQuery, read_load
    from geo.invariants import check_database
    from geo.reassign import create_proposals

    source = url.removeprefix("sqlite:///")
    with tempfile.TemporaryDirectory() as tmp:
        copy = f"{tmp}/applied.sqlite"
        shutil.copyfile(source, copy)
        engine = make_engine(f"sqlite:///{copy}")
        day = dt.date.today()
        result = suggest_moves(engine, as_of=day, options=BalanceOptions(time_limit=30.0))
        started = time.perf_counter()
        ids = create_proposals(engine, requests_for(result.moves, effective_date=day, author="bench"))
        drafted = time.perf_counter()
        steps = apply_drafts(engine, ids, author="bench")
        applied = time.perf_counter()
        report = check_database(engine, as_of=day)
        checked = time.perf_counter()
        with engine.connect() as conn:
            flags = read_load(conn, as_of=day, query=LoadQuery())["flag"].value_counts().to_dict()
        engine.dispose()
    print(f"  {len(ids)} drafts in {drafted - started:.1f} s; applied in {applied - drafted:.1f} s "
          f"({sum('note' in s for s in steps)} re-pinned after earlier moves); invariants "
          f"{'hold' if report.ok else 'BROKEN'} ({checked - applied:.1f} s)")
    print(f"  after applying: ok {flags.get('ok', 0)}, over {flags.get('over', 0)}, under {flags.get('under', 0)} "
          f"(predicted within tolerance: {result.summary['within_after']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("--backend", default="spatialite")
    parser.add_argument("--time-limit", type=float, default=30.0, help="budget of the district run (scale 1)")
    parser.add_argument("--quality-limit", type=float, default=5.0, help="time limit of the default solve")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--guarantees", action="store_true", help="only compare guarantees kept and relaxed")
    parser.add_argument("--apply", action="store_true", help="also apply every move (scale 1, on a copy) and check")
    args = parser.parse_args()
    for scale in args.scale:
        url = database_url(args.backend, scale)
        if args.guarantees:
            print(f"{args.backend} scale {scale}: guarantees relaxed and kept, "
                  f"time limit {args.time_limit * scale:.0f} s")
            guarantees_run(url, min(600.0, args.time_limit * scale))
            continue
        print(f"{args.backend} scale {scale}: suggest_moves over every sub-district")
        district_run(url, min(600.0, args.time_limit * scale))
        if scale == 1 and args.apply and args.backend == "spatialite":
            print("applying every suggested move, then checking the invariants")
            apply_all(url)
        if scale == 1 and not args.no_quality:
            print("quality on the demo's sub-districts (up to 200 grids)")
            quality(url, args.quality_limit)


if __name__ == "__main__":
    main()
