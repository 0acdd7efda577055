"""Suggested boundary moves: whole grids between adjacent communities.

As many communities as possible fall within tolerance while as few residents as possible move.

:func:`suggest_moves` reads the data, builds one problem per sub-district (or per group of linked
sub-districts), solves them in parallel under one time budget, and returns the moves grouped per
(from, to) pair with a before/after table. Turning them into draft proposals is :mod:`.drafts`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from geo.balance.instance import BalanceData, BalanceOptions, build_problems, read_balance_data
from geo.balance.load import flag_of, records
from geo.balance.optimizer import solve
from geo.balance.problem import GUARANTEE_TEXT, GUARANTEES, Problem, Solution
from geo.errors import InvalidInput


@dataclass(frozen=True)
class Move:
    """Grids moving from one community to an adjacent one: one draft proposal."""

    from_code: str
    from_name: str
    to_code: str
    to_name: str
    grid_codes: tuple[str, ...]
    residents: int
    households: int
    workload: float
    workers_moved: int = 0  # community workers who go with the grids (geo.balance.plan.carry_workers)


@dataclass
class SolveReport:
    """How one problem was solved: status, objective, bound, gap and time."""

    subdistricts: list[str]
    communities: int
    grids: int
    movable_grids: int
    status: str  # optimal | time_limit | infeasible
    out_of_tolerance_before: int
    out_of_tolerance: int | None
    out_of_tolerance_bound: int | None
    moved_residents: int | None
    moved_residents_bound: float | None
    gap: float | None
    seconds: float
    message: str | None = None


@dataclass
class BalanceResult:
    """Suggested moves, how they were found, and the load before and after."""

    as_of: dt.date
    status: str
    moves: list[Move]
    solves: list[SolveReport]
    communities: pd.DataFrame  # before/after rows of every community a move touches
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    proposal_ids: list[int | None] = field(default_factory=list)  # per move; None where the draft was skipped
    load_table: pd.DataFrame | None = None  # every community of the district, before (for the shortfall)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # drafts not stored, with their reason
    shortfall: list[dict[str, Any]] = field(default_factory=list)  # geo.balance.plan.shortfall
    staffing: dict[str, Any] | None = None  # new workers placed after the moves
    plan: dict[str, str] | None = None  # the plan in one sentence (zh, en)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "as_of": self.as_of.isoformat(), "status": self.status, "summary": self.summary,
            "moves": [{**m.__dict__, "grid_codes": list(m.grid_codes), "workload": round(m.workload, 2),
                       "proposal_id": self.proposal_ids[i] if i < len(self.proposal_ids) else None}
                      for i, m in enumerate(self.moves)],
            "communities": records(self.communities),
            "solves": [s.__dict__ for s in self.solves], "warnings": self.warnings,
            "skipped": self.skipped, "shortfall": self.shortfall, "staffing": self.staffing, "plan": self.plan,
        }


def suggest_moves(engine: Engine, *, as_of: dt.date, options: BalanceOptions | None = None,
                  workers: int | None = None) -> BalanceResult:
    """Suggested moves as of ``as_of``; raises InvalidInput when required communities cannot be fixed."""
    options = options or BalanceOptions()
    started = time.perf_counter()
    with engine.connect() as conn:
        data = read_balance_data(conn, as_of=as_of, options=options)
    problems, warnings = build_problems(data, options)
    deadline = started + options.time_limit
    solutions = _solve_all(problems, deadline, workers or min(2, os.cpu_count() or 1))
    for problem, solution in zip(problems, solutions, strict=True):
        if solution.status == "infeasible":
            raise InvalidInput(diagnose(data, options, problem), field="required")
    assign = {code: home for code, home in zip(data.grids["code"], data.grids["parent_code"], strict=True)}
    reports = []
    for problem, solution in zip(problems, solutions, strict=True):
        if solution.assign is not None:
            for g, c in enumerate(solution.assign):
                assign[problem.grid_codes[g]] = problem.community_codes[int(c)]
        if solution.status != "trivial":
            reports.append(_report(data, problem, solution))
    return _result(data, options, assign, reports, warnings)


SOLVE_CAP_S = 15.0  # beyond its share, what one of many problems may take


def _solve_all(problems: list[Problem], deadline: float, workers: int) -> list[Solution]:
    """Solve every problem before ``deadline``, ``workers`` at a time, largest first.

    A problem may use its share of the time left (by grid count), or more if that is short, up to
    ``SOLVE_CAP_S`` or half the time left: one hard problem cannot starve the rest, and time an easy
    one leaves unused goes to the others. A lone problem gets the whole budget.
    """
    pending = [p for p in problems if not _trivial(p)]
    weight_left = [float(sum(p.n_grids for p in pending))]

    def run(problem: Problem) -> Solution:
        if _trivial(problem):
            return Solution("trivial", problem.home.copy(), int((~problem.within(problem.home)).sum()), None,
                            0, 0.0, 0.0, 0.0)
        remaining = max(0.0, deadline - time.perf_counter())
        share = remaining * workers * problem.n_grids / max(weight_left[0], 1.0)
        weight_left[0] -= problem.n_grids
        return solve(problem, time_limit=max(0.2, min(remaining, max(share, min(SOLVE_CAP_S, 0.5 * remaining)))))

    if workers <= 1 or len(problems) <= 1:
        return [run(p) for p in problems]
    with ThreadPoolExecutor(max_workers=workers) as pool:  # HiGHS releases the GIL while it solves
        return list(pool.map(run, problems))


def _trivial(problem: Problem) -> bool:
    """Nothing can move, or everything is already within tolerance (so moving nothing is optimal)."""
    within = problem.within_strict(problem.home)
    if (problem.requires & ~within).any():
        return False
    return not problem.movable.any() or bool(within.all())


def _report(data: BalanceData, problem: Problem, s: Solution) -> SolveReport:
    subs = data.communities.set_index("code").loc[list(problem.community_codes), "subdistrict_code"]
    return SolveReport(
        subdistricts=sorted(set(subs)), communities=problem.n_communities, grids=problem.n_grids,
        movable_grids=int(problem.movable.sum()), status=s.status,
        out_of_tolerance_before=int((~problem.within(problem.home)).sum()),
        out_of_tolerance=s.out_of_tolerance,
        out_of_tolerance_bound=None if s.out_of_tolerance_bound is None else int(s.out_of_tolerance_bound),
        moved_residents=s.moved_residents, moved_residents_bound=s.moved_residents_bound,
        gap=None if s.gap is None else round(s.gap, 6), seconds=round(s.seconds, 3), message=s.message,
    )


def _result(data: BalanceData, options: BalanceOptions, assign: dict[str, str], reports: list[SolveReport],
            warnings: list[str]) -> BalanceResult:
    grids = data.grids.assign(after=data.grids["code"].map(assign))
    moved = grids[grids["after"] != grids["parent_code"]]
    names = data.communities.set_index("code")["name"]
    moves = [
        Move(from_code=a, from_name=str(names[a]), to_code=b, to_name=str(names[b]),
             grid_codes=tuple(group["code"]), residents=int(group["residents"].sum()),
             households=int(group["households"].sum()), workload=float(group["workload"].sum()))
        for (a, b), group in moved.groupby(["parent_code", "after"], sort=True)
    ]
    table = _before_after(data, options, grids)
    touched = set(moved["parent_code"]) | set(moved["after"])
    summary = {
        "communities": len(table),
        "within_before": int((table["flag_before"] == "ok").sum()),
        "within_after": int((table["flag_after"] == "ok").sum()),
        "over_before": int((table["flag_before"] == "over").sum()),
        "over_after": int((table["flag_after"] == "over").sum()),
        "under_before": int((table["flag_before"] == "under").sum()),
        "under_after": int((table["flag_after"] == "under").sum()),
        "moves": len(moves), "moved_grids": len(moved), "moved_residents": int(moved["residents"].sum()),
        "moved_households": int(moved["households"].sum()),
        "seconds": round(sum(r.seconds for r in reports), 3),
    }
    statuses = {r.status for r in reports}
    status = "time_limit" if "time_limit" in statuses else "optimal"
    return BalanceResult(as_of=data.as_of, status=status, moves=moves, solves=reports,
                         communities=table[table["code"].isin(touched)].reset_index(drop=True),
                         summary=summary, warnings=warnings,
                         load_table=data.district if data.district is not None else data.communities)


def _before_after(data: BalanceData, options: BalanceOptions, grids: pd.DataFrame) -> pd.DataFrame:
    coms = data.communities
    after = grids.groupby("after")[["residents", "households", "workload"]].sum()
    out = pd.DataFrame({
        "code": coms["code"], "name": coms["name"], "kind": coms["kind"],
        "subdistrict_code": coms["subdistrict_code"], "workers": coms["workers"], "residents_before": coms["residents"],
        "residents_after": coms["code"].map(after["residents"]).fillna(0).astype(int),
        "households_after": coms["code"].map(after["households"]).fillna(0).astype(int),
        "workload_before": coms["workload"],
        "workload_after": coms["code"].map(after["workload"]).fillna(0.0),
        "ratio_before": coms["ratio"],
    })
    norms = np.array([options.load.norm_for(k) for k in coms["kind"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out["workload_after"] * norms / 10_000.0 / out["workers"].astype(float)
    out["ratio_after"] = ratio.where(out["workers"] > 0)
    out["flag_before"] = coms["flag"]
    out["flag_after"] = [flag_of(None if pd.isna(r) else float(r), float(w), options.load.tolerance)
                         for r, w in zip(out["ratio_after"], out["workload_after"], strict=True)]
    return out


def diagnose(data: BalanceData, options: BalanceOptions, problem: Problem) -> str:
    """Which constraint makes ``problem`` infeasible, found by solving it again with each one relaxed."""
    coms = data.communities.set_index("code")
    required = [problem.community_codes[c] for c in np.flatnonzero(problem.requires)]
    named = ", ".join(f"{coms.loc[c, 'name']} ({c})" for c in required)
    for code in required:
        if coms.loc[code, "workers"] == 0 and coms.loc[code, "workload"] > 0:
            return f"{coms.loc[code, 'name']} ({code}) has no workers: no boundary change brings it within " \
                   "tolerance; allocate workers first (POST /staffing)"
    budget = max(2.0, min(10.0, options.time_limit / 4))
    relaxations: list[tuple[BalanceOptions, str]] = []
    if options.locked_communities or options.locked_grids:
        locks = ", ".join([*options.locked_communities, *options.locked_grids])
        relaxations.append((replace(options, locked_communities=(), locked_grids=()),
                            f"{named} cannot be brought within tolerance while {locks} are locked "
                            "(it can be if they are unlocked)"))
    if options.max_grids_lost is not None:
        relaxations.append((replace(options, max_grids_lost=None),
                            f"{named} cannot be brought within tolerance when a community may lose at most "
                            f"{options.max_grids_lost} grid(s) (max_grids_lost); it can with a higher cap"))
    if not options.cross_subdistrict:
        relaxations.append((replace(options, cross_subdistrict=True),
                            f"{named} cannot be brought within tolerance by moves inside its sub-district; "
                            "it can if moves across sub-districts are allowed (cross_subdistrict)"))
    for name in GUARANTEES:
        if name not in options.relax:
            relaxations.append((replace(options, relax=(*options.relax, name)),
                                f"{named} cannot be brought within tolerance without breaking the guarantee "
                                f"{name} ({GUARANTEE_TEXT[name]}); it can if that guarantee is relaxed (relax)"))
    if len(set(GUARANTEES) - set(options.relax)) > 1:
        relaxations.append((replace(options, relax=GUARANTEES),
                            f"{named} cannot be brought within tolerance without breaking the guarantees "
                            f"({'; '.join(GUARANTEE_TEXT.values())}); it can if they are relaxed "
                            f"(relax: {', '.join(GUARANTEES)})"))
    for relaxed, message in relaxations:
        if _feasible(data, relaxed, set(required), budget):
            return message
    bands = []
    for code in required:
        row = coms.loc[code]
        c = problem.community_codes.index(code)
        bands.append(f"{row['name']} ({code}) has a workload of {row['workload']:,.0f} for {row['workers']} "
                     f"workers, band {problem.lower[c]:,.0f}–{problem.upper[c]:,.0f}")
    return (f"no set of whole-grid moves between adjacent communities brings {named} within tolerance "
            f"(the required communities, with every other rule): " + "; ".join(bands)
            + ". Consider allocating workers (POST /staffing) or splitting grids")


def _feasible(data: BalanceData, options: BalanceOptions, required: set[str], budget: float) -> bool:
    problems, _ = build_problems(data, options)
    for problem in problems:
        if required & set(problem.community_codes):
            if not solve(problem, time_limit=budget).has_answer:
                return False
    return True
