"""The boundary-move optimiser against brute force on small generated lattices (no database).

Brute force enumerates every assignment of the movable grids, ranks them by (communities within
tolerance, weighted to prefer the furthest out; residents moved) and takes the first that the rule
checker (graph search, independent of the MIP) accepts. The optimiser must reach the same optimum
with every formulation.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from geo.balance.optimizer import solve
from geo.balance.problem import GUARANTEES, Problem


def lattice(rows: int, cols: int, blocks: list[list[int]], *, seed: int, locked: int = 0, tolerance: float = 0.2,
            max_lost: int | None = None, required: tuple[int, ...] = (),
            relax: frozenset[str] = frozenset(GUARANTEES)) -> Problem:
    """A rows x cols lattice; ``blocks[r][c]`` is the community of each cell (each block contiguous).

    The guarantees are relaxed by default: these tests pit the MIP against brute force on the other rules
    (``test_balance_guarantees`` covers the guarantees).
    """
    rng = np.random.default_rng(seed)
    home = np.array([blocks[r][c] for r in range(rows) for c in range(cols)], dtype=np.int64)
    n, k = rows * cols, int(home.max()) + 1
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    residents = rng.integers(40, 160, size=n)
    anchor = np.array([rng.choice(np.flatnonzero(home == c)) for c in range(k)])
    movable = np.ones(n, dtype=bool)
    movable[anchor] = False
    if locked:
        movable[rng.choice(np.flatnonzero(movable), size=locked, replace=False)] = False
    load = np.bincount(home, weights=residents, minlength=k)
    capacity = load.sum() / k * rng.uniform(0.85, 1.15, size=k)  # blocks of unequal size: imbalanced
    links = {(int(home[i]), int(home[j])) for i, j in edges if home[i] != home[j]}
    links |= {(b, a) for a, b in links}
    req = np.zeros(k, dtype=bool)
    req[list(required)] = True
    return Problem(
        grid_codes=tuple(f"g{i:02d}" for i in range(n)), community_codes=tuple(f"c{c}" for c in range(k)),
        home=home, residents=residents.astype(np.int64), workload=residents.astype(float), movable=movable,
        anchor=anchor, lower=capacity * (1 - tolerance), upper=capacity * (1 + tolerance),
        edges=np.array(edges, dtype=np.int64), links=frozenset(links), required=req, max_lost=max_lost,
        relax=relax,
    )


def brute_force(problem: Problem) -> tuple[int, int] | None:
    """(out of tolerance, moved residents) of the best valid assignment, or None if none is valid."""
    free = [g for g in range(problem.n_grids) if len(problem.candidates[g]) > 1]
    choices = list(itertools.product(*(problem.candidates[g] for g in free)))
    assigns = np.tile(problem.home, (len(choices), 1))
    assigns[:, free] = np.array(choices, dtype=np.int64).reshape(len(choices), len(free))
    loads = np.stack([np.bincount(a, weights=problem.workload, minlength=problem.n_communities) for a in assigns])
    bands = np.array([problem.strict_band(c) for c in range(problem.n_communities)])
    within = (loads >= bands[:, 0] - 1e-9) & (loads <= bands[:, 1] + 1e-9)
    out = problem.n_communities - within.sum(axis=1)
    moved = ((assigns != problem.home) * problem.residents).sum(axis=1)
    # Cheap rules first (vectorised), the contiguity rules by the checker's graph search.
    least, most = problem.no_worse_bounds()
    ok = ((loads >= least - 1e-6) & (loads <= most + 1e-6)).all(axis=1) & (within | ~problem.requires).all(axis=1)
    if problem.max_lost is not None:
        lost = np.stack([np.bincount(problem.home[a != problem.home], minlength=problem.n_communities)
                         for a in assigns])
        ok &= (lost <= problem.max_lost).all(axis=1)
    weights, _ = problem.fix_weights  # as many within tolerance as possible, the furthest out first
    for i in np.lexsort((moved, -(within @ weights))):
        if not ok[i]:
            continue
        if not problem.violations(assigns[i]):
            return int(out[i]), int(moved[i])
    return None


BLOCKS_3 = [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 1], [2, 2, 2, 1]]
BLOCKS_4 = [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("blocks", [BLOCKS_3, BLOCKS_4], ids=["3-communities", "4-communities"])
def test_optimiser_matches_brute_force_on_4x4_lattices(seed: int, blocks: list[list[int]]) -> None:
    problem = lattice(4, 4, blocks, seed=seed, locked=3)
    expected = brute_force(problem)
    assert expected is not None  # moving nothing is always valid
    for method in ("cuts", "flow"):
        s = solve(problem, time_limit=20, method=method)
        assert s.status == "optimal", method
        assert s.assign is not None and not problem.violations(s.assign), method
        assert (s.out_of_tolerance, s.moved_residents) == expected, method
        assert s.moved_residents_bound == s.moved_residents and s.gap == 0.0


@pytest.mark.parametrize("seed", range(4))  # seed 2 is infeasible
def test_optimiser_matches_brute_force_with_a_cap_and_a_required_community(seed: int) -> None:
    problem = lattice(4, 4, BLOCKS_4, seed=100 + seed, locked=3, max_lost=1, required=(0,), tolerance=0.1)
    assert not problem.within(problem.home)[0]
    expected = brute_force(problem)
    s = solve(problem, time_limit=20)
    if expected is None:
        assert s.status == "infeasible" and s.assign is None
    else:
        assert s.status == "optimal" and (s.out_of_tolerance, s.moved_residents) == expected
        lost = np.bincount(problem.home[s.assign != problem.home], minlength=4)
        assert lost.max() <= 1


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_optimiser_matches_brute_force_on_60_grid_lattices(seed: int) -> None:
    # 6 x 10 cells, 5 communities in stripes; 43 grids locked and 5 seats, so 12 may move.
    blocks = [[min(c // 2, 4) for c in range(10)] for _ in range(6)]
    problem = lattice(6, 10, blocks, seed=seed, locked=43, tolerance=0.1)
    assert problem.n_grids == 60
    expected = brute_force(problem)
    assert expected is not None and expected[1] > 0  # moving is worth it
    s = solve(problem, time_limit=30)
    assert s.status == "optimal"
    assert (s.out_of_tolerance, s.moved_residents) == expected


@pytest.mark.parametrize("seed", [1, 2])
def test_cut_and_flow_formulations_agree_on_60_free_grids(seed: int) -> None:
    # Too many choices for brute force: the lazy cuts and the flows (with one-grid cuts) check each other.
    blocks = [[(r // 3) * 3 + min(c // 3, 2) for c in range(10)] for r in range(6)]
    problem = lattice(6, 10, blocks, seed=seed, tolerance=0.1)
    answers = {m: solve(problem, time_limit=30, method=m) for m in ("cuts", "hybrid")}
    for method, s in answers.items():
        assert s.status == "optimal", method
        assert not problem.violations(s.assign), method
    assert len({(s.out_of_tolerance, s.moved_residents) for s in answers.values()}) == 1


def test_the_checker_refuses_each_broken_rule() -> None:
    # A strip of 4: community 0 = cells 0,1 (seat 0); community 1 = cells 2,3 (seat 3).
    p = Problem(grid_codes=("a", "b", "c", "d"), community_codes=("A", "B"), home=np.array([0, 0, 1, 1]),
                residents=np.array([1, 1, 1, 1]), workload=np.ones(4), movable=np.array([False, True, True, False]),
                anchor=np.array([0, 3]), lower=np.zeros(2), upper=np.full(2, 10.0),
                edges=np.array([[0, 1], [1, 2], [2, 3]]), links=frozenset({(0, 1), (1, 0)}), max_lost=0,
                relax=frozenset(GUARANTEES))
    assert not p.violations(np.array([0, 0, 1, 1]))
    assert any("loses" in v for v in p.violations(np.array([0, 1, 1, 1])))  # over the cap of 0
    p2 = replace(p, max_lost=None)
    assert not p2.violations(np.array([0, 1, 1, 1]))
    assert p2.violations(np.array([1, 0, 1, 1]))  # a seat grid never moves
    # B gives c to A and A gives b to B: b no longer hangs on what B keeps (d) — it would be cut off.
    assert p2.violations(np.array([0, 1, 0, 1]))


def test_the_status_quo_is_kept_when_time_runs_out() -> None:
    blocks = [[(r // 3) * 3 + min(c // 3, 2) for c in range(10)] for r in range(6)]
    problem = lattice(6, 10, blocks, seed=11)
    s = solve(problem, time_limit=0.05, method="flow")  # how long it takes: bench/limits.py
    assert s.status in ("time_limit", "optimal")
    assert s.assign is not None and not problem.violations(s.assign)


def test_when_as_many_can_be_fixed_either_way_the_furthest_out_is_fixed() -> None:
    # A line a0-a1-c0-b1-b0. A (22 against at most 15) and B (16) are over-loaded; C (4, required
    # within 3-17) can take a1 or b1 but not both. Fixing B moves 6 residents, fixing A 12: A is further out.
    problem = Problem(
        grid_codes=("a0", "a1", "c0", "b1", "b0"), community_codes=("A", "B", "C"),
        home=np.array([0, 0, 2, 1, 1]), residents=np.array([10, 12, 4, 6, 10]),
        workload=np.array([10.0, 12.0, 4.0, 6.0, 10.0]), movable=np.array([False, True, False, True, False]),
        anchor=np.array([0, 4, 2]), lower=np.array([3.0, 3.0, 3.0]), upper=np.array([15.0, 15.0, 17.0]),
        edges=np.array([(0, 1), (1, 2), (2, 3), (3, 4)]), links=frozenset({(0, 2), (1, 2)}),
        required=np.array([False, False, True]),
    )
    for method in ("cuts", "flow"):
        s = solve(problem, time_limit=10, method=method)
        assert s.status == "optimal" and s.assign is not None, method
        assert s.assign.tolist() == [0, 2, 2, 1, 1], method  # a1 goes to C
        assert (s.out_of_tolerance, s.moved_residents) == (1, 12) == brute_force(problem)


def test_an_over_loaded_community_never_receives_and_an_under_loaded_one_never_gives() -> None:
    problem = next(p for p in (lattice(4, 4, BLOCKS_4, seed=s, locked=3) for s in range(50))
                   if not p.may_give_and_receive[1].all())  # a lattice with an over-loaded community
    gives, receives = problem.may_give_and_receive
    for g, cands in enumerate(problem.candidates):
        home = problem.home[g]
        assert all(gives[home] and receives[c] for c in cands[1:])
    bad = problem.home.copy()
    over = int(np.flatnonzero(~receives)[0])
    giver = next(g for g in range(problem.n_grids) if problem.movable[g] and problem.home[g] != over)
    bad[giver] = over
    refused = f"grid {problem.grid_codes[giver]} may not go to {problem.community_codes[over]}"
    assert problem.violations(bad) == [refused]


def test_a_community_within_tolerance_is_not_traded_for_one_outside() -> None:
    # a0 | b1 b0: A (10) is fine within 5-15, B (20) is over. Giving b1 (7) to A fixes B and breaks A:
    # as many within tolerance either way, so nothing should move.
    problem = Problem(
        grid_codes=("a0", "b1", "b0"), community_codes=("A", "B"), home=np.array([0, 1, 1]),
        residents=np.array([10, 7, 13]), workload=np.array([10.0, 7.0, 13.0]),
        movable=np.array([False, True, False]), anchor=np.array([0, 2]), lower=np.array([5.0, 5.0]),
        upper=np.array([15.0, 15.0]), edges=np.array([(0, 1), (1, 2)]), links=frozenset({(1, 0)}),
    )
    assert problem.candidates[1] == (1, 0)  # the move is allowed, just not worth it
    s = solve(problem, time_limit=10)
    assert s.status == "optimal" and s.assign is not None and s.assign.tolist() == [0, 1, 1]
    assert brute_force(problem) == (1, 0)
