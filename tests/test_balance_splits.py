"""Grid splits (recursive bisection into contiguous parts within the band) and merges of tiny grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo.balance.splits import Band, plan_grids
from geo.errors import InvalidInput

X0, Y0, D = 106.0, 26.0, 0.004


def grids_and_buildings(shapes: dict[str, Polygon], households: dict[str, list[int]], seed: int = 1):  # noqa: ANN201
    rng = np.random.default_rng(seed)
    rows, buildings = [], []
    for code, shape in shapes.items():
        rows.append({"code": code, "parent_code": code[:12], "geometry": MultiPolygon([shape])})
        minx, miny, maxx, maxy = shape.bounds
        for i, hh in enumerate(households[code]):
            while True:
                p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                if shape.contains(p):
                    break
            buildings.append({"code": f"{code}{i:04d}", "grid_code": code, "households": hh, "residents": 3 * hh,
                              "geometry": p})
    return (gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326),
            gpd.GeoDataFrame(pd.DataFrame(buildings), geometry="geometry", crs=4326))


def check_split(split, grid: Polygon, buildings: gpd.GeoDataFrame, band: Band) -> None:  # noqa: ANN001
    assert split.within_band, split.note
    union = shapely.union_all([p.geometry for p in split.parts])
    assert union.symmetric_difference(grid).area < 1e-9 * grid.area  # the parts tile the grid
    assert sum(p.geometry.area for p in split.parts) == pytest.approx(grid.area, rel=1e-9)
    seen: list[str] = []
    for part in split.parts:
        assert part.geometry.geom_type == "Polygon"  # one contiguous piece
        assert band.low <= part.households <= band.high
        inside = buildings[buildings["code"].isin(part.buildings)]
        assert part.geometry.buffer(1e-9).contains(shapely.union_all(inside.geometry.values))
        assert part.households == int(inside["households"].sum())
        seen += part.buildings
    assert sorted(seen) == sorted(buildings["code"])


def test_a_big_grid_is_cut_into_contiguous_parts_within_the_band() -> None:
    code = "520499001001001"
    shape = box(X0, Y0, X0 + 3 * D, Y0 + D)
    grids, buildings = grids_and_buildings({code: shape}, {code: [12] * 110})  # 1,320 households
    plan = plan_grids(grids, buildings, Band(300, 500))
    assert len(plan.splits) == 1
    split = plan.splits[0]
    assert len(split.parts) == 3
    check_split(split, shape, buildings, Band(300, 500))


def test_a_non_convex_grid_is_cut_where_each_part_stays_in_one_piece() -> None:
    code = "520499001001002"
    # A U shape: a cut across both arms would leave one side in two pieces.
    shape = Polygon([(X0, Y0), (X0 + 3 * D, Y0), (X0 + 3 * D, Y0 + 3 * D), (X0 + 2 * D, Y0 + 3 * D),
                     (X0 + 2 * D, Y0 + D), (X0 + D, Y0 + D), (X0 + D, Y0 + 3 * D), (X0, Y0 + 3 * D)])
    grids, buildings = grids_and_buildings({code: shape}, {code: [10] * 80}, seed=3)  # 800 households
    plan = plan_grids(grids, buildings, Band(300, 500))
    check_split(plan.splits[0], shape, buildings, Band(300, 500))


def test_tiny_neighbours_of_one_community_are_merged_within_the_band() -> None:
    a, b, c, d = (f"520499001001{i:03d}" for i in (1, 2, 3, 4))
    other = "520499001002001"
    shapes = {a: box(X0, Y0, X0 + D, Y0 + D), b: box(X0 + D, Y0, X0 + 2 * D, Y0 + D),
              c: box(X0 + 2 * D, Y0, X0 + 3 * D, Y0 + D), d: box(X0 + 3 * D, Y0, X0 + 4 * D, Y0 + D),
              other: box(X0, Y0 + D, X0 + D, Y0 + 2 * D)}
    households = {a: [60, 60], b: [100, 80], c: [200, 150], d: [40], other: [50]}
    grids, buildings = grids_and_buildings(shapes, households)
    plan = plan_grids(grids, buildings, Band(300, 500))
    assert not plan.splits
    groups = {tuple(m.grid_codes): m for m in plan.merges}
    # d (40) takes c (350): 390; a (120) takes b (180): 300. The other community's grid stays alone.
    assert set(groups) == {(c, d), (a, b)}
    assert all(m.within_band and m.households <= 500 for m in plan.merges)
    assert all(other not in m.grid_codes for m in plan.merges)


def test_a_band_upside_down_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Band(500, 300)


def test_village_grids_are_judged_by_their_own_band() -> None:
    town, village = "520499001001001", "520499001002001"
    shapes = {town: box(X0, Y0, X0 + D, Y0 + D), village: box(X0 + D, Y0, X0 + 2 * D, Y0 + D)}
    grids, buildings = grids_and_buildings(shapes, {town: [12] * 25, village: [12] * 25})  # 300 households each
    grids["kind"] = ["urban", "village"]
    general = plan_grids(grids, buildings, Band(300, 500))
    assert general.splits == [] and general.village_band is None
    own = plan_grids(grids, buildings, Band(300, 500), village_band=Band(50, 200))
    assert [s.grid_code for s in own.splits] == [village]
    assert own.as_dict()["village_band"] == {"min_households": 50, "max_households": 200}
    check_split(own.splits[0], shapes[village], buildings[buildings["grid_code"] == village], Band(50, 200))
