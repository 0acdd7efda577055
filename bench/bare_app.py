"""The floor for /locate and /stations/nearest: a bare FastAPI app with a psycopg pool and the same SQL.

No SQLAlchemy, no dependencies, no middleware, no error handling: what an endpoint that runs the
same PostGIS statements and ranks by the same geodesic costs. Run by bench/bare_latency.py:

    BARE_DSN=postgresql://postgres@127.0.0.1:5432/gridgov_bench_x1 uvicorn bare_app:app --app-dir bench
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
LOCATE = ("SELECT code, name, name_en, level, version FROM units WHERE units.geom && ST_MakeEnvelope(%(lon)s, "
          "%(lat)s, %(lon)s, %(lat)s, 4326) AND (valid_from <= %(d)s AND (valid_to IS NULL OR valid_to > %(d)s)) "
          "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) ORDER BY code")
NEAREST = (
    "SELECT stations.code, stations.name, stations.name_en, stations.kind, stations.capacity, "
    "stations.community_code, u.name, ST_X(stations.geom), ST_Y(stations.geom) FROM stations LEFT JOIN units u "
    "ON u.code = stations.community_code AND u.valid_from <= %(d)s AND (u.valid_to IS NULL OR u.valid_to > %(d)s) "
    "WHERE stations.valid_from <= %(d)s AND (stations.valid_to IS NULL OR stations.valid_to > %(d)s) "
    "ORDER BY stations.geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) LIMIT %(k)s")
pool: ConnectionPool | None = None


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global pool
    pool = ConnectionPool(os.environ["BARE_DSN"], min_size=2, max_size=5, kwargs={"autocommit": True})
    yield
    pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/locate")
def locate(lon: float, lat: float) -> JSONResponse:
    assert pool is not None
    with pool.connection() as conn:
        rows = conn.execute(LOCATE, {"lon": lon, "lat": lat, "d": dt.date.today()}).fetchall()
    units = [{"code": r[0], "name": r[1], "name_en": r[2], "level": r[3]} for r in rows]
    return JSONResponse({"lon": lon, "lat": lat, "units": units})


@app.get("/stations/nearest")
def nearest(lon: float, lat: float, k: int = 3) -> JSONResponse:
    assert pool is not None
    with pool.connection() as conn:
        rows = conn.execute(NEAREST, {"lon": lon, "lat": lat, "d": dt.date.today(), "k": k + 8}).fetchall()
    xs, ys = np.array([r[7] for r in rows]), np.array([r[8] for r in rows])
    _, _, dist = GEOD.inv(np.full_like(xs, lon), np.full_like(ys, lat), xs, ys)
    order = np.argsort(dist, kind="stable")[:k]
    return JSONResponse({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": rows[i][0], "geometry": {"type": "Point", "coordinates": [rows[i][7], rows[i][8]]},
         "properties": {"code": rows[i][0], "name": rows[i][1], "kind": rows[i][3],
                        "distance_m": round(float(dist[i]), 3)}} for i in order]})
