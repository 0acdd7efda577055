"""The reference case on the demo: the part of Nanjiao (南郊社区) nearest Lida (利达社区)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from geo.crs import utm_crs_for
from geo.store import read_buildings, read_units

NANJIAO, LIDA = "南郊社区", "利达社区"


def units_named(engine: Engine, *names: str) -> list[Any]:
    """The current community rows with these names (in the demo they are unique)."""
    with engine.connect() as conn:
        communities = read_units(conn, as_of=dt.date.today(), level="community")
    return [communities[communities["name"] == n].iloc[0] for n in names]


def nanjiao_third_polygon(engine: Engine, share: float = 1 / 3) -> tuple[BaseGeometry, Any, Any]:
    """A polygon a planner might draw: a band along Lida holding about ``share`` of Nanjiao's residents.

    It is Lida grown by a distance found by bisection, so part of it lies outside Nanjiao (in Lida
    and beyond) and is clipped away by the proposal, as a hand-drawn shape would be.
    """
    nanjiao, lida = units_named(engine, NANJIAO, LIDA)
    with engine.connect() as conn:
        buildings = read_buildings(conn, as_of=dt.date.today())
    inside = buildings[buildings.within(nanjiao.geometry)]
    target = share * inside["residents"].sum()
    metric = utm_crs_for(nanjiao.geometry.centroid.x, nanjiao.geometry.centroid.y)
    lida_m = gpd.GeoSeries([lida.geometry], crs=4326).to_crs(metric).iloc[0]
    pts = gpd.GeoSeries(inside.geometry.values, crs=4326).to_crs(metric)
    low, high = 0.0, 5000.0
    for _ in range(40):
        mid = (low + high) / 2
        moved = inside["residents"].to_numpy()[shapely.contains(lida_m.buffer(mid), pts.values)].sum()
        low, high = (mid, high) if moved < target else (low, mid)
    polygon = gpd.GeoSeries([lida_m.buffer(high).simplify(5)], crs=metric).to_crs(4326).iloc[0]
    return polygon, nanjiao, lida
