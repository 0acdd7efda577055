"""Contiguity by single-commodity flows: the compact, exact alternative to cut constraints.

* *Receive flow* of each community ``b``: from its seat grid, through the grids it keeps and on to
  the grids it receives; an arc ``g → h`` exists only if ``g`` is one of ``b``'s own grids or ``g``
  and ``h`` come from the same community, so each ``S(a→b)`` hangs on ``stay(b)``. Every grid that
  ends in ``b`` absorbs one unit: a part cut off from the seat cannot be fed.
* *Give flow* of each community ``a`` with two or more possible receivers, one per receiver ``c``:
  grids ``a`` keeps are sources, grids it gives to ``c`` absorb one unit each, and flow passes only
  through grids kept by ``a`` or given to ``c``, so each ``S(a→c)`` hangs on ``stay(a)``.

Used by ``solve(..., method="flow")``: a second, independent formulation to check the cut-based one.
"""

from __future__ import annotations

import numpy as np

from geo.balance.mip import Model
from geo.balance.problem import Problem


def add_flows(m: Model, p: Problem, x: dict[tuple[int, int], int]) -> None:
    """Rows and columns that make every answer obey the contiguity rules of :mod:`.problem`."""
    members: list[list[int]] = [[] for _ in range(p.n_communities)]
    for (g, c) in x:
        members[c].append(g)
    _receive_flow(m, p, members, x)
    _give_flows(m, p, x)


def _receive_flow(m: Model, p: Problem, members: list[list[int]], x: dict[tuple[int, int], int]) -> None:
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


def _give_flows(m: Model, p: Problem, x: dict[tuple[int, int], int]) -> None:
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


