"""The three interchange layers (units, buildings, stations) of a generated district, in EPSG:4326.

Parents are built here as coverage unions of their children, in WGS84 on the precision grid, so the
children of every unit tile it exactly and shared edges keep identical vertices.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from data.generator.district import District
from data.generator.names import SUBDISTRICTS
from geo.crs import WGS84
from geo.domain import Level

UNIT_COLUMNS = ("code", "name", "name_en", "level", "kind", "parent_code", "workers", "synthetic")
# Code prefixes by level (a building code is its grid's code and a serial number).
_SUBDISTRICT, _COMMUNITY, _GRID = (Level.subdistrict.code_length, Level.community.code_length, Level.grid.code_length)


def as_multipolygons(geoms: Any) -> NDArray[np.object_]:
    """Promote Polygons to single-part MultiPolygons (the units layer holds MultiPolygons only)."""
    return np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms], dtype=object)


def _union(parts: NDArray[np.object_]) -> shapely.Geometry:
    """The parent as the coverage union of its children, refusing children that are no valid coverage."""
    if not shapely.coverage_is_valid(parts):
        raise RuntimeError("children do not form a valid coverage")
    return shapely.coverage_union_all(parts)


def _row(
    code: str,
    name: str,
    name_en: str,
    level: Level,
    parent_code: str | None,
    kind: str | None = None,
    workers: int | None = None,
    synthetic: bool = True,
) -> dict[str, Any]:
    return dict(
        code=code,
        name=name,
        name_en=name_en,
        level=level.value,
        kind=kind,
        parent_code=parent_code,
        workers=workers,
        synthetic=synthetic,
    )


def units_frame(d: District) -> gpd.GeoDataFrame:
    """District, sub-district, community and grid rows; every parent is the union of its children."""
    grid_geoms = d.grids
    if not shapely.coverage_is_valid(grid_geoms):
        raise RuntimeError("the grids of the district do not form a valid coverage")
    community_geoms = [_union(grid_geoms[c.grids]) for c in d.communities]
    sub_geoms = [
        _union(np.array([g for g, c in zip(community_geoms, d.communities, strict=True) if c.subdistrict == k]))
        for k in range(len(SUBDISTRICTS))
    ]
    district_geom = _union(np.array(sub_geoms, dtype=object))
    rows = [_row(d.spec.code, d.spec.name, d.spec.name_en, Level.district, None, synthetic=not d.spec.real_outline)]
    geoms = [district_geom]
    for spec, geom in zip(SUBDISTRICTS, sub_geoms, strict=True):
        rows.append(_row(d.spec.code + spec.seq, spec.name, spec.name_en, Level.subdistrict, d.spec.code, spec.kind))
        geoms.append(geom)
    for c, geom, workers in zip(d.communities, community_geoms, d.workers.tolist(), strict=True):
        rows.append(_row(c.code, c.name, c.name_en, Level.community, c.code[:_SUBDISTRICT], c.kind, workers))
        geoms.append(geom)
    for c in d.communities:
        for g in c.grids.tolist():
            name, name_en = d.grid_names[g]
            rows.append(_row(d.grid_codes[g], name, name_en, Level.grid, c.code))
            geoms.append(grid_geoms[g])
    frame = pd.DataFrame(rows, columns=list(UNIT_COLUMNS)).astype({"workers": "Int64", "synthetic": bool})
    return gpd.GeoDataFrame(frame, geometry=as_multipolygons(geoms), crs=WGS84)


def buildings_frame(d: District) -> gpd.GeoDataFrame:
    """One row per building, coded grid code + 4 digits, with a synthetic address."""
    b = d.buildings
    community_of_grid: dict[int, int] = {g: i for i, c in enumerate(d.communities) for g in c.grids.tolist()}
    addresses = []
    for code, g in zip(d.building_codes, b.grid.tolist(), strict=True):
        c = d.communities[community_of_grid[g]]
        unit = "栋" if c.kind == "urban" else "号"
        addresses.append(f"{c.name}{int(code[_COMMUNITY:_GRID])}组{int(code[_GRID:])}{unit}")
    frame = pd.DataFrame(
        {
            "code": d.building_codes,
            "address": addresses,
            "households": b.households,
            "residents": b.residents,
            "elderly": b.elderly,
            "children": b.children,
            "special_care": b.special_care,
            "grid_code": [d.grid_codes[g] for g in b.grid.tolist()],
            "synthetic": True,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=d.building_points, crs=WGS84)


def stations_frame(d: District) -> gpd.GeoDataFrame:
    """One row per station, coded community code + "S" + two digits."""
    frame = pd.DataFrame(
        {
            "code": [s.code for s in d.stations],
            "name": [s.name for s in d.stations],
            "name_en": [s.name_en for s in d.stations],
            "kind": [s.kind.value for s in d.stations],
            "capacity": np.array([s.capacity for s in d.stations], dtype=np.int64),
            "community_code": [d.communities[s.community].code for s in d.stations],
            "synthetic": True,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=d.station_points, crs=WGS84)
