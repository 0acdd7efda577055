"""A tiny, valid dataset in the interchange format, built from boxes so tests can reason about it.

District 520499 (a box of about 4 km x 2.2 km) → 2 subdistricts (west/east) → 2 communities each
(north/south) → 2 grids each (west/east): 8 grids, 5 buildings per grid, one party service centre
per community and one volunteer station.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo.io import Dataset

X0, Y0, X1, Y1 = 106.00, 26.00, 106.04, 26.02
DISTRICT = "520499"


def _mp(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon([box(x0, y0, x1, y1)])


def tiny_dataset() -> Dataset:
    units = [
        dict(code=DISTRICT, name="测试区", name_en="Test District", level="district", kind=None,
             parent_code=None, workers=None, geometry=_mp(X0, Y0, X1, Y1)),
    ]
    buildings, stations = [], []
    xm, ym = (X0 + X1) / 2, (Y0 + Y1) / 2
    for s, (sx0, sx1) in enumerate([(X0, xm), (xm, X1)], start=1):
        sub = f"{DISTRICT}{s:03d}"
        units.append(dict(code=sub, name=f"街道{s}", name_en=f"Subdistrict {s}", level="subdistrict",
                          kind="street", parent_code=DISTRICT, workers=None, geometry=_mp(sx0, Y0, sx1, Y1)))
        for c, (cy0, cy1) in enumerate([(ym, Y1), (Y0, ym)], start=1):
            com = f"{sub}{c:03d}"
            units.append(dict(code=com, name=f"社区{s}{c}", name_en=f"Community {s}{c}", level="community",
                              kind="urban", parent_code=sub, workers=10 * s + c,
                              geometry=_mp(sx0, cy0, sx1, cy1)))
            gx = (sx0 + sx1) / 2
            for g, (gx0, gx1) in enumerate([(sx0, gx), (gx, sx1)], start=1):
                grid = f"{com}{g:03d}"
                units.append(dict(code=grid, name=f"网格{s}{c}{g}", name_en=f"Grid {s}{c}{g}", level="grid",
                                  kind=None, parent_code=com, workers=None,
                                  geometry=_mp(gx0, cy0, gx1, cy1)))
                for b in range(5):
                    fx, fy = 0.15 + 0.17 * b, 0.3 + 0.1 * b
                    buildings.append(dict(
                        code=f"{grid}{b + 1:04d}", address=f"网格{s}{c}{g} {b + 1}栋",
                        households=10 + b, residents=25 + 3 * b + s, elderly=4 + b, children=3,
                        special_care=b % 2,
                        geometry=Point(gx0 + fx * (gx1 - gx0), cy0 + fy * (cy1 - cy0)),
                    ))
            stations.append(dict(code=f"{com}S01", name=f"社区{s}{c}党群服务中心",
                                 name_en=f"Community {s}{c} Party Service Center",
                                 kind="party_service_center", capacity=50, community_code=com,
                                 geometry=Point(sx0 + 0.5 * (sx1 - sx0), cy0 + 0.55 * (cy1 - cy0))))
    stations.append(dict(code=f"{DISTRICT}001001S02", name="志愿服务站", name_en="Volunteer Station",
                         kind="volunteer_station", capacity=20, community_code=f"{DISTRICT}001001",
                         geometry=Point(X0 + 0.003, Y1 - 0.002)))
    return Dataset(
        units=gpd.GeoDataFrame(pd.DataFrame(units), geometry="geometry", crs=4326),
        buildings=gpd.GeoDataFrame(pd.DataFrame(buildings), geometry="geometry", crs=4326),
        stations=gpd.GeoDataFrame(pd.DataFrame(stations), geometry="geometry", crs=4326),
    )


def scaled_dataset(subdistricts: int = 10, communities: int = 15, grids: int = 20, per_grid: int = 20,
                   *, vertex_spacing: float | None = 0.0005) -> Dataset:
    """A larger valid dataset of boxes (default 3,161 units, 60,000 buildings) for speed checks.

    ``vertex_spacing`` (degrees) densifies the edges so geometries have realistic vertex counts.
    """
    code, units, buildings = "520498", [], []
    width, height = 0.01 * grids, 0.01 * communities
    district = box(X0, Y0, X0 + width * subdistricts, Y0 + height)
    units.append(dict(code=code, name="大区", level="district", parent_code=None, geometry=district))
    rng = np.random.default_rng(7)
    for s in range(subdistricts):
        sub = f"{code}{s + 1:03d}"
        sx = X0 + s * width
        units.append(dict(code=sub, name=f"街道{s}", level="subdistrict", parent_code=code,
                          geometry=box(sx, Y0, sx + width, Y0 + height)))
        for c in range(communities):
            com = f"{sub}{c + 1:03d}"
            cy = Y0 + c * 0.01
            units.append(dict(code=com, name=f"社区{s}-{c}", level="community", parent_code=sub,
                              geometry=box(sx, cy, sx + width, cy + 0.01)))
            for g in range(grids):
                grid = f"{com}{g + 1:03d}"
                gx = sx + g * 0.01
                units.append(dict(code=grid, name=f"网格{s}-{c}-{g}", level="grid", parent_code=com,
                                  geometry=box(gx, cy, gx + 0.01, cy + 0.01)))
                xy = rng.uniform(0.0005, 0.0095, size=(per_grid, 2))
                for b, (fx, fy) in enumerate(xy):
                    residents = int(rng.integers(5, 200))
                    buildings.append(dict(code=f"{grid}{b + 1:04d}", households=residents // 3,
                                          residents=residents, elderly=residents // 5, children=residents // 6,
                                          special_care=0, geometry=Point(gx + fx, cy + fy)))
    frame = gpd.GeoDataFrame(pd.DataFrame(units), geometry="geometry", crs=4326)
    if vertex_spacing:
        frame["geometry"] = shapely.segmentize(frame.geometry.values, vertex_spacing)
    frame["geometry"] = [MultiPolygon([g]) for g in frame.geometry]
    return Dataset(
        units=frame,
        buildings=gpd.GeoDataFrame(pd.DataFrame(buildings), geometry="geometry", crs=4326),
        stations=gpd.GeoDataFrame(
            pd.DataFrame([dict(code=f"{u}S01", name="站", kind="health_station", geometry=geom.centroid)
                          for u, geom in zip(frame.code, frame.geometry, strict=True) if len(u) == 12]),
            geometry="geometry", crs=4326),
    )
