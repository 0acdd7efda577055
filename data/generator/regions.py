"""Grouping grids into contiguous regions (sub-districts, communities) on the grid adjacency graph.

Regions grow from seed grids, claiming one neighbouring grid at a time in order of weighted distance to
their seed. A grid is only ever claimed from an adjacent grid of the same region, so every region is
connected by shared edges (and its union one polygon) by construction.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def grow_regions(
    neighbours: Sequence[Sequence[int]],
    xy: FloatArray,
    seeds: Sequence[int],
    *,
    allowed: NDArray[np.bool_],
    weights: Sequence[float] | None = None,
    capacity: Sequence[float] | None = None,
) -> IntArray:
    """Label allowed grids with the index of the seed whose region reaches them (-1 if unreachable).

    ``weights`` scale how far a region reaches (bigger grows larger); ``capacity`` caps a region's number
    of grids. Grids left over because only full regions touched them join an adjacent region afterwards.
    """
    n_regions = len(seeds)
    weight = np.ones(n_regions) if weights is None else np.asarray(weights, dtype=float)
    cap = np.full(n_regions, np.inf) if capacity is None else np.asarray(capacity, dtype=float)
    labels = np.full(len(xy), -1, dtype=np.int64)
    size = np.zeros(n_regions)
    heap: list[tuple[float, int, int, int]] = [(0.0, r, int(s), r) for r, s in enumerate(seeds)]
    counter = n_regions
    while heap:
        _, _, node, region = heapq.heappop(heap)
        if labels[node] >= 0 or size[region] >= cap[region]:
            continue
        labels[node] = region
        size[region] += 1
        origin = xy[seeds[region]]
        for nb in neighbours[node]:
            if allowed[nb] and labels[nb] < 0:
                cost = float(np.hypot(*(xy[nb] - origin))) / weight[region]
                heapq.heappush(heap, (cost, counter, nb, region))
                counter += 1
    return _absorb_leftovers(labels, neighbours, allowed)


def _absorb_leftovers(labels: IntArray, neighbours: Sequence[Sequence[int]], allowed: NDArray[np.bool_]) -> IntArray:
    """Attach unlabelled allowed grids to an adjacent labelled region, layer by layer."""
    labels = labels.copy()
    while True:
        changed = False
        for node in np.flatnonzero(allowed & (labels < 0)).tolist():
            regions = [int(labels[nb]) for nb in neighbours[node] if labels[nb] >= 0]
            if regions:
                labels[node] = min(regions)
                changed = True
        if not changed:
            return labels


def components(neighbours: Sequence[Sequence[int]], members: IntArray) -> list[IntArray]:
    """Connected components of the subgraph induced by ``members``, largest first."""
    inside = set(members.tolist())
    seen: set[int] = set()
    result: list[IntArray] = []
    for start in members.tolist():
        if start in seen:
            continue
        stack, part = [start], [start]
        seen.add(start)
        while stack:
            for nb in neighbours[stack.pop()]:
                if nb in inside and nb not in seen:
                    seen.add(nb)
                    stack.append(nb)
                    part.append(nb)
        result.append(np.array(sorted(part), dtype=np.int64))
    return sorted(result, key=lambda p: (-len(p), int(p[0])))


def kmeans_seeds(xy: FloatArray, k: int, rng: np.random.Generator, rounds: int = 8) -> IntArray:
    """Indices of k distinct points near the centres of a k-means clustering (farthest-point start)."""
    k = min(k, len(xy))
    chosen = [int(rng.integers(len(xy)))]
    dist = np.hypot(*(xy - xy[chosen[0]]).T)
    for _ in range(k - 1):
        chosen.append(int(np.argmax(dist)))
        dist = np.minimum(dist, np.hypot(*(xy - xy[chosen[-1]]).T))
    centres = xy[chosen].copy()
    for _ in range(rounds):
        d = np.hypot(xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1])
        nearest = np.argmin(d, axis=1)
        for c in range(k):
            if (nearest == c).any():
                centres[c] = xy[nearest == c].mean(axis=0)
    picked: list[int] = []
    for c in range(k):
        order = np.argsort(np.hypot(*(xy - centres[c]).T), kind="stable")
        picked.append(int(next(i for i in order if int(i) not in picked)))
    return np.array(picked, dtype=np.int64)


def reading_order(xy: FloatArray, band: float) -> IntArray:
    """Indices sorted north to south in bands of the given height, then west to east within a band."""
    rows = np.floor((xy[:, 1].max() - xy[:, 1]) / band)
    return np.lexsort((xy[:, 0], rows)).astype(np.int64)
