"""The stations nearest to a point, by geodesic distance on the WGS84 ellipsoid.

The spatial index only proposes candidates; exactness comes from a bound. Once k candidates are
ranked by true geodesic distance (pyproj.Geod), the k-th distance r bounds the answer, so every
station within r is fetched through the index and ranked again: the true nearest station is never
missed, whatever the index's own idea of distance (degrees on PostGIS, boxes on SpatiaLite, chords
on a sphere for batches).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, TextClause, bindparam, text

from geo.crs import GEOD
from geo.sql import bbox_filter, is_sqlite, point_sql

M_PER_DEG_LAT = 110_574.0  # the smallest metres-per-degree of latitude (at the equator)
EARTH_EQUATORIAL_M = 6_378_137.0


@dataclass(frozen=True)
class NearStation:
    """A station and its geodesic distance from the query point."""

    code: str
    name: str
    name_en: str | None
    kind: str
    capacity: int | None
    community_code: str
    community_name: str | None
    lon: float
    lat: float
    distance_m: float

    @classmethod
    def from_row(cls, row: Sequence[object], distance_m: float) -> NearStation:
        """From a row of ``_STATION_COLUMNS``."""
        code, name, name_en, kind, capacity, community, community_name, lon, lat = row
        return cls(str(code), str(name), name_en, str(kind), capacity, str(community),  # type: ignore[arg-type]
                   community_name, float(lon), float(lat), distance_m)  # type: ignore[arg-type]


# The responsible community's name comes along in the same round trip (a join, not a subquery
# per row: batches read every station).
_STATION_COLUMNS = (
    "stations.code, stations.name, stations.name_en, stations.kind, stations.capacity, stations.community_code, "
    "u.name, ST_X(stations.geom), ST_Y(stations.geom)"
)
_FROM = (
    "stations LEFT JOIN units u ON u.code = stations.community_code AND u.valid_from <= :as_of "
    "AND (u.valid_to IS NULL OR u.valid_to > :as_of)"
)
_STATIONS_AS_OF = "stations.valid_from <= :as_of AND (stations.valid_to IS NULL OR stations.valid_to > :as_of)"



def _kind_filter(kinds: Sequence[str] | None) -> str:
    return " AND stations.kind IN :kinds" if kinds else ""


def _bind(sql: str, kinds: Sequence[str] | None) -> TextClause:
    stmt = text(sql)
    return stmt.bindparams(bindparam("kinds", expanding=True)) if kinds else stmt


def _in_box_sql(conn: Connection, kinds: Sequence[str] | None) -> str:
    return f"SELECT {_STATION_COLUMNS} FROM {_FROM} WHERE {bbox_filter(conn, 'stations')} AND ({_STATIONS_AS_OF})" + (
        _kind_filter(kinds)
    )


def _box_params(lon: float, lat: float, radius_m: float) -> dict[str, float]:
    """A lon/lat box that surely contains the geodesic circle of ``radius_m`` around the point."""
    d_lat = radius_m / M_PER_DEG_LAT * 1.01 + 1e-9
    top = min(89.9, abs(lat) + d_lat)
    d_lon = min(180.0, radius_m / (math.pi / 180 * EARTH_EQUATORIAL_M * math.cos(math.radians(top))) * 1.01)
    return {"minx": lon - d_lon, "maxx": lon + d_lon, "miny": lat - d_lat, "maxy": lat + d_lat}


def _rank(rows: Sequence[tuple[Any, ...]], lon: float, lat: float) -> list[NearStation]:
    if not rows:
        return []
    xs = np.array([r[7] for r in rows], dtype=float)
    ys = np.array([r[8] for r in rows], dtype=float)
    _, _, dist = GEOD.inv(np.full_like(xs, lon), np.full_like(ys, lat), xs, ys)
    found = [NearStation.from_row(r, float(d)) for r, d in zip(rows, dist, strict=True)]
    return sorted(found, key=lambda s: (s.distance_m, s.code))


KNN_EXTRA = 8  # candidates beyond k, so that one KNN query usually settles the answer


def _planar_lower_bound_m(lat: float, degrees: float) -> float:
    """A geodesic distance no station at planar distance >= ``degrees`` (lon/lat) can be under."""
    top = min(89.9, abs(lat) + degrees)
    per_degree = min(math.pi / 180 * EARTH_EQUATORIAL_M * math.cos(math.radians(top)), M_PER_DEG_LAT)
    return degrees * per_degree * 0.995  # 0.5 % for the ellipsoid's own variation


def _knn(
    conn: Connection, k: int, base: dict[str, object], kinds: Sequence[str] | None
) -> tuple[list[Any], float | None]:
    """PostGIS KNN (``<->``, planar degrees) for k + KNN_EXTRA stations.

    Returns the rows and the planar distance of the last one (None when there are no more stations).
    """
    sql = (
        f"SELECT {_STATION_COLUMNS}, stations.geom <-> {point_sql(conn)} FROM {_FROM} "
        f"WHERE ({_STATIONS_AS_OF}){_kind_filter(kinds)} ORDER BY stations.geom <-> {point_sql(conn)} LIMIT :k"
    )
    rows = list(conn.execute(_bind(sql, kinds), {**base, "k": k + KNN_EXTRA}).all())
    last = float(rows[-1][-1]) if len(rows) == k + KNN_EXTRA else None
    return [r[:-1] for r in rows], last


def _candidates(
    conn: Connection, lon: float, lat: float, k: int, base: dict[str, object], kinds: Sequence[str] | None
) -> list[Any]:
    """At least k stations near the point if there are k at all (the index's idea of near)."""
    if not is_sqlite(conn):
        return _knn(conn, k, base, kinds)[0]
    # SpatiaLite has no usable KNN: grow a box over the R*Tree until it holds k stations.
    sql = _in_box_sql(conn, kinds)
    radius = 500.0
    while True:
        rows = list(conn.execute(_bind(sql, kinds), {**base, **_box_params(lon, lat, radius)}).all())
        if len(rows) >= k or radius > 2.1e7:
            return rows
        radius *= 4


def nearest_stations(
    conn: Connection,
    lon: float,
    lat: float,
    *,
    as_of: dt.date,
    k: int = 3,
    kinds: Sequence[str] | None = None,
    max_distance_m: float | None = None,
) -> list[NearStation]:
    """The ``k`` stations nearest to the point by geodesic distance, optionally of some kinds and within a radius."""
    base: dict[str, object] = {"lon": lon, "lat": lat, "as_of": as_of}
    if kinds:
        base["kinds"] = list(kinds)
    if not is_sqlite(conn):
        rows, last_planar = _knn(conn, k, base, kinds)
        candidates = _rank(rows, lon, lat)
        # Every station beyond the KNN's last one is at least this far: if the k-th is nearer, the
        # answer is settled without a second query.
        if candidates and (last_planar is None or (len(candidates) >= k and candidates[k - 1].distance_m
                                                   <= _planar_lower_bound_m(lat, last_planar))):
            found = candidates[:k]
            return [s for s in found if max_distance_m is None or s.distance_m <= max_distance_m]
    else:
        candidates = _rank(_candidates(conn, lon, lat, k, base, kinds), lon, lat)
    if not candidates:
        return []
    radius = candidates[min(k, len(candidates)) - 1].distance_m
    if max_distance_m is not None:
        radius = min(radius, max_distance_m)
    sql = _in_box_sql(conn, kinds)
    exact = _rank(conn.execute(_bind(sql, kinds), {**base, **_box_params(lon, lat, radius)}).all(), lon, lat)
    if max_distance_m is not None:
        exact = [s for s in exact if s.distance_m <= max_distance_m]
    return exact[:k]


# Batches: an in-memory KD-tree over unit vectors (chords on a sphere), refined geodesically.
# Over a small arc, ds_ellipsoid >= min(M, N) * angle, and the meridional radius M is at least
# a(1 - e²) = 6,335,439 m, so a chord angle gives a safe lower bound on the geodesic distance.
MIN_RADIUS_OF_CURVATURE_M = 6_335_000.0


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _chord_lower_bound_m(chord: np.ndarray) -> np.ndarray:
    return 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)) * MIN_RADIUS_OF_CURVATURE_M


def _chord_for_m(distance_m: float) -> float:
    return float(2.0 * math.sin(min(math.pi, distance_m / MIN_RADIUS_OF_CURVATURE_M) / 2.0))


def read_station_rows(conn: Connection, *, as_of: dt.date, kinds: Sequence[str] | None) -> list[Any]:
    """Every station valid on ``as_of`` (optionally of some kinds), as rows for :func:`nearest_batch`."""
    sql = (f"SELECT {_STATION_COLUMNS} FROM {_FROM} WHERE ({_STATIONS_AS_OF}){_kind_filter(kinds)} "
           "ORDER BY stations.code")
    params: dict[str, object] = {"as_of": as_of}
    if kinds:
        params["kinds"] = list(kinds)
    return list(conn.execute(_bind(sql, kinds), params).all())


def nearest_indices(
    s_lon: np.ndarray,
    s_lat: np.ndarray,
    p_lon: np.ndarray,
    p_lat: np.ndarray,
    *,
    k: int,
    max_distance_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the indices of the ``k`` nearest stations and their geodesic distances, exactly.

    Vectorised over all points: one KD-tree query for ``k + 4`` chord-nearest candidates, one
    pyproj call for their geodesic distances, one sort by (distance, station index). Only points
    where a station outside the candidates could still be nearer than the k-th (its chord lower
    bound is under the k-th distance) are refined one by one with a ball query; on real data
    these are rare. Returns ``(idx, dist)`` of shape (points, k); -1 / inf where there is none
    (fewer stations than k, or beyond ``max_distance_m``). Ties go to the lower station index.
    """
    from scipy.spatial import cKDTree

    n_points, n = len(p_lon), len(s_lon)
    idx_out = np.full((n_points, k), -1, dtype=np.int64)
    dist_out = np.full((n_points, k), np.inf)
    if n == 0 or n_points == 0:
        return idx_out, dist_out
    tree = cKDTree(_unit_vectors(s_lon, s_lat))
    points = _unit_vectors(p_lon, p_lat)
    extra = min(n, k + 4)
    chords, idx = tree.query(points, k=extra)
    chords, idx = chords.reshape(n_points, extra), idx.reshape(n_points, extra)
    _, _, dist = GEOD.inv(np.repeat(p_lon, extra), np.repeat(p_lat, extra), s_lon[idx].ravel(), s_lat[idx].ravel())
    dist = dist.reshape(n_points, extra)
    order = np.lexsort((idx, dist), axis=-1)
    idx, dist = np.take_along_axis(idx, order, -1), np.take_along_axis(dist, order, -1)
    kk = min(k, extra)
    idx_out[:, :kk], dist_out[:, :kk] = idx[:, :kk], dist[:, :kk]
    if extra < n:
        # A station beyond the candidates is at least this far: if the k-th is not nearer, refine.
        unsure = np.nonzero(dist[:, kk - 1] >= _chord_lower_bound_m(chords.max(axis=1)))[0]
        for i in unsure:
            ball = np.array(tree.query_ball_point(points[i], _chord_for_m(dist[i, kk - 1]) * 1.000001), dtype=np.int64)
            _, _, ball_dist = GEOD.inv(np.full(len(ball), p_lon[i]), np.full(len(ball), p_lat[i]),
                                       s_lon[ball], s_lat[ball])
            best = np.lexsort((ball, ball_dist))[:kk]
            idx_out[i, :kk], dist_out[i, :kk] = ball[best], np.asarray(ball_dist)[best]
    if max_distance_m is not None:
        beyond = dist_out > max_distance_m
        idx_out[beyond], dist_out[beyond] = -1, np.inf
    return idx_out, dist_out


def nearest_batch(
    rows: Sequence[tuple[Any, ...]],
    lons: Sequence[float],
    lats: Sequence[float],
    *,
    k: int,
    max_distance_m: float | None = None,
) -> list[list[NearStation]]:
    """For each point, the ``k`` nearest of ``rows`` (from :func:`read_station_rows`), exactly."""
    if not rows:
        return [[] for _ in lons]
    s_lon = np.array([r[7] for r in rows], dtype=float)
    s_lat = np.array([r[8] for r in rows], dtype=float)
    idx, dist = nearest_indices(s_lon, s_lat, np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), k=k,
                                max_distance_m=max_distance_m)
    return [[NearStation.from_row(rows[int(j)], float(d)) for j, d in zip(ii, dd, strict=True) if j >= 0]
            for ii, dd in zip(idx, dist, strict=True)]
