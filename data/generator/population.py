"""Synthetic population: households and residents per building, and community workers.

Urban grids hold 300-500 households (the default grid band) in apartment blocks; village grids hold
fewer households in small courtyards (院落), more in bigger grids, so that the district total lands on
a drawn target between 765,000 and 785,000 residents (the census counted 765,313 in 2010).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray

from data.generator.placement import clustered_points, interior_points

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

URBAN_HOUSEHOLDS = (320, 480)  # per urban grid, inside the 300-500 band
URBAN_PERSONS = (2.3, 3.1)  # per household, urban building
RURAL_PERSONS = (2.7, 3.9)  # per household, rural building
RESIDENTS_PER_WORKER = 10_000 / 18  # national norm: 18 workers per 10,000 residents


@dataclass(frozen=True)
class Buildings:
    """Buildings of one district, grouped by grid: position (metric) and population counts."""

    grid: IntArray
    xy: FloatArray
    households: IntArray
    residents: IntArray
    elderly: IntArray
    children: IntArray
    special_care: IntArray


def _split_households(grid_of: IntArray, households: IntArray, rng: np.random.Generator) -> IntArray:
    """Households per building: each building at least one, the rest split at random per grid."""
    n_grids = len(households)
    buildings_per_grid = np.bincount(grid_of, minlength=n_grids)
    extra = households - buildings_per_grid
    weight = rng.gamma(2.0, 1.0, len(grid_of))
    share = weight / np.bincount(grid_of, weight, minlength=n_grids)[grid_of] * extra[grid_of]
    base = np.floor(share).astype(np.int64)
    left = extra - np.bincount(grid_of, base, minlength=n_grids).astype(np.int64)
    order = np.lexsort((-(share - base), grid_of))
    starts = np.concatenate([[0], np.cumsum(buildings_per_grid)[:-1]])
    rank = np.empty(len(grid_of), dtype=np.int64)
    rank[order] = np.arange(len(grid_of)) - starts[grid_of[order]]
    return 1 + base + (rank < left[grid_of])


def _rural_households(area_m2: FloatArray, total: int, rng: np.random.Generator) -> IntArray:
    """Split rural households over village grids: more in bigger grids, at least 6 each."""
    weight = np.sqrt(area_m2) * rng.lognormal(0.0, 0.35, len(area_m2))
    spare = max(total - 6 * len(area_m2), 0)
    share = weight / weight.sum() * spare
    base = np.floor(share).astype(np.int64)
    top = np.argsort(-(share - base), kind="stable")[: spare - int(base.sum())]
    base[top] += 1
    return cast(NDArray[np.int64], 6 + base)


def generate_buildings(
    polygons: NDArray[np.object_],
    urban: NDArray[np.bool_],
    households_per_building: FloatArray,
    target_residents: int,
    rng: np.random.Generator,
) -> Buildings:
    """Buildings for every grid (metric polygons), with households and residents summing to the target."""
    n = len(polygons)
    households = np.zeros(n, dtype=np.int64)
    households[urban] = rng.integers(URBAN_HOUSEHOLDS[0], URBAN_HOUSEHOLDS[1] + 1, int(urban.sum()))
    urban_expected = households[urban].sum() * np.mean(URBAN_PERSONS)
    rural_total = round((target_residents - urban_expected) / np.mean(RURAL_PERSONS))
    households[~urban] = _rural_households(shapely.area(polygons[~urban]), rural_total, rng)

    count = np.clip(np.rint(households / households_per_building), 1, households).astype(np.int64)
    grid_of = np.repeat(np.arange(n), count)
    building_households = _split_households(grid_of, households, rng)
    low, high = np.where(urban, URBAN_PERSONS[0], RURAL_PERSONS[0]), np.where(urban, URBAN_PERSONS[1], RURAL_PERSONS[1])
    persons = rng.uniform(low[grid_of], high[grid_of])
    residents = np.maximum(building_households, np.rint(building_households * persons).astype(np.int64))

    elderly_rate = np.where(urban, rng.uniform(0.11, 0.2, n), rng.uniform(0.17, 0.28, n))
    child_rate = np.where(urban, rng.uniform(0.12, 0.19, n), rng.uniform(0.15, 0.23, n))
    elderly = rng.binomial(residents, elderly_rate[grid_of])
    children = rng.binomial(residents - elderly, child_rate[grid_of] / (1 - elderly_rate[grid_of]))
    special_care = rng.binomial(residents, rng.uniform(0.008, 0.025, n)[grid_of])

    xy = np.empty((len(grid_of), 2))
    in_urban = urban[grid_of]
    xy[in_urban] = interior_points(polygons[urban], count[urban], rng, margin=8.0)
    xy[~in_urban] = clustered_points(polygons[~urban], count[~urban], rng, per_cluster=14, spread_m=90.0, margin=8.0)
    return Buildings(grid_of, xy, building_households, residents, elderly, children, special_care)


def allocate_workers(
    residents: IntArray, urban: NDArray[np.bool_], nanjiao: int, lida: int, rng: np.random.Generator
) -> IntArray:
    """Community workers near the norm of 18 per 10,000 residents, a handful overloaded.

    南郊社区 gets about three times the residents per worker of the median urban community, 利达社区
    fewer than the median: the imbalance the 2025 boundary change addressed.
    """
    workers = np.maximum(1, np.rint(residents / RESIDENTS_PER_WORKER * rng.lognormal(0.0, 0.12, len(residents))))
    workers = workers.astype(np.int64)
    eligible = np.flatnonzero(residents >= 2_500)
    eligible = eligible[(eligible != nanjiao) & (eligible != lida)]
    overloaded = rng.choice(eligible, size=min(5, len(eligible)), replace=False)
    workers[overloaded] = np.maximum(
        1, np.rint(residents[overloaded] / (RESIDENTS_PER_WORKER * rng.uniform(1.6, 2.2, len(overloaded))))
    )
    workers[lida] = int(np.ceil(residents[lida] / (0.8 * _median_load(residents, workers, urban, skip=nanjiao))))
    median = _median_load(residents, workers, urban, skip=nanjiao)
    low = max(1, int(residents[nanjiao] / (3.0 * median)))
    workers[nanjiao] = min((low, low + 1), key=lambda w: abs(residents[nanjiao] / w / median - 3.0))
    return workers


def _median_load(residents: IntArray, workers: IntArray, urban: NDArray[np.bool_], skip: int) -> float:
    """Median residents per worker of urban communities, counting ``skip`` as above the median.

    南郊社区 ends up far above the median, so the median is the same whatever its own load is.
    """
    load = residents / workers
    load[skip] = np.inf
    return float(np.median(load[urban]))
