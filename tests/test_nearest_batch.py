"""The vectorised batch nearest search answers exactly what brute-force geodesic search answers."""

from __future__ import annotations

import numpy as np
import pytest
from factories import tiny_dataset

from geo.crs import GEOD
from geo.nearest import nearest_indices


def _brute_force(s_lon, s_lat, p_lon, p_lat, k, max_distance_m=None):
    idx = np.full((len(p_lon), k), -1)
    dist = np.full((len(p_lon), k), np.inf)
    for i, (lon, lat) in enumerate(zip(p_lon, p_lat, strict=True)):
        _, _, d = GEOD.inv(np.full(len(s_lon), lon), np.full(len(s_lon), lat), s_lon, s_lat)
        order = np.lexsort((np.arange(len(s_lon)), d))[:k]
        keep = order if max_distance_m is None else order[d[order] <= max_distance_m]
        idx[i, :len(keep)], dist[i, :len(keep)] = keep, d[keep]
    return idx, dist


@pytest.mark.parametrize("k", [1, 3, 5, 40])
@pytest.mark.parametrize("max_distance_m", [None, 800.0])
def test_batch_matches_brute_force(k: int, max_distance_m) -> None:
    rng = np.random.default_rng(14)
    # Clustered stations (as in towns), exact duplicates (ties), and points near, far and across clusters.
    centres = rng.uniform([105.6, 25.9], [106.3, 26.5], size=(12, 2))
    stations = np.vstack([c + rng.normal(0, 0.01, size=(25, 2)) for c in centres])
    stations = np.vstack([stations, stations[:10]])
    points = np.vstack([rng.uniform([105.5, 25.8], [106.4, 26.6], size=(1500, 2)),
                        rng.uniform([100.0, 20.0], [112.0, 32.0], size=(200, 2)), stations[:50]])
    s_lon, s_lat, p_lon, p_lat = stations[:, 0], stations[:, 1], points[:, 0], points[:, 1]
    got_idx, got_dist = nearest_indices(s_lon, s_lat, p_lon, p_lat, k=k, max_distance_m=max_distance_m)
    exp_idx, exp_dist = _brute_force(s_lon, s_lat, p_lon, p_lat, k, max_distance_m)
    np.testing.assert_array_equal(got_idx, exp_idx)
    np.testing.assert_array_equal(got_dist, exp_dist)


def test_fewer_stations_than_k_and_no_stations() -> None:
    lon, lat = np.array([106.0, 106.1]), np.array([26.0, 26.1])
    idx, dist = nearest_indices(lon[:1], lat[:1], lon, lat, k=3)
    assert idx.tolist() == [[0, -1, -1], [0, -1, -1]] and np.isinf(dist[:, 1:]).all()
    idx, _ = nearest_indices(np.array([]), np.array([]), lon, lat, k=2)
    assert (idx == -1).all()


def test_batch_endpoint_answers_like_brute_force(client) -> None:
    stations = tiny_dataset().stations.sort_values("code").reset_index(drop=True)
    rng = np.random.default_rng(3)
    points = rng.uniform([105.99, 25.99], [106.05, 26.03], size=(300, 2))
    body = client.post("/stations/nearest", json={"points": [{"lon": x, "lat": y, "id": str(i)}
                                                             for i, (x, y) in enumerate(points)], "k": 2}).json()
    exp_idx, exp_dist = _brute_force(stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy(),
                                     points[:, 0], points[:, 1], 2)
    for result, ii, dd in zip(body["results"], exp_idx, exp_dist, strict=True):
        assert [s["code"] for s in result["stations"]] == list(stations["code"].iloc[ii])
        assert [s["distance_m"] for s in result["stations"]] == pytest.approx(dd, abs=1e-3)
        assert [s["rank"] for s in result["stations"]] == [1, 2]
