"""The boundary-move MIP, solved with HiGHS in two lexicographic phases.

Phase 1 maximises the number of communities within tolerance; phase 2 keeps that number and
minimises the residents moved (ties broken by fewer grids). Variables:

* ``x[g, c]`` binary: grid ``g`` ends in community ``c`` (``c`` among its candidates);
* ``z[c]`` binary: ``c`` is within tolerance, ``z[c] = 1 ⇒ lower[c] <= load[c] <= upper[c]``;
* contiguity by single-commodity flows (sound and complete for the rules of :mod:`.problem`):
  - *receive flow* of each community ``b``, from its seat grid, through the grids it keeps and on to
    the grids it receives; an arc ``g → h`` exists only if ``g`` is one of ``b``'s own grids or ``g``
    and ``h`` come from the same community, so each ``S(a→b)`` hangs on ``stay(b)``. Every grid that
    ends in ``b`` absorbs one unit: a part cut off from the seat cannot be fed.
  - *give flow* of each community ``a`` with two or more possible receivers, one per receiver ``c``:
    grids ``a`` keeps are sources, grids it gives to ``c`` absorb one unit each, and flow passes only
    through grids kept by ``a`` or given to ``c``, so each ``S(a→c)`` hangs on ``stay(a)``.

Every solve has a time limit; the status, objective, bound and gap are reported.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import highspy
import numpy as np

from geo.balance.problem import EPS, Problem, Solution


@dataclass
class _Model:
    """Columns and rows of a MIP, gathered before handing them to HiGHS."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_index: list[list[int]] = field(default_factory=list)
    row_value: list[list[float]] = field(default_factory=list)

    def var(self, lower: float = 0.0, upper: float = 1.0, *, integer: bool = True, cost: float = 0.0) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, terms: Iterable[tuple[int, float]], lower: float = -highspy.kHighsInf,
            upper: float = highspy.kHighsInf) -> int:
        merged: dict[int, float] = {}
        for i, v in terms:
            merged[i] = merged.get(i, 0.0) + v
        self.row_index.append(list(merged))
        self.row_value.append(list(merged.values()))
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_lower) - 1

    def highs(self, *, time_limit: float, threads: int = 1) -> highspy.Highs:
        lp = highspy.HighsLp()
        lp.num_col_ = len(self.cost)
        lp.num_row_ = len(self.row_lower)
        lp.col_cost_ = np.array(self.cost)
        lp.col_lower_ = np.array(self.lower)
        lp.col_upper_ = np.array(self.upper)
        lp.row_lower_ = np.array(self.row_lower)
        lp.row_upper_ = np.array(self.row_upper)
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in self.integer]
        # Column-wise matrix from the rows.
        cols: list[list[tuple[int, float]]] = [[] for _ in range(lp.num_col_)]
        for r, (idx, val) in enumerate(zip(self.row_index, self.row_value, strict=True)):
            for i, v in zip(idx, val, strict=True):
                cols[i].append((r, v))
        starts, index, value = [0], [], []
        for entries in cols:
            for r, v in entries:
                index.append(r)
                value.append(v)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=float)
        lp.a_matrix_.num_col_ = lp.num_col_
        lp.a_matrix_.num_row_ = lp.num_row_
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", threads)
        h.setOptionValue("random_seed", 1)
        h.setOptionValue("time_limit", max(0.01, float(time_limit)))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.5)  # objectives are integers
        h.passModel(lp)
        return h


@dataclass
class Formulation:
    """The MIP of a :class:`Problem`, with the indices needed to read an answer back."""

    problem: Problem
    model: _Model
    x: dict[tuple[int, int], int]  # (grid, community) -> column
    z: list[int]  # community -> column
    move_cost: dict[int, float]  # column of a move -> its cost in phase 2
    cost_scale: int  # residents are multiplied by this in the phase-2 cost


def formulate(problem: Problem) -> Formulation:
    """Build the MIP of ``problem`` (phase-1 objective: maximise communities within tolerance)."""
    m = _Model()
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
    z = [m.var(cost=-1.0, lower=1.0 if p.requires[c] else 0.0) for c in range(p.n_communities)]
    for c in range(p.n_communities):
        _tolerance_rows(m, p, c, members[c], x, z[c])
    _receive_flow(m, p, members, x)
    _give_flows(m, p, x)
    if p.max_lost is not None:
        for a in range(p.n_communities):
            own = [g for g in np.flatnonzero(p.home == a) if len(p.candidates[g]) > 1]
            if len(own) > p.max_lost:
                m.row(((x[g, a], 1.0) for g in own), lower=len(own) - p.max_lost)
    scale = int(np.count_nonzero(p.movable)) + 1
    move_cost = {col: float(p.residents[g]) * scale + 1.0 for (g, c), col in x.items() if c != p.home[g]}
    return Formulation(p, m, x, z, move_cost, scale)


def _tolerance_rows(m: _Model, p: Problem, c: int, grids: list[int], x: dict[tuple[int, int], int],
                    zc: int) -> None:
    load = [(x[g, c], float(p.workload[g])) for g in grids]
    most = float(sum(p.workload[g] for g in grids))
    lower, upper = float(p.lower[c]), float(p.upper[c])
    shrink = EPS * max(1.0, upper)
    upper_in = max(lower, upper - shrink)  # z = 1 must mean strictly within, whatever the rounding
    if most > upper_in:
        # load + (most - upper) z <= most
        m.row([*load, (zc, most - upper_in)], upper=most)
    if lower > 0:
        m.row([*load, (zc, -(lower + shrink))], lower=0.0)


def _receive_flow(m: _Model, p: Problem, members: list[list[int]], x: dict[tuple[int, int], int]) -> None:
    """Each community's seat feeds the grids it keeps, and through them the grids it receives."""
    for b in range(p.n_communities):
        nodes = set(members[b])
        if all(len(p.candidates[g]) == 1 for g in nodes):
            continue  # nothing can leave or arrive: the community stays as it is
        anchor = int(p.anchor[b])
        cap = float(len(nodes))
        inflow: dict[int, list[int]] = {g: [] for g in nodes}
        outflow: dict[int, list[int]] = {g: [] for g in nodes}
        for g in nodes:
            for h in p.neighbours[g]:
                if h not in nodes or h == anchor:
                    continue
                if p.home[g] != b and p.home[g] != p.home[h]:
                    continue
                f = m.var(0.0, cap, integer=False)
                inflow[h].append(f)
                outflow[g].append(f)
                m.row([(f, 1.0), (x[h, b], -cap)], upper=0.0)
                if g != anchor:
                    m.row([(f, 1.0), (x[g, b], -cap)], upper=0.0)
        for h in nodes:
            if h == anchor:
                continue
            terms = [(f, 1.0) for f in inflow[h]] + [(f, -1.0) for f in outflow[h]] + [(x[h, b], -1.0)]
            m.row(terms, lower=0.0)


def _give_flows(m: _Model, p: Problem, x: dict[tuple[int, int], int]) -> None:
    """For a community that may give to several others, what it gives to each hangs on what it keeps."""
    for a in range(p.n_communities):
        own = [int(g) for g in np.flatnonzero(p.home == a)]
        receivers = sorted({c for g in own for c in p.candidates[g][1:]})
        if len(receivers) < 2:
            continue  # stay(a) ∪ S(a→c) is then all of a's original (connected) territory
        cap = float(len(own))
        own_set = set(own)
        for c in receivers:
            inflow: dict[int, list[int]] = {g: [] for g in own}
            outflow: dict[int, list[int]] = {g: [] for g in own}
            for g in own:
                for h in p.neighbours[g]:
                    if h not in own_set or (h, c) not in x:
                        continue
                    f = m.var(0.0, cap, integer=False)
                    inflow[h].append(f)
                    outflow[g].append(f)
                    m.row([(f, 1.0), (x[h, c], -cap)], upper=0.0)
                    source = [(x[g, a], -cap)] + ([(x[g, c], -cap)] if (g, c) in x else [])
                    m.row([(f, 1.0), *source], upper=0.0)
            for h in own:
                if (h, c) not in x:
                    continue
                big = cap * max(1, len(outflow[h]))
                terms = [(f, 1.0) for f in inflow[h]] + [(f, -1.0) for f in outflow[h]]
                m.row([*terms, (x[h, c], -1.0), (x[h, a], big)], lower=0.0)


STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kInterrupt: "time_limit",
}


@dataclass
class _Run:
    status: str
    values: np.ndarray | None
    objective: float | None
    bound: float | None


def _run(h: highspy.Highs, start: np.ndarray | None = None) -> _Run:
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    status = STATUS.get(h.getModelStatus(), "error")
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2
    values = np.array(h.getSolution().col_value) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else None
    bound = float(info.mip_dual_bound) if status in ("optimal", "time_limit") else None
    return _Run(status, values, objective, bound)


def solve(problem: Problem, *, time_limit: float = 10.0, threads: int = 1) -> Solution:
    """Solve ``problem`` within ``time_limit`` seconds (split between the two phases)."""
    started = time.perf_counter()
    form = formulate(problem)
    h = form.model.highs(time_limit=time_limit * 0.5, threads=threads)
    first = _run(h)
    if first.values is None:
        status = "infeasible" if first.status == "infeasible" else first.status
        return Solution(status, None, None, None, None, None, None, time.perf_counter() - started,
                        message=None if status == "infeasible" else "no answer found within the time limit")
    best_count = int(round(-first.objective)) if first.objective is not None else 0
    # Phase 2: keep at least that many within tolerance, move as few residents as possible.
    h.addRow(best_count - 0.5, highspy.kHighsInf, len(form.z), np.array(form.z, dtype=np.int32),
             np.ones(len(form.z)))
    costs = np.zeros(len(form.model.cost))
    for col, cost in form.move_cost.items():
        costs[col] = cost
    h.changeColsCost(len(costs), np.arange(len(costs), dtype=np.int32), costs)
    remaining = time_limit - (time.perf_counter() - started)
    h.setOptionValue("time_limit", max(0.01, remaining))
    second = _run(h, start=first.values)
    values = second.values if second.values is not None else first.values
    assign = _assignment(form, values)
    count_bound = -first.bound if first.bound is not None else None
    n_out = problem.n_communities - int(problem.within(assign).sum())
    moved = problem.moved_residents(assign)
    moved_bound = None
    if second.bound is not None:
        moved_bound = max(0.0, np.floor(second.bound / form.cost_scale))
    status = "optimal" if first.status == second.status == "optimal" else "time_limit"
    gap = None
    if moved_bound is not None:
        gap = 0.0 if moved <= moved_bound else (moved - moved_bound) / max(moved, 1)
    return Solution(
        status=status, assign=assign, out_of_tolerance=n_out,
        out_of_tolerance_bound=None if count_bound is None else problem.n_communities - count_bound,
        moved_residents=moved, moved_residents_bound=moved_bound, gap=gap,
        seconds=time.perf_counter() - started,
    )


def _assignment(form: Formulation, values: np.ndarray) -> np.ndarray:
    assign = form.problem.home.copy()
    for (g, c), col in form.x.items():
        if values[col] > 0.5:
            assign[g] = c
    return assign
