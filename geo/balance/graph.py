"""Adjacency of grids: two grids are neighbours when they share a boundary of positive length.

Touching at a corner does not count (a community joined only at a point is not contiguous). Lengths
are measured in the UTM zone of the data, so the threshold is in metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.coverage import metric_crs_for, polygonal

MIN_SHARED_M = 1.0


def adjacency(polygons: gpd.GeoDataFrame, *, min_shared_m: float = MIN_SHARED_M) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of row positions of polygons sharing more than ``min_shared_m`` of boundary."""
    if len(polygons) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    metric = polygons.to_crs(metric_crs_for(polygons))
    geoms = polygonal(metric.geometry.values)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    boundaries = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(boundaries[i], boundaries[j]))
    keep = shared > min_shared_m
    return np.column_stack([i[keep], j[keep]]).astype(np.int64)


def components(n: int, edges: np.ndarray, nodes: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Connected components of the graph on ``nodes`` (default all ``n``): (count, label per node in ``nodes``)."""
    nodes = np.arange(n) if nodes is None else np.asarray(nodes, dtype=np.int64)
    index = np.full(n, -1, dtype=np.int64)
    index[nodes] = np.arange(len(nodes))
    if len(edges):
        a, b = index[edges[:, 0]], index[edges[:, 1]]
        keep = (a >= 0) & (b >= 0)
        a, b = a[keep], b[keep]
    else:
        a = b = np.zeros(0, dtype=np.int64)
    matrix = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(nodes), len(nodes)))
    count, labels = connected_components(matrix, directed=False)
    return int(count), labels


def is_connected(n: int, edges: np.ndarray, nodes: np.ndarray) -> bool:
    """Whether ``nodes`` (a non-empty subset of ``range(n)``) induce a connected subgraph."""
    return len(nodes) > 0 and components(n, edges, nodes)[0] == 1
