"""A tiny, valid dataset in the interchange format, built from boxes so tests can reason about it.

District 520499 (a box of about 4 km x 2.2 km) → 2 subdistricts (west/east) → 2 communities each
(north/south) → 2 grids each (west/east): 8 grids, 5 buildings per grid, one party service centre
per community and one volunteer station.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Point, box

X0, Y0, X1, Y1 = 106.00, 26.00, 106.04, 26.02
DISTRICT = "520499"


@dataclass
class Dataset:
    units: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame


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
