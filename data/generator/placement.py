"""Points well inside polygons: buildings and stations never sit on or near a boundary.

Rejection sampling, vectorised over all polygons at once. A margin from the boundary keeps every point
strictly inside its polygon after the round trip to WGS84 and rounding to the output precision grid.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _accept(polygons: NDArray[np.object_], owner: IntArray, xy: FloatArray, margin: float) -> NDArray[np.bool_]:
    points = shapely.points(xy)
    inside = shapely.contains(polygons[owner], points)
    far = shapely.distance(shapely.boundary(polygons[owner]), points) >= margin
    return cast(NDArray[np.bool_], inside & far)


def interior_points(
    polygons: NDArray[np.object_], counts: IntArray, rng: np.random.Generator, margin: float
) -> FloatArray:
    """counts[i] uniform random points inside polygons[i], at least ``margin`` from its boundary.

    Points come back grouped by polygon, in polygon order. The margin halves every 20 rounds for
    polygons too thin for it, down to a floor of 2 m.
    """
    shapely.prepare(polygons)
    owner = np.repeat(np.arange(len(polygons)), counts)
    bounds = shapely.bounds(polygons)
    result = np.empty((len(owner), 2))
    todo = np.arange(len(owner))
    rounds = 0
    while todo.size:
        p = owner[todo]
        xy = np.column_stack([rng.uniform(bounds[p, 0], bounds[p, 2]), rng.uniform(bounds[p, 1], bounds[p, 3])])
        ok = _accept(polygons, p, xy, margin)
        result[todo[ok]] = xy[ok]
        todo = todo[~ok]
        rounds += 1
        if rounds % 20 == 0:
            if margin <= 2.0:
                raise RuntimeError("cannot place points inside a polygon")
            margin = max(2.0, margin / 2)
    return result


def clustered_points(
    polygons: NDArray[np.object_],
    counts: IntArray,
    rng: np.random.Generator,
    *,
    per_cluster: float,
    spread_m: float,
    margin: float,
) -> FloatArray:
    """Points inside polygons gathered around a few hamlet centres, like houses of rural settlements.

    Each polygon gets about counts / per_cluster clusters; points fall around their cluster centre with
    a normal spread; any that land outside (or too close to the boundary) are drawn uniformly instead.
    """
    clusters = np.minimum(np.maximum(1, np.ceil(counts / per_cluster)), np.maximum(counts, 1)).astype(np.int64)
    centres = interior_points(polygons, clusters, rng, margin * 3)
    first_centre = np.concatenate([[0], np.cumsum(clusters)[:-1]])
    owner = np.repeat(np.arange(len(polygons)), counts)
    pick = first_centre[owner] + (rng.random(len(owner)) * clusters[owner]).astype(np.int64)
    xy = centres[pick] + rng.normal(0.0, spread_m, (len(owner), 2))
    bad = np.flatnonzero(~_accept(polygons, owner, xy, margin))
    if bad.size:
        redo = np.bincount(owner[bad], minlength=len(polygons))
        order = np.argsort(owner[bad], kind="stable")
        xy[bad[order]] = interior_points(polygons, redo, rng, margin)
    return cast(NDArray[np.float64], xy)
