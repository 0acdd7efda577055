"""A thin layer over HiGHS (``highspy``): gather columns and rows, solve with a time limit, read back.

Every solve reports its status (optimal / time_limit / infeasible), objective and dual bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:
    import highspy
except ImportError as exc:  # pragma: no cover - a hard dependency; the hint helps broken installs
    raise ImportError("load balancing needs HiGHS: pip install highspy") from exc

INF = highspy.kHighsInf

STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInterrupt: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
}


def _new_highs() -> Any:
    # The public ``Highs`` class prints a banner to stdout when it is built; the core class does not.
    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    return core() if core is not None else highspy.Highs()


@dataclass
class Model:
    """Columns and rows of a MIP, gathered in Python and handed to HiGHS at once."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_index: list[list[int]] = field(default_factory=list)
    row_value: list[list[float]] = field(default_factory=list)

    def var(self, lower: float = 0.0, upper: float = 1.0, *, integer: bool = True, cost: float = 0.0) -> int:
        """A new column; its index."""
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, terms: Iterable[tuple[int, float]], lower: float = -INF, upper: float = INF) -> None:
        """A new row ``lower <= sum(value * column) <= upper`` (repeated columns are added up)."""
        merged: dict[int, float] = {}
        for i, v in terms:
            merged[i] = merged.get(i, 0.0) + v
        self.row_index.append(list(merged))
        self.row_value.append(list(merged.values()))
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def solver(self, *, threads: int = 1) -> Solver:
        """A HiGHS instance holding this model."""
        h = _new_highs()
        for name, value in (("output_flag", False), ("threads", threads), ("random_seed", 1),
                            ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.5)):  # objectives are integers
            h.setOptionValue(name, value)
        n = len(self.cost)
        h.addVars(n, np.array(self.lower, dtype=float), np.array(self.upper, dtype=float))
        cols = np.arange(n, dtype=np.int32)
        integrality = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in self.integer]
        if n:
            h.changeColsIntegrality(n, cols, np.array(integrality))
            h.changeColsCost(n, cols, np.array(self.cost, dtype=float))
        solver = Solver(h, n, np.array(self.cost, dtype=float))
        solver.add_rows(self.row_index, self.row_value, self.row_lower, self.row_upper)
        return solver


@dataclass
class Run:
    """What one HiGHS run gave."""

    status: str  # optimal | time_limit | infeasible | error
    values: np.ndarray | None  # column values of the best solution, if any
    objective: float | None
    bound: float | None  # dual bound (a lower bound, since HiGHS minimises)


@dataclass
class Solver:
    """A model loaded in HiGHS, to which rows can be added between runs."""

    highs: Any
    n_cols: int
    costs: np.ndarray

    def add_rows(self, index: Sequence[Sequence[int]], value: Sequence[Sequence[float]],
                 lower: Sequence[float], upper: Sequence[float]) -> None:
        if not len(index):
            return
        starts = np.cumsum([0, *(len(i) for i in index[:-1])]).astype(np.int32)
        flat_index = np.array([i for row in index for i in row], dtype=np.int32)
        flat_value = np.array([v for row in value for v in row], dtype=float)
        self.highs.addRows(len(index), np.array(lower, dtype=float), np.array(upper, dtype=float),
                           len(flat_index), starts, flat_index, flat_value)

    def _complete(self, columns: np.ndarray, values: np.ndarray, time_limit: float) -> np.ndarray | None:
        """The start with its other columns filled in, or None if it cannot be completed in time."""
        lp = self.highs.getLp()
        lower, upper = np.array(lp.col_lower_)[columns], np.array(lp.col_upper_)[columns]
        self.highs.changeColsBounds(len(columns), columns, values, values)
        self.highs.setOptionValue("time_limit", max(0.01, 0.1 * time_limit))
        self.highs.run()
        done = self.highs.getInfo().primal_solution_status == 2
        full = np.array(self.highs.getSolution().col_value) if done else None
        self.highs.changeColsBounds(len(columns), columns, lower, upper)
        self.highs.clearSolver()
        return full

    def set_costs(self, costs: np.ndarray) -> None:
        self.costs = np.asarray(costs, dtype=float)
        self.highs.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), np.asarray(costs, dtype=float))

    def run(self, *, time_limit: float, start: tuple[np.ndarray, np.ndarray] | None = None) -> Run:
        """Solve for at most ``time_limit`` seconds, from ``start`` = (columns, values) if given.

        A start that gives only some columns is completed first (the other columns solved for with
        these fixed): HiGHS is handed whole solutions only. A start is a hint, never a rule.
        """
        began = time.perf_counter()
        if start is not None:
            columns, start_values = np.asarray(start[0], dtype=np.int32), np.asarray(start[1], dtype=float)
            full = self._complete(columns, start_values, time_limit) if len(columns) < self.n_cols else start_values
            if full is not None:
                self.highs.setSolution(self.n_cols, np.arange(self.n_cols, dtype=np.int32), full)
        self.highs.setOptionValue("time_limit", max(0.01, float(time_limit - (time.perf_counter() - began))))
        self.highs.run()
        result = self._result()
        if start is not None and result.values is not None and result.objective is not None and abs(
                float(self.costs @ result.values) - result.objective) > 1e-6 * max(1.0, abs(result.objective)):
            # HiGHS may hand back the start instead of the solution it reports (seen when presolve
            # solves the model outright): solve again without the start.
            self.highs.clearSolver()
            self.highs.setOptionValue("time_limit", max(0.01, float(time_limit - (time.perf_counter() - began))))
            self.highs.run()
            result = self._result()
        return result

    def _result(self) -> Run:
        status = STATUS.get(self.highs.getModelStatus(), "error")
        info = self.highs.getInfo()
        has_solution = info.primal_solution_status == 2
        values = np.array(self.highs.getSolution().col_value) if has_solution else None
        return Run(
            status=status,
            values=values,
            objective=float(info.objective_function_value) if has_solution else None,
            bound=float(info.mip_dual_bound) if status in ("optimal", "time_limit") and np.isfinite(
                info.mip_dual_bound) else None,
        )
