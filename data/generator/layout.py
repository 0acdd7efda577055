"""Layout of one district: which grids form which community, and which communities which sub-district.

The 8 sub-districts (街道) share the dense urban blob around the city centre; the 10 towns and 7
townships grow over the rest from their seats. Communities then grow inside each sub-district: urban
communities (社区) in the streets and at each town seat, villages (村) elsewhere. 华西街道 gets the
oversized 南郊社区 next to 利达社区, as in the 2025 work summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray

from data.generator.names import CENTRAL_STREETS, NANJIAO, SUBDISTRICTS, SubdistrictSpec
from data.generator.regions import components, grow_regions, kmeans_seeds
from data.generator.tessellation import Adjacency

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

GRIDS_PER_URBAN_COMMUNITY = 5.5
GRIDS_PER_VILLAGE = 4.4
NANJIAO_MIN_GRIDS = 10  # the story needs at least 8; 10 leaves room to move some


@dataclass
class Community:
    """A community: its sub-district, kind and grids; code and names are filled in when numbered."""

    subdistrict: int  # index into SUBDISTRICTS
    kind: str  # urban | village
    grids: IntArray  # grid indices, in grid code order once numbered
    seat: bool = False  # the urban community at a town seat
    role: str = ""  # "" or the story stem it must carry, e.g. "南郊"
    code: str = ""
    stem: str = ""
    stem_en: str = ""
    name: str = ""
    name_en: str = ""


def balanced_seats(
    anchors: FloatArray, outline: shapely.Geometry, centre: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Seats of the towns and townships, balanced and inside the outline.

    The anchors move by a few k-means rounds over the rural area, so that the areas of the towns and
    townships come out comparable, and are then snapped to a point inside the outline.
    """
    minx, miny, maxx, maxy = outline.bounds
    x, y = rng.uniform(minx, maxx, 40_000), rng.uniform(miny, maxy, 40_000)
    keep = shapely.contains_xy(outline, x, y) & (np.hypot(x - centre[0], y - centre[1]) > 6_000)
    samples = np.column_stack([x[keep], y[keep]])
    seats = anchors.copy()
    for _ in range(6):
        d = np.hypot(samples[:, None, 0] - seats[None, :, 0], samples[:, None, 1] - seats[None, :, 1])
        nearest = np.argmin(d, axis=1)
        for k in range(len(seats)):
            if (nearest == k).any():
                seats[k] = samples[nearest == k].mean(axis=0)
    d = np.hypot(samples[:, None, 0] - seats[None, :, 0], samples[:, None, 1] - seats[None, :, 1])
    return cast(NDArray[np.float64], samples[np.argmin(d, axis=0)])


def _nearest(xy: FloatArray, target: FloatArray, candidates: IntArray, taken: set[int]) -> int:
    order = candidates[np.argsort(np.hypot(*(xy[candidates] - target).T), kind="stable")]
    return int(next(i for i in order if int(i) not in taken))


def partition_subdistricts(
    neighbours: list[list[int]], xy: FloatArray, urban: NDArray[np.bool_], seats: FloatArray
) -> tuple[IntArray, IntArray]:
    """Sub-district index of every grid, and the seat grid of every sub-district.

    Streets grow over the urban grids, towns and townships over the rest; the seat grid is the grid a
    sub-district grew from. A piece of the outline no seat reaches (the eastern exclave) joins the
    sub-district with the nearest seat.
    """
    is_street = np.array([s.kind == "street" for s in SUBDISTRICTS])
    taken: set[int] = set()
    seeds = np.zeros(len(SUBDISTRICTS), dtype=np.int64)
    for i in range(len(SUBDISTRICTS)):
        pool = np.flatnonzero(urban if is_street[i] else ~urban)
        seeds[i] = _nearest(xy, seats[i], pool, taken)
        taken.add(int(seeds[i]))
    streets, rural = np.flatnonzero(is_street), np.flatnonzero(~is_street)
    central = [0.55 if s.seq in CENTRAL_STREETS else 1.0 for s in SUBDISTRICTS[: len(streets)]]
    labels = grow_regions(neighbours, xy, seeds[streets].tolist(), allowed=urban, weights=central)
    labels = np.where(labels >= 0, streets[np.maximum(labels, 0)], -1)
    rural_labels = grow_regions(neighbours, xy, seeds[rural].tolist(), allowed=labels < 0)
    reached = rural_labels >= 0
    labels[reached] = rural[rural_labels[reached]]
    for island in components(neighbours, np.flatnonzero(labels < 0)):
        centre = xy[island].mean(axis=0)
        labels[island] = rural[np.argmin(np.hypot(*(xy[seeds[rural]] - centre).T))]
    return labels, seeds


def _split(total: int, sizes: list[int]) -> list[int]:
    """Split a number of communities over components in proportion to their sizes (at least one each)."""
    shares = [max(1, round(total * s / sum(sizes))) for s in sizes]
    shares[0] = max(1, total - sum(shares[1:]))
    return [min(k, s) for k, s in zip(shares, sizes, strict=True)]


def _grow_communities(
    neighbours: list[list[int]],
    xy: FloatArray,
    members: IntArray,
    seeds: IntArray,
    capacity: list[float],
    first_at_least: int,
) -> list[IntArray]:
    """Grow communities over ``members``; the first one is enlarged until it has ``first_at_least`` grids."""
    if len(members) < 2 * first_at_least:
        raise RuntimeError("a sub-district is too small for the community it must hold")
    allowed = np.zeros(len(xy), dtype=bool)
    allowed[members] = True
    weights = [1.7 if first_at_least else 1.0] + [1.0] * (len(seeds) - 1)
    while True:
        labels = grow_regions(neighbours, xy, seeds.tolist(), allowed=allowed, weights=weights, capacity=capacity)
        grown = [np.flatnonzero(labels == r) for r in range(len(seeds))]
        if len(grown[0]) >= first_at_least:
            return grown
        weights[0] *= 1.15


def _communities_of(
    spec_index: int,
    spec: SubdistrictSpec,
    members: IntArray,
    neighbours: list[list[int]],
    xy: FloatArray,
    seat_grid: int,
    rng: np.random.Generator,
) -> list[Community]:
    """Communities of one sub-district, grown separately in each connected piece of it."""
    street = spec.kind == "street"
    per = GRIDS_PER_URBAN_COMMUNITY if street else GRIDS_PER_VILLAGE
    parts = components(neighbours, members)
    counts = _split(max(2, round(len(members) / per)), [len(p) for p in parts])
    plans: list[Community] = []
    for part, k in zip(parts, counts, strict=True):
        has_seat = spec.kind == "town" and seat_grid in part.tolist()
        seeds = part[kmeans_seeds(xy[part], k, rng)]
        if has_seat:
            seeds = np.concatenate([[seat_grid], [s for s in seeds if s != seat_grid][: k - 1]])
        capacity = [np.inf] * len(seeds)
        if has_seat:
            capacity[0] = float(rng.integers(3, 7))
        story = spec.seq == "006" and part is parts[0]
        first_at_least = NANJIAO_MIN_GRIDS if story else 0
        grown = _grow_communities(neighbours, xy, part, seeds, capacity, first_at_least)
        for r, grids in enumerate(grown):
            kind = "urban" if street or (has_seat and r == 0) else "village"
            role = NANJIAO[0] if story and r == 0 else ""
            plans.append(Community(spec_index, kind, grids, seat=has_seat and r == 0, role=role))
    return [p for p in plans if len(p.grids)]


def partition_communities(
    neighbours: list[list[int]],
    xy: FloatArray,
    subdistrict_of_grid: IntArray,
    seat_grids: IntArray,
    rng: np.random.Generator,
) -> list[Community]:
    """Communities of every sub-district, in sub-district order."""
    plans: list[Community] = []
    for i, spec in enumerate(SUBDISTRICTS):
        members = np.flatnonzero(subdistrict_of_grid == i)
        plans.extend(_communities_of(i, spec, members, neighbours, xy, int(seat_grids[i]), rng))
    return plans


def community_adjacency(plans: list[Community], grid_edges: Adjacency) -> dict[tuple[int, int], float]:
    """Shared boundary length (m) between communities, keyed by (i, j) with i < j."""
    community_of = np.full(grid_edges.size, -1, dtype=np.int64)
    for c, plan in enumerate(plans):
        community_of[plan.grids] = c
    a, b = community_of[grid_edges.pairs[:, 0]], community_of[grid_edges.pairs[:, 1]]
    result: dict[tuple[int, int], float] = {}
    for i, j, length in zip(a.tolist(), b.tolist(), grid_edges.shared_m.tolist(), strict=True):
        if i != j:
            key = (min(i, j), max(i, j))
            result[key] = result.get(key, 0.0) + length
    return result
