"""Contiguity by cut constraints: find where an assignment breaks the rules, and the cuts that forbid it.

A cut ``x[g, c] <= sum of x[h, c']`` says: if grid ``g`` ends in ``c``, one of the grids ``h`` around a
set ``K`` holding ``g`` must end in ``c'``. With ``N(K)`` the grids adjacent to ``K`` and not in it,
and ``K`` made of grids of one community ``a``:

* ``a`` keeps ``g`` (not its seat): a path from ``g`` to the seat inside ``stay(a)`` leaves ``K``,
  so ``x[g, a] <= sum of x[h, a]`` over ``h`` in ``N(K)`` of ``a``;
* ``g`` goes to ``b`` (receive rule): a path from ``g`` to ``stay(b)`` inside ``S(a→b) ∪ stay(b)``
  leaves ``K``, so ``x[g, b] <= sum of x[h, b]`` over ``h`` in ``N(K)`` of ``a`` or ``b``;
* ``g`` goes to ``c`` (give rule): a path from ``g`` to ``stay(a)`` inside ``stay(a) ∪ S(a→c)``
  leaves ``K``, so ``x[g, c] <= sum of x[h, a] + x[h, c]`` over ``h`` in ``N(K)`` of ``a``.

These hold for every valid answer, whatever ``K``; taking ``K`` as the offending connected piece makes
them cut off the current one. With ``K = {g}`` and pairs of neighbours they are added up front.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from geo.balance.problem import Problem

Cut = tuple[int, int, tuple[tuple[int, int], ...]]  # (g, c, ((h, c'), ...)): x[g,c] <= sum x[h,c']


def _pieces(problem: Problem, nodes: Iterable[int]) -> list[set[int]]:
    """Connected pieces of the subgraph induced by ``nodes``."""
    todo = set(nodes)
    out = []
    while todo:
        start = todo.pop()
        piece, stack = {start}, [start]
        while stack:
            g = stack.pop()
            for h in problem.neighbours[g]:
                if h in todo:
                    todo.discard(h)
                    piece.add(h)
                    stack.append(h)
        out.append(piece)
    return out


def _around(problem: Problem, piece: set[int]) -> set[int]:
    return {h for g in piece for h in problem.neighbours[g] if h not in piece}


def _separator(problem: Problem, piece: set[int], region: set[int], target: int) -> list[int]:
    """The grids around ``piece``, within ``region``, through which ``target`` can be reached.

    Paths from the piece to the target run inside ``region``; a grid around the piece from which the
    target cannot be reached without re-entering the piece is no way out and is left out of the cut.
    """
    border = {h for h in _around(problem, piece) if h in region}
    if target in border:
        return [target]
    if target in piece or target not in region:
        return sorted(border)
    seen, stack, found = {target}, [target], set()
    while stack:
        g = stack.pop()
        for h in problem.neighbours[g]:
            if h in seen or h in piece or h not in region:
                continue
            seen.add(h)
            if h in border:
                found.add(h)
            else:
                stack.append(h)
    return sorted(found)


def _homes(problem: Problem, *communities: int) -> set[int]:
    return {int(g) for g in np.flatnonzero(np.isin(problem.home, communities))}


def keep_cut(problem: Problem, piece: set[int], a: int) -> list[Cut]:
    """``a`` keeps a grid of ``piece`` only if it keeps a way out towards its seat."""
    rhs = tuple((h, a) for h in _separator(problem, piece, _homes(problem, a), int(problem.anchor[a])))
    return [(g, a, rhs) for g in sorted(piece)]


def receive_cut(problem: Problem, piece: set[int], a: int, b: int) -> list[Cut]:
    """A grid of ``piece`` (of ``a``) goes to ``b`` only if ``b`` gets a way out towards its seat."""
    rhs = tuple((h, b) for h in _separator(problem, piece, _homes(problem, a, b), int(problem.anchor[b])))
    return [(g, b, rhs) for g in sorted(piece)]


def give_cut(problem: Problem, piece: set[int], a: int, c: int) -> list[Cut]:
    """A grid of ``piece`` goes to ``c`` only if a way out towards ``a``'s seat is kept by ``a`` or sent to ``c``."""
    border = _separator(problem, piece, _homes(problem, a), int(problem.anchor[a]))
    rhs = tuple(pair for h in border for pair in ((h, a), (h, c)))
    return [(g, c, rhs) for g in sorted(piece)]


def singleton_cuts(problem: Problem) -> list[Cut]:
    """The cuts with ``K = {g}`` (and ``{g, h}`` for neighbours moving together) added before the first solve."""
    out: list[Cut] = []
    active = {int(problem.home[g]) for g in range(problem.n_grids) if len(problem.candidates[g]) > 1}
    for g, cands in enumerate(problem.candidates):
        a = int(problem.home[g])
        if a in active and g != problem.anchor[a]:
            out += keep_cut(problem, {g}, a)
        for c in cands[1:]:
            out += receive_cut(problem, {g}, a, c)
            out += give_cut(problem, {g}, a, c)
            for h in problem.neighbours[g]:  # and K = {g, h}: chains of two grids
                if h > g and problem.home[h] == a and c in problem.candidates[h]:
                    out += receive_cut(problem, {g, h}, a, c)
                    out += give_cut(problem, {g, h}, a, c)
    return out


def separate(problem: Problem, assign: np.ndarray) -> list[Cut]:
    """Cuts that the assignment violates; empty exactly when it obeys every contiguity rule."""
    out: list[Cut] = []
    home = problem.home
    stay_piece: dict[int, set[int]] = {}
    for a in range(problem.n_communities):
        kept = np.flatnonzero((home == a) & (assign == a))
        anchor = int(problem.anchor[a])
        for piece in _pieces(problem, kept.tolist()):
            if anchor in piece:
                stay_piece[a] = piece
            else:
                out += keep_cut(problem, piece, a)
    for a, b in sorted({(int(home[g]), int(assign[g])) for g in np.flatnonzero(assign != home)}):
        sent = np.flatnonzero((home == a) & (assign == b)).tolist()
        for piece in _pieces(problem, sent):
            around = _around(problem, piece)
            if not around & stay_piece.get(b, set()):
                out += receive_cut(problem, piece, a, b)
            if not around & stay_piece.get(a, set()):
                out += give_cut(problem, piece, a, b)
    return out


def repair(problem: Problem, assign: np.ndarray) -> np.ndarray:
    """A valid assignment near ``assign``: what breaks a rule goes back home, until no rule is broken.

    First the moves that break contiguity, then every move of a community that would break a guarantee
    or go further out.

    Moves only ever go back home, so this ends (at worst at the home assignment, which is valid).
    """
    assign = _repair_contiguity(problem, assign.copy())
    while True:
        bad = _load_breakers(problem, assign)
        if not len(bad):
            return assign
        touched = np.isin(problem.home, bad) | np.isin(assign, bad)
        assign[touched] = problem.home[touched]
        assign = _repair_contiguity(problem, assign)


def _load_breakers(problem: Problem, assign: np.ndarray) -> np.ndarray:
    """Communities whose load breaks a guarantee or the rule against going further out."""
    load = problem.loads(assign)
    least, most = problem.guarantee_bounds()
    worst_least, worst_most = problem.no_worse_bounds()
    slack = 1e-6 * np.maximum(1.0, np.abs(load))
    bad = (load < np.maximum(least, worst_least) - slack) | (load > np.minimum(most, worst_most) + slack)
    capped = problem.capped_receivers()
    if capped.any():
        receives = np.bincount(assign[assign != problem.home], minlength=problem.n_communities) > 0
        bad |= capped & receives & (load > problem.upper + slack)
    return np.flatnonzero(bad)


def _repair_contiguity(problem: Problem, assign: np.ndarray) -> np.ndarray:
    while True:
        cuts = separate(problem, assign)
        if not cuts:
            return assign
        for g, c, _ in cuts:
            a = int(problem.home[g])
            if c == a:  # a piece of a cut off from its seat: undo everything a gave away
                assign[(problem.home == a) & (assign != a)] = a
            else:
                assign[g] = a
