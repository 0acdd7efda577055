"""The boundary-move problem as plain arrays, and the rules every answer must obey.

Whole grids move from their community (``home``) to an adjacent one. The rules, checked here by
graph search independently of the optimiser:

* a community's seat grid (``anchor``, where its party service centre stands) never moves, so no
  community is left empty; locked grids never move; locked communities neither give nor receive;
* grids go only along ``links`` (pairs of adjacent communities, within a sub-district unless allowed);
* a community loses at most ``max_lost`` grids;
* a community outside tolerance only moves towards it: an over-loaded one receives no grid and an
  under-loaded one gives none (unless ``allow_worse``). Without this an over-loaded community that
  cannot be brought within tolerance would take a neighbour's grid whenever that is cheapest;
* **contiguity in every order of applying the moves.** Write ``stay(a)`` for the grids ``a`` keeps and
  ``S(a→b)`` for those it gives to ``b``. Then ``stay(a)`` is connected, ``stay(b) ∪ S(a→b)`` is
  connected (what ``b`` receives from ``a`` hangs on what ``b`` keeps) and ``stay(a) ∪ S(a→c)`` is
  connected (what ``a`` gives to ``c`` hangs on what ``a`` keeps). Every community is then connected
  after any subset of the moves, so the draft proposals can be applied one by one, in any order, and
  each finds its territory adjacent to the receiving community and leaves the giving one in one piece.

A community is within tolerance when ``lower <= workload <= upper``; its target is the middle of that
band (``ratio`` 1). Three **guarantees** hold by default, each relaxed by name (:data:`GUARANTEES`):

* ``keep_in_band`` — a community that starts within tolerance ends within it;
* ``no_further`` — no community ends further from its target than it started (``|ratio - 1|``);
* ``receiver_cap`` — a community that receives a grid never ends above the top of its band.

Without them the optimiser happily hands an over-loaded community's surplus to an under-loaded
neighbour far beyond the band (利达 0.74 → 3.26): it counts one community fixed and one still out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from geo.balance.graph import is_connected

EPS = 1e-6
GUARANTEES = ("keep_in_band", "no_further", "receiver_cap")
GUARANTEE_TEXT = {
    "keep_in_band": "a community within tolerance stays within it",
    "no_further": "no community ends further from its target than it started",
    "receiver_cap": "a receiving community never ends above the top of its band",
}


@dataclass(frozen=True)
class Problem:
    """One independent balancing problem (a sub-district, or linked sub-districts)."""

    grid_codes: tuple[str, ...]
    community_codes: tuple[str, ...]
    home: np.ndarray  # community index of each grid
    residents: np.ndarray  # residents of each grid
    workload: np.ndarray  # weighted workload of each grid
    movable: np.ndarray  # grid may move (not a seat grid, not locked)
    anchor: np.ndarray  # seat grid index of each community
    lower: np.ndarray  # lowest workload within tolerance, per community
    upper: np.ndarray  # highest workload within tolerance, per community
    edges: np.ndarray  # (E, 2) adjacent grid pairs
    links: frozenset[tuple[int, int]]  # (a, b): grids of a may move to b
    required: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # must end within tolerance
    max_lost: int | None = None
    allow_worse: bool = False
    relax: frozenset[str] = frozenset()  # guarantees (names in GUARANTEES) not enforced

    @property
    def n_grids(self) -> int:
        return len(self.grid_codes)

    @property
    def n_communities(self) -> int:
        return len(self.community_codes)

    @cached_property
    def requires(self) -> np.ndarray:
        return self.required if len(self.required) else np.zeros(self.n_communities, dtype=bool)

    @cached_property
    def candidates(self) -> list[tuple[int, ...]]:
        """Communities each grid may end in, its home first."""
        targets: dict[int, list[int]] = {}
        gives, receives = self.may_give_and_receive
        for a, b in sorted(self.links):
            if gives[a] and receives[b]:
                targets.setdefault(a, []).append(b)
        return [
            (int(h), *targets.get(int(h), ())) if self.movable[g] else (int(h),)
            for g, h in enumerate(self.home)
        ]

    @cached_property
    def fix_weights(self) -> tuple[np.ndarray, int]:
        """Integer weight of ending each community within tolerance, and the weight of one community.

        Every community counts ``unit`` plus a bonus: one outside tolerance before, its rank in how far
        out it is (1 for the nearest, m for the furthest of m); one within tolerance before, m + 1, so
        that no answer trades a community that is fine for one that is not. The bonuses sum to less
        than ``unit``: more communities within tolerance always wins, and among answers with as many,
        those that keep the fine ones and fix the furthest out.
        """
        before = self.loads(self.home)
        upper, lower = np.maximum(self.upper, EPS), np.maximum(self.lower, EPS)
        severity = np.where(before > self.upper + EPS, before / upper - 1,
                            np.where(before < self.lower - EPS, 1 - before / lower, 0.0))
        out = np.flatnonzero(severity > 0)
        bonus = np.full(self.n_communities, len(out) + 1, dtype=np.int64)
        bonus[out[np.argsort(severity[out], kind="stable")]] = np.arange(1, len(out) + 1)
        unit = int(bonus.sum()) + 1
        return unit + bonus, unit

    @cached_property
    def may_give_and_receive(self) -> tuple[np.ndarray, np.ndarray]:
        """Which communities may give grids (all but under-loaded ones) and receive them (all but over-loaded)."""
        before = self.loads(self.home)
        if self.allow_worse:
            return np.ones(self.n_communities, bool), np.ones(self.n_communities, bool)
        return before >= self.lower - EPS, before <= self.upper + EPS

    @cached_property
    def neighbours(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(self.n_grids)]
        for i, j in self.edges:
            out[int(i)].append(int(j))
            out[int(j)].append(int(i))
        return out

    def loads(self, assign: np.ndarray) -> np.ndarray:
        """Workload of each community under an assignment (community index per grid)."""
        return np.bincount(assign, weights=self.workload, minlength=self.n_communities)

    def within(self, assign: np.ndarray) -> np.ndarray:
        """Which communities are within tolerance under an assignment."""
        load = self.loads(assign)
        return (load >= self.lower - EPS) & (load <= self.upper + EPS)

    def strict_band(self, c: int) -> tuple[float, float]:
        """The band of ``c`` shrunk by a hair, so that rounding never counts a community in that is out."""
        lower, upper = float(self.lower[c]), float(self.upper[c])
        shrink = EPS * max(1.0, upper)
        lower_in = lower + shrink if lower > 0 else 0.0
        return lower_in, max(lower_in, upper - shrink)

    def within_strict(self, assign: np.ndarray) -> np.ndarray:
        """Communities within their shrunk band (what the optimiser counts)."""
        load = self.loads(assign)
        bands = np.array([self.strict_band(c) for c in range(self.n_communities)]).reshape(-1, 2)
        return (load >= bands[:, 0] - 1e-9) & (load <= bands[:, 1] + 1e-9)

    def moved_residents(self, assign: np.ndarray) -> int:
        return int(self.residents[assign != self.home].sum())

    def violations(self, assign: np.ndarray) -> list[str]:
        """Every rule the assignment breaks (empty when it is a valid answer)."""
        out: list[str] = []
        for g, c in enumerate(assign):
            if int(c) not in self.candidates[g]:
                out.append(f"grid {self.grid_codes[g]} may not go to {self.community_codes[int(c)]}")
        if out:
            return out
        moved = assign != self.home
        if self.max_lost is not None:
            lost = np.bincount(self.home[moved], minlength=self.n_communities)
            out += [f"{self.community_codes[a]} loses {n} grids (cap {self.max_lost})"
                    for a, n in enumerate(lost) if n > self.max_lost]
        out += self._no_worse(assign)
        out += self._guarantees(assign)
        out += self._contiguity(assign)
        missing = self.requires & ~self.within(assign)
        out += [f"{self.community_codes[c]} is required within tolerance" for c in np.flatnonzero(missing)]
        return out

    def no_worse_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per community, the least and most workload it may end with (the rule against pushing further out)."""
        before = self.loads(self.home)
        least = np.where(before < self.lower - EPS, before, -np.inf)
        most = np.where(before > self.upper + EPS, before, np.inf)
        if self.allow_worse:
            least, most = np.full_like(before, -np.inf), np.full_like(before, np.inf)
        return least, most

    @property
    def target(self) -> np.ndarray:
        """The workload on target (ratio 1): the middle of the band."""
        middle: np.ndarray = (np.asarray(self.lower, float) + np.asarray(self.upper, float)) / 2.0
        return middle

    def guarantee_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per community, the least and most workload the unconditional guarantees allow.

        ``receiver_cap`` is unconditional for a community that starts at or below the top of its band
        (if it receives it must end there; if it does not, it can only lose workload). For one above
        the top it binds only if it receives: see :meth:`capped_receivers`.
        """
        before = self.loads(self.home)
        least, most = np.full(self.n_communities, -np.inf), np.full(self.n_communities, np.inf)
        if "keep_in_band" not in self.relax:
            inside = self.within(self.home)
            least = np.where(inside, np.maximum(least, self.lower), least)
            most = np.where(inside, np.minimum(most, self.upper), most)
        if "no_further" not in self.relax:
            off = np.abs(before - self.target)
            least, most = np.maximum(least, self.target - off), np.minimum(most, self.target + off)
        if "receiver_cap" not in self.relax:
            most = np.where(before <= self.upper + EPS, np.minimum(most, self.upper), most)
        return least, most

    def capped_receivers(self) -> np.ndarray:
        """Communities above their band for which receiving any grid requires ending within its top."""
        if "receiver_cap" in self.relax:
            return np.zeros(self.n_communities, dtype=bool)
        return self.loads(self.home) > self.upper + EPS

    def _guarantees(self, assign: np.ndarray) -> list[str]:
        before, load = self.loads(self.home), self.loads(assign)
        out: list[str] = []
        if "keep_in_band" not in self.relax:
            lost = self.within(self.home) & ~self.within(assign)
            out += [f"{self.community_codes[c]} starts within tolerance and would end outside it (keep_in_band)"
                    for c in np.flatnonzero(lost)]
        if "no_further" not in self.relax:
            worse = np.abs(load - self.target) > np.abs(before - self.target) + EPS * np.maximum(1.0, self.target)
            out += [f"{self.community_codes[c]} would end further from its target than it started (no_further)"
                    for c in np.flatnonzero(worse)]
        if "receiver_cap" not in self.relax:
            receives = np.bincount(assign[assign != self.home], minlength=self.n_communities) > 0
            over = receives & (load > self.upper + EPS * np.maximum(1.0, self.upper))
            out += [f"{self.community_codes[c]} receives grids and would end above its band (receiver_cap)"
                    for c in np.flatnonzero(over)]
        return out

    def _no_worse(self, assign: np.ndarray) -> list[str]:
        least, most = self.no_worse_bounds()
        load = self.loads(assign)
        return [f"{self.community_codes[c]} is out of tolerance and would be pushed further out"
                for c in np.flatnonzero((load < least - EPS) | (load > most + EPS))]

    def _contiguity(self, assign: np.ndarray) -> list[str]:
        out: list[str] = []
        stay = {c: np.flatnonzero((self.home == c) & (assign == c)) for c in range(self.n_communities)}
        for c in range(self.n_communities):
            if not is_connected(self.n_grids, self.edges, stay[c]):
                out.append(f"{self.community_codes[c]} keeps a disconnected territory")
        for g in np.flatnonzero(assign != self.home):
            a, b = int(self.home[g]), int(assign[g])
            sent = np.flatnonzero((self.home == a) & (assign == b))
            if sent[0] != g:
                continue  # each (a, b) pair once
            if not is_connected(self.n_grids, self.edges, np.concatenate([stay[b], sent])):
                out.append(f"grids from {self.community_codes[a]} do not hang on what "
                           f"{self.community_codes[b]} keeps")
            if not is_connected(self.n_grids, self.edges, np.concatenate([stay[a], sent])):
                out.append(f"grids {self.community_codes[a]} gives to {self.community_codes[b]} do not hang "
                           f"on what it keeps")
        return out


@dataclass
class Solution:
    """The answer for one problem: an assignment and how good it is known to be."""

    status: str  # optimal | time_limit | infeasible | trivial
    assign: np.ndarray | None
    out_of_tolerance: int | None  # communities outside tolerance in the answer
    out_of_tolerance_bound: float | None  # no answer can have fewer
    moved_residents: int | None
    moved_residents_bound: float | None  # given that count, no answer moves fewer
    gap: float | None  # relative gap on moved residents (0 when proved optimal)
    seconds: float
    message: str | None = None

    @property
    def has_answer(self) -> bool:
        return self.assign is not None

    def with_gap(self) -> Solution:
        """The same solution with ``gap`` computed from the moved residents and their bound."""
        if self.moved_residents is not None and self.moved_residents_bound is not None:
            moved, bound = self.moved_residents, self.moved_residents_bound
            self.gap = 0.0 if moved <= bound else (moved - bound) / max(moved, 1)
        return self
