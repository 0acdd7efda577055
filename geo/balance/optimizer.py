"""The boundary-move MIP, solved with HiGHS in two lexicographic phases.

Phase 1 maximises the number of communities within tolerance (among answers with as many, those
that fix the communities furthest out: :attr:`Problem.fix_weights`); phase 2 keeps that and
minimises the residents moved (ties broken by fewer grids moved). Variables:

* ``x[g, c]`` binary: grid ``g`` ends in community ``c`` (one of its candidates);
* ``z[c]`` binary: ``c`` is within tolerance: ``z[c] = 1 ⇒ lower[c] <= load[c] <= upper[c]``.

Contiguity (the rules of :mod:`.problem`) is enforced either by cut constraints added lazily
(``method="cuts"``, the default: the cuts with one grid up front, then after each solve the cuts that
its answer violates, until the answer obeys every rule; each answer of the relaxed model is also
repaired into a valid incumbent) or by single-commodity flows (``method="flow"``, compact and exact).
Bounds come from the relaxed model, so they hold for the full one. Every run has a time limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from geo.balance.cuts import Cut, repair, separate, singleton_cuts
from geo.balance.flows import add_flows
from geo.balance.mip import Model, Run, Solver
from geo.balance.problem import EPS, GUARANTEES, Problem, Solution


@dataclass
class Formulation:
    """The MIP of a :class:`Problem`, with the indices needed to read an answer back."""

    problem: Problem
    model: Model
    x: dict[tuple[int, int], int]  # (grid, community) -> column
    z: list[int]  # community -> column
    move_cost: np.ndarray  # phase-2 cost of every column
    cost_scale: int  # residents are multiplied by this in the phase-2 cost

    def values(self, assign: np.ndarray) -> np.ndarray:
        """The x and z column values of an assignment (flow columns, if any, are left at 0)."""
        v = np.zeros(len(self.model.cost))
        for (g, c), col in self.x.items():
            v[col] = 1.0 if assign[g] == c else 0.0
        within = self.problem.within_strict(assign)
        for c, col in enumerate(self.z):
            v[col] = 1.0 if within[c] else 0.0
        return v

    def start(self, assign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An assignment as a (partial) start for HiGHS: its x and z columns."""
        columns = np.array([*self.x.values(), *self.z], dtype=np.int32)
        return columns, self.values(assign)[columns]

    def assignment(self, values: np.ndarray) -> np.ndarray:
        assign = self.problem.home.copy()
        for (g, c), col in self.x.items():
            if values[col] > 0.5:
                assign[g] = c
        return assign

    def cut_rows(self, cuts: list[Cut]) -> tuple[list[list[int]], list[list[float]], list[float], list[float]]:
        index, value, lower, upper = [], [], [], []
        seen: set[tuple[int, int, tuple[tuple[int, int], ...]]] = set()
        for g, c, rhs in cuts:
            if (g, c, rhs) in seen:
                continue
            seen.add((g, c, rhs))
            merged: dict[int, float] = {self.x[g, c]: 1.0}
            for pair in rhs:
                if pair in self.x:
                    col = self.x[pair]
                    merged[col] = merged.get(col, 0.0) - 1.0
            index.append(list(merged))
            value.append(list(merged.values()))
            lower.append(-np.inf)
            upper.append(0.0)
        return index, value, lower, upper


def formulate(problem: Problem, *, method: str = "cuts") -> Formulation:
    """Build the MIP of ``problem`` (phase-1 objective: maximise communities within tolerance)."""
    m = Model()
    p = problem
    x: dict[tuple[int, int], int] = {}
    for g, cands in enumerate(p.candidates):
        if len(cands) == 1:
            x[g, cands[0]] = m.var(1.0, 1.0)
            continue
        for c in cands:
            x[g, c] = m.var()
        m.row(((x[g, c], 1.0) for c in cands), 1.0, 1.0)
    members: list[list[int]] = [[] for _ in range(p.n_communities)]
    for (g, c) in x:
        members[c].append(g)
    weights, _ = p.fix_weights
    z = [m.var(cost=-float(weights[c]), lower=1.0 if p.requires[c] else 0.0) for c in range(p.n_communities)]
    for c in range(p.n_communities):
        _tolerance_rows(m, p, c, members[c], x, z[c])
    if p.max_lost is not None:
        for a in range(p.n_communities):
            own = [int(g) for g in np.flatnonzero(p.home == a) if len(p.candidates[g]) > 1]
            if len(own) > p.max_lost:
                m.row(((x[g, a], 1.0) for g in own), lower=len(own) - p.max_lost)
    least, most = p.no_worse_bounds()
    for c in range(p.n_communities):
        load = [(x[g, c], float(p.workload[g])) for g in members[c]]
        if np.isfinite(most[c]):
            m.row(load, upper=float(most[c]) + EPS)
        if np.isfinite(least[c]):
            m.row(load, lower=float(least[c]) - EPS)
    _guarantee_rows(m, p, members, x)
    if method in ("flow", "hybrid"):
        add_flows(m, p, x)
    scale = int(np.count_nonzero(p.movable)) + 1
    move_cost = np.zeros(len(m.cost))
    for (g, c), col in x.items():
        if c != p.home[g]:
            move_cost[col] = float(p.residents[g]) * scale + 1.0
    return Formulation(p, m, x, z, move_cost, scale)


def _guarantee_rows(m: Model, p: Problem, members: list[list[int]], x: dict[tuple[int, int], int]) -> None:
    """The guarantees of :mod:`.problem` as rows: bounds on each load, and the cap on receivers above the band."""
    least, most = p.guarantee_bounds()
    capped = p.capped_receivers()
    for c in range(p.n_communities):
        load = [(x[g, c], float(p.workload[g])) for g in members[c]]
        if np.isfinite(most[c]) or np.isfinite(least[c]):
            m.row(load, lower=float(least[c]) if np.isfinite(least[c]) else -np.inf,
                  upper=float(most[c]) if np.isfinite(most[c]) else np.inf)
        if capped[c]:
            big = float(sum(w for _, w in load)) - float(p.upper[c])
            for g in members[c]:
                if p.home[g] != c:  # receiving g ⇒ load <= upper
                    m.row([*load, (x[g, c], big)], upper=float(p.upper[c]) + big)


def _tolerance_rows(m: Model, p: Problem, c: int, grids: list[int], x: dict[tuple[int, int], int],
                    zc: int) -> None:
    load = [(x[g, c], float(p.workload[g])) for g in grids]
    most = float(sum(p.workload[g] for g in grids))
    lower, upper = p.strict_band(c)
    if most > upper:
        m.row([*load, (zc, most - upper)], upper=most)  # z = 1 ⇒ load <= upper
    if lower > 0:
        m.row([*load, (zc, -lower)], lower=0.0)  # z = 1 ⇒ load >= lower


@dataclass
class _Phase:
    """The outcome of one phase: the best valid answer and the bound of the relaxed model."""

    status: str
    best: np.ndarray | None
    bound: float | None


def _lazy(form: Formulation, solver: Solver, *, deadline: float, score: Callable[[np.ndarray], float | None],
          start: np.ndarray | None, lazy: bool) -> _Phase:
    """Run, add the violated cuts, run again, until the answer is valid or time is up.

    ``score`` ranks valid answers (lower is better) and returns None for one this phase cannot use.
    """
    best = start
    best_score = score(best) if best is not None else None
    bound: float | None = None
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return _Phase("time_limit", best, bound)
        run: Run = solver.run(time_limit=remaining, start=form.start(best) if best is not None else None)
        if run.bound is not None:
            bound = run.bound if bound is None else max(bound, run.bound)
        if run.values is None:  # infeasible (or numerically so, despite a valid answer) or out of time
            return _Phase("infeasible" if run.status == "infeasible" and best is None else "time_limit", best,
                          bound)
        assign = form.assignment(run.values)
        cuts = separate(form.problem, assign) if lazy else []
        candidate = repair(form.problem, assign) if cuts else assign
        s = score(candidate)
        if s is not None and (best_score is None or s < best_score):
            best, best_score = candidate, s
        if not cuts:
            return _Phase(run.status, best, bound)
        solver.add_rows(*form.cut_rows(cuts))


def solve(problem: Problem, *, time_limit: float = 10.0, method: str = "auto", threads: int = 1) -> Solution:
    """Solve ``problem`` within about ``time_limit`` seconds.

    ``method``: ``cuts`` (lazy cut constraints), ``flow`` (flows only), ``hybrid`` (flows plus the
    up-front cuts) or ``auto``: cuts for the first 75 % of the time, then, if not yet proved optimal,
    the hybrid model started from the best answer so far. The better answer and bounds are kept.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if method != "auto":
        return _solve(problem, time_limit=time_limit, method=method, threads=threads)
    started = time.perf_counter()
    start = _relaxed_start(problem, 0.25 * time_limit, threads)
    first = _solve(problem, time_limit=0.75 * (time_limit - (time.perf_counter() - started)), method="cuts",
                   threads=threads, start=start)
    if first.status in ("optimal", "infeasible"):
        return first
    remaining = time_limit - (time.perf_counter() - started)
    second = _solve(problem, time_limit=remaining, method="hybrid", threads=threads, start=first.assign)
    weights, _ = problem.fix_weights

    def fixed(s: Solution) -> int:  # phase 1's objective: the weighted count within tolerance
        return int(weights @ problem.within_strict(s.assign)) if s.assign is not None else -1

    best = min((s for s in (first, second) if s.assign is not None),
               key=lambda s: (-fixed(s), s.moved_residents or 0), default=second)
    return Solution(
        status=second.status, assign=best.assign, out_of_tolerance=best.out_of_tolerance,
        out_of_tolerance_bound=_max(first.out_of_tolerance_bound, second.out_of_tolerance_bound),
        moved_residents=best.moved_residents,
        # a phase-2 bound holds for answers that fix as much as its own phase 1 did
        moved_residents_bound=_max(first.moved_residents_bound, second.moved_residents_bound)
        if fixed(first) == fixed(second) else best.moved_residents_bound,
        gap=None, seconds=time.perf_counter() - started, message=second.message,
    ).with_gap()


METHODS = ("auto", "cuts", "flow", "hybrid")


def _relaxed_start(problem: Problem, time_limit: float, threads: int) -> np.ndarray | None:
    """A start for a problem with guarantees: the answer without them, repaired until it keeps them.

    The guarantees turn the loads into narrow two-sided windows that HiGHS finds few answers inside;
    the relaxed problem is solved fast and its repaired answer usually keeps most of what it fixes.
    """
    if not set(GUARANTEES) - problem.relax:
        return None
    relaxed = _solve(replace(problem, relax=frozenset(GUARANTEES)), time_limit=time_limit, method="cuts",
                     threads=threads)
    return repair(problem, relaxed.assign) if relaxed.assign is not None else None


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _solve(problem: Problem, *, time_limit: float, method: str, threads: int,
           start: np.ndarray | None = None) -> Solution:
    started = time.perf_counter()
    deadline = started + time_limit
    form = formulate(problem, method=method)
    lazy = method == "cuts"
    solver = form.model.solver(threads=threads)
    if method in ("cuts", "hybrid"):
        solver.add_rows(*form.cut_rows(singleton_cuts(problem)))
    required = problem.requires
    weights, unit = problem.fix_weights

    def count_score(assign: np.ndarray) -> float | None:
        within = problem.within_strict(assign)
        if problem.violations(assign) or (required & ~within).any():
            return None
        return -float(weights @ within)

    if start is None or count_score(start) is None:
        start = problem.home.copy()
    if count_score(start) is None:
        start = None
    phase1_deadline = started + time_limit * 0.6
    first = _lazy(form, solver, deadline=phase1_deadline, score=count_score, start=start, lazy=lazy)
    if first.best is None:
        message = None if first.status == "infeasible" else "no answer found within the time limit"
        return Solution(first.status, None, None, None, None, None, None, time.perf_counter() - started,
                        message=message)
    best_count = int(problem.within_strict(first.best).sum())
    best_value = int(weights @ problem.within_strict(first.best))
    solver.add_rows([form.z], [weights.astype(float).tolist()], [best_value - 0.5], [np.inf])
    solver.set_costs(form.move_cost)

    def move_score(assign: np.ndarray) -> float | None:
        score = count_score(assign)
        if score is None or -score < best_value - 0.5:
            return None
        return float(form.move_cost @ form.values(assign))

    second = _lazy(form, solver, deadline=deadline, score=move_score, start=first.best, lazy=lazy)
    assign = second.best if second.best is not None else first.best
    count_bound = -first.bound / unit if first.bound is not None else None
    moved = problem.moved_residents(assign)
    moved_bound = None if second.bound is None else float(max(0.0, np.floor(second.bound / form.cost_scale + EPS)))
    status = "optimal" if first.status == second.status == "optimal" else "time_limit"
    return Solution(
        status=status, assign=assign, out_of_tolerance=problem.n_communities - best_count,
        out_of_tolerance_bound=None if count_bound is None else max(0, problem.n_communities - int(
            np.floor(count_bound + EPS))),
        moved_residents=moved, moved_residents_bound=moved_bound, gap=None,
        seconds=time.perf_counter() - started,
    ).with_gap()
