"""Grids as one coverage of the outline: Voronoi cells of the seeds, clipped and repaired.

Clipping a Voronoi cell to a non-convex outline can cut it into several pieces, and cells near the
border can shrink to slivers. Every piece that does not hold its seed, and every sliver, is merged into
the neighbour with which it shares the longest edge, so each grid ends up one polygon and the grids
still tile the outline exactly (shared edges come from the same Voronoi edges).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
MIN_SHARED_EDGE_M = 1.0  # neighbours must share an edge at least this long, not just a point


@dataclass(frozen=True)
class Adjacency:
    """Edge-sharing neighbours of a polygon coverage, as pairs (i < j) with their shared length."""

    pairs: IntArray  # (m, 2)
    shared_m: NDArray[np.float64]  # (m,)
    size: int

    def neighbours(self) -> list[list[int]]:
        """Sorted neighbour lists per polygon."""
        result: list[list[int]] = [[] for _ in range(self.size)]
        for i, j in self.pairs.tolist():
            result[i].append(j)
            result[j].append(i)
        return [sorted(n) for n in result]


def shared_edges(polygons: NDArray[np.object_]) -> Adjacency:
    """Pairs of polygons of a coverage that share an edge, with the length of the shared boundary."""
    left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(polygons)
    length = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
    edge = length >= MIN_SHARED_EDGE_M
    return Adjacency(np.column_stack([left[edge], right[edge]]).astype(np.int64), length[edge], len(polygons))


def _merge_orphans(owner: IntArray, adjacency: Adjacency) -> IntArray:
    """Give every piece without an owner (-1) the owner of its neighbour along the longest shared edge."""
    owner = owner.copy()
    pairs, shared = adjacency.pairs, adjacency.shared_m
    while (owner < 0).any():
        best = np.full(len(owner), -1.0)
        choice = np.full(len(owner), -1)
        for a, b in ((0, 1), (1, 0)):
            src, dst = pairs[:, a], pairs[:, b]
            ok = (owner[src] < 0) & (owner[dst] >= 0)
            for s, d, length in zip(src[ok], dst[ok], shared[ok], strict=True):
                if length > best[s]:
                    best[s], choice[s] = length, owner[d]
        found = choice >= 0
        if not found.any():
            raise RuntimeError("a piece of the outline is not adjacent to any grid")
        owner[found] = choice[found]
    return owner


def voronoi_grids(
    seeds: NDArray[np.float64], outline: shapely.Geometry, expected_area: NDArray[np.float64]
) -> NDArray[np.object_]:
    """One polygon per surviving seed, together tiling the outline; slivers below 20 % are dropped."""
    points = shapely.points(seeds)
    frame = shapely.box(*shapely.buffer(outline, 5_000).bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True))
    if len(cells) != len(points):
        raise RuntimeError("duplicate grid seeds")
    clipped = shapely.intersection(cells, outline)
    pieces, seed_of = shapely.get_parts(clipped, return_index=True)
    polygonal = shapely.get_type_id(pieces) == shapely.GeometryType.POLYGON
    pieces, seed_of = pieces[polygonal], seed_of[polygonal]
    holds_seed = shapely.contains(pieces, points[seed_of])
    big_enough = shapely.area(pieces) >= 0.2 * expected_area[seed_of]
    owner = np.where(holds_seed & big_enough, seed_of, -1)
    owner = _merge_orphans(owner, shared_edges(pieces))
    survivors, owner = np.unique(owner, return_inverse=True)
    grids = np.empty(len(survivors), dtype=object)
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(survivors) + 1))
    for g in range(len(survivors)):
        members = pieces[order[starts[g] : starts[g + 1]]]
        grids[g] = members[0] if len(members) == 1 else shapely.coverage_union_all(members)
    if not np.all(shapely.get_type_id(grids) == shapely.GeometryType.POLYGON):
        raise RuntimeError("a grid is not a single polygon")
    return grids
