"""Invariants of the generated demo dataset, checked on the written GeoPackage with independent code.

The scale-1 dataset is built once per session; every check reads it back from the file and recomputes
what it asserts (unions, areas, containment, totals) with geopandas/shapely/pyproj rather than trusting
the generator's own bookkeeping.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import shape

from data.generate import main as generate_main
from data.generator import DatasetSummary, build_dataset
from geo.crs import geometries_gcj02_to_wgs84, utm_crs_for
from geo.domain import CODE_LENGTH, STATION_KINDS, UNIT_KINDS, Level, level_of_code

SEED = 20250415
METRIC = utm_crs_for(105.94, 26.25)
SOURCE = Path(__file__).resolve().parent.parent / "data" / "source" / "520402.gcj02.geojson"
LAYERS = ("units", "buildings", "stations")
NOISE_M2 = 1.0

STREETS = ["南街", "东街", "西街", "北街", "东关", "华西", "西航", "新安"]
TOWNS = ["宋旗", "幺铺", "宁谷", "龙宫", "双堡", "大西桥", "七眼桥", "蔡官", "轿子山", "旧州"]
TOWNSHIPS = [
    "新场布依族苗族乡",
    "岩腊苗族布依族乡",
    "鸡场布依族苗族乡",
    "杨武布依族苗族乡",
    "东屯乡",
    "黄腊布依族苗族乡",
    "刘官乡",
]


def read_layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_file(path, layer=name, engine="pyogrio") for name in LAYERS}


@pytest.fixture(scope="session")
def built(demo_build: tuple[Path, DatasetSummary]) -> tuple[Path, DatasetSummary]:
    return demo_build


@pytest.fixture(scope="session")
def layers(built: tuple[Path, DatasetSummary]) -> dict[str, gpd.GeoDataFrame]:
    return read_layers(built[0])


@pytest.fixture(scope="session")
def units(layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    return layers["units"]


@pytest.fixture(scope="session")
def metric_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return units.to_crs(METRIC).set_index("code", drop=False).rename_axis(None)


@pytest.fixture(scope="session")
def community_load(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Residents (from buildings), workers and residents per worker of every community."""
    units, buildings = layers["units"], layers["buildings"]
    communities = units[units["level"] == "community"].set_index("code")
    residents = buildings.groupby(buildings["grid_code"].str[:12])["residents"].sum()
    load = communities[["name", "kind", "parent_code", "workers"]].copy()
    load["residents"] = residents.reindex(load.index).fillna(0)
    load["per_worker"] = load["residents"] / load["workers"]
    return load


def level(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    return frame[frame["level"] == name]


# --- format --------------------------------------------------------------------------------------------


def test_summary(built: tuple[Path, DatasetSummary], layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, summary = built  # how long a build takes: bench/limits.py
    assert summary.grids == len(level(layers["units"], "grid"))
    assert summary.buildings == len(layers["buildings"])
    assert summary.residents == layers["buildings"]["residents"].sum()


def test_layers_crs_and_geometry_types(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for frame in layers.values():
        assert frame.crs.to_epsg() == 4326
    assert set(layers["units"].geom_type) == {"MultiPolygon"}
    assert set(layers["buildings"].geom_type) == {"Point"}
    assert set(layers["stations"].geom_type) == {"Point"}
    for frame in layers.values():
        assert frame.is_valid.all()


def test_columns(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert list(layers["units"].columns) == [
        "code", "name", "name_en", "level", "kind", "parent_code", "workers", "synthetic", "geometry",
    ]  # fmt: skip
    assert set(layers["buildings"].columns) >= {
        "code", "address", "households", "residents", "elderly", "children", "special_care", "grid_code",
        "synthetic", "geometry",
    }  # fmt: skip
    assert set(layers["stations"].columns) >= {
        "code", "name", "name_en", "kind", "capacity", "community_code", "synthetic", "geometry",
    }  # fmt: skip


def test_geopackage_says_synthetic(built: tuple[Path, DatasetSummary]) -> None:
    info = pyogrio.read_info(built[0], layer="units")
    assert info["dataset_metadata"]["SYNTHETIC"] == "true"
    assert "synthetic" in info["layer_metadata"]["DESCRIPTION"].lower()


def test_unit_codes_levels_kinds_and_parents(units: gpd.GeoDataFrame) -> None:
    assert units["code"].is_unique
    codes = set(units["code"])
    for row in units.itertuples():
        lvl = Level(row.level)
        assert level_of_code(row.code) == lvl
        assert len(row.code) == CODE_LENGTH[lvl]
        if UNIT_KINDS[lvl]:
            assert row.kind in UNIT_KINDS[lvl]
        else:
            assert pd.isna(row.kind)
        if lvl is Level.district:
            assert pd.isna(row.parent_code)
        else:
            assert row.parent_code in codes
            assert row.code.startswith(row.parent_code)
            assert level_of_code(row.parent_code) == lvl.parent


def test_workers_and_synthetic_flags(units: gpd.GeoDataFrame) -> None:
    communities = units["level"] == "community"
    assert units.loc[communities, "workers"].notna().all()
    assert (units.loc[communities, "workers"] >= 1).all()
    assert (units.loc[communities, "workers"] % 1 == 0).all()
    assert units.loc[~communities, "workers"].isna().all()
    district = units["level"] == "district"
    assert not units.loc[district, "synthetic"].any()
    assert units.loc[~district, "synthetic"].all()


def test_every_coordinate_on_the_precision_grid(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for frame in layers.values():
        coords = shapely.get_coordinates(frame.geometry.values) * 1e7
        assert np.abs(coords - np.round(coords)).max() < 1e-5


# --- content -------------------------------------------------------------------------------------------


def test_district_is_the_real_outline(units: gpd.GeoDataFrame) -> None:
    district = level(units, "district").iloc[0]
    assert (district["code"], district["name"], district["name_en"]) == ("520402", "西秀区", "Xixiu District")
    outline = geometries_gcj02_to_wgs84(shape(json.loads(SOURCE.read_text(encoding="utf-8"))))
    stored, real = gpd.GeoSeries([district.geometry, outline], crs=4326).to_crs(METRIC)
    assert 1.7e9 < real.area < 1.75e9
    # Equal up to the 1e-7 degree output grid: no vertex more than a centimetre away.
    assert shapely.hausdorff_distance(stored, real) < 0.02
    assert stored.symmetric_difference(real).area < 1e-6 * real.area
    assert district.geometry.contains(shapely.Point(105.94, 26.25))


def test_subdistricts_are_the_real_25(units: gpd.GeoDataFrame) -> None:
    subs = level(units, "subdistrict").set_index("code")
    assert len(subs) == 25
    assert subs.loc["520402001", "name"] == "南街街道"
    assert subs.loc["520402006", "name"] == "华西街道"
    assert sorted(subs.loc[subs["kind"] == "street", "name"]) == sorted(f"{n}街道" for n in STREETS)
    assert sorted(subs.loc[subs["kind"] == "town", "name"]) == sorted(f"{n}镇" for n in TOWNS)
    assert sorted(subs.loc[subs["kind"] == "township", "name"]) == sorted(TOWNSHIPS)
    ranges = {"street": range(1, 100), "town": range(100, 200), "township": range(200, 300)}
    for code, kind in subs["kind"].items():
        assert int(code[6:]) in ranges[kind]
    assert subs.loc["520402001", "name_en"] == "Nanjie Subdistrict"
    assert subs.loc[subs["name"] == "新场布依族苗族乡", "name_en"].item() == "Xinchang Buyi and Miao Ethnic Township"


def test_counts_in_range(layers: dict[str, gpd.GeoDataFrame]) -> None:
    units = layers["units"]
    communities = level(units, "community")
    assert 500 <= len(communities) <= 600
    assert 60 <= (communities["kind"] == "urban").sum() <= 90
    assert 2_300 <= len(level(units, "grid")) <= 2_700
    assert 55_000 <= len(layers["buildings"]) <= 65_000
    assert 750_000 <= layers["buildings"]["residents"].sum() <= 800_000
    assert 550 <= len(layers["stations"]) <= 700


def test_names_chinese_english_and_unique(units: gpd.GeoDataFrame) -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert units["name"].map(lambda n: bool(cjk.search(n))).all()
    assert units["name_en"].map(lambda n: bool(n) and n.isascii()).all()
    communities = level(units, "community")
    assert not communities.duplicated(["parent_code", "name"]).any()
    villages = communities[communities["kind"] == "village"]
    assert villages["name"].str.endswith("村").all()


def test_layout_city_small_and_dense(metric_units: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> None:
    subs = level(metric_units, "subdistrict")
    streets, rural = subs[subs["kind"] == "street"], subs[subs["kind"] != "street"]
    centre = gpd.GeoSeries([shapely.Point(105.94, 26.25)], crs=4326).to_crs(METRIC).iloc[0]
    assert streets.contains(centre).any()
    assert (streets.distance(centre) < 8_000).all()
    assert streets.area.max() < rural.area.min()
    grids = level(metric_units, "grid")
    kind = grids["parent_code"].map(level(units, "community").set_index("code")["kind"])
    assert grids.area[kind == "urban"].median() * 3 < grids.area[kind == "village"].median()


# --- invariant 1-3: coverage, nesting, contiguity ------------------------------------------------------


def test_every_level_is_a_valid_coverage(units: gpd.GeoDataFrame) -> None:
    for name in ("subdistrict", "community", "grid"):
        geoms = level(units, name).geometry.values
        assert shapely.coverage_is_valid(geoms), name


def test_children_tile_every_parent(metric_units: gpd.GeoDataFrame) -> None:
    children = metric_units[metric_units["parent_code"].notna()].groupby("parent_code")
    assert set(children.groups) == set(metric_units.loc[metric_units["level"] != "grid", "code"])
    for parent_code, kids in children:
        parent = metric_units.loc[parent_code].geometry
        union = shapely.union_all(kids.geometry.values)
        overlap = kids.area.sum() - union.area
        assert overlap < NOISE_M2, parent_code
        assert shapely.symmetric_difference(union, parent).area < NOISE_M2, parent_code


def test_every_unit_lies_within_its_parent(metric_units: gpd.GeoDataFrame) -> None:
    kids = metric_units[metric_units["parent_code"].notna()]
    parents = metric_units.loc[kids["parent_code"]].geometry.values
    outside = shapely.area(shapely.difference(kids.geometry.values, parents))
    assert outside.max() < NOISE_M2


def test_units_are_contiguous(units: gpd.GeoDataFrame) -> None:
    parts = units.geometry.map(lambda g: len(g.geoms))
    lvl = units["level"]
    assert (parts[lvl.isin(["community", "grid"])] == 1).all()
    district = level(units, "district").geometry.iloc[0]
    assert len(district.geoms) == 2
    exclave = min(district.geoms, key=lambda p: p.area)
    multi = units[(lvl == "subdistrict") & (parts > 1)]
    assert len(multi) <= 1
    for geom in multi.geometry:
        assert len(geom.geoms) == 2 and geom.intersection(exclave).area > 0.9 * exclave.area


def test_urban_and_nanjiao_lida_share_an_edge(metric_units: gpd.GeoDataFrame) -> None:
    communities = level(metric_units, "community").set_index("name")
    nanjiao, lida = communities.loc["南郊社区"], communities.loc["利达社区"]
    assert nanjiao["parent_code"] == lida["parent_code"] == "520402006"
    assert nanjiao["kind"] == lida["kind"] == "urban"
    shared = nanjiao.geometry.boundary.intersection(lida.geometry.boundary)
    assert shared.length > 100
    grids = level(metric_units, "grid")
    assert (grids["parent_code"] == nanjiao["code"]).sum() >= 8


# --- invariant 4: conservation -------------------------------------------------------------------------


def test_buildings_in_exactly_their_grid(layers: dict[str, gpd.GeoDataFrame], units: gpd.GeoDataFrame) -> None:
    buildings = layers["buildings"]
    assert buildings["code"].is_unique
    assert (buildings["code"].str.len() == 19).all()
    assert (buildings["code"].str[:15] == buildings["grid_code"]).all()
    grids = level(units, "grid")[["code", "geometry"]]
    joined = gpd.sjoin(buildings[["code", "grid_code", "geometry"]], grids, predicate="intersects")
    assert joined.index.is_unique and len(joined) == len(buildings)
    assert (joined["grid_code"] == joined["code_right"]).all()
    metric_b = buildings.to_crs(METRIC)
    boundary = grids.set_index("code").to_crs(METRIC).boundary.loc[buildings["grid_code"]].values
    assert shapely.distance(metric_b.geometry.values, boundary).min() > 1.0


def test_population_fields(layers: dict[str, gpd.GeoDataFrame]) -> None:
    b = layers["buildings"]
    for field in ("households", "residents", "elderly", "children", "special_care"):
        assert pd.api.types.is_integer_dtype(b[field])
        assert (b[field] >= 0).all()
    assert (b["households"] >= 1).all()
    assert (b["residents"] >= b["households"]).all()
    assert (b["elderly"] + b["children"] <= b["residents"]).all()
    assert (b["special_care"] <= b["residents"]).all()
    assert b["address"].str.match(r"^\S+(社区|村)\d+组\d+(栋|号)$").all()
    assert b["synthetic"].all()


def test_totals_add_up_at_every_level(layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Totals by geometry (buildings within units) agree with totals by code, and children sum to parents."""
    units, buildings = layers["units"], layers["buildings"]
    fields = ["households", "residents", "elderly", "children", "special_care"]
    totals = {}
    for lvl in Level:
        joined = gpd.sjoin(buildings[fields + ["geometry"]], level(units, lvl.value)[["code", "geometry"]])
        assert len(joined) == len(buildings), lvl
        totals[lvl] = joined.groupby("code")[fields].sum().sort_index()
        by_code = buildings.groupby(buildings["code"].str[: lvl.code_length])[fields].sum().sort_index()
        pd.testing.assert_frame_equal(totals[lvl], by_code, check_names=False)
    assert (totals[Level.district].iloc[0] == buildings[fields].sum()).all()
    for upper, lower in pairwise(Level):
        parent_of = level(units, lower.value).set_index("code")["parent_code"]
        summed = totals[lower].groupby(parent_of.reindex(totals[lower].index)).sum()
        pd.testing.assert_frame_equal(summed, totals[upper], check_names=False)


def test_urban_grids_hold_300_to_500_households(layers: dict[str, gpd.GeoDataFrame]) -> None:
    units, b = layers["units"], layers["buildings"]
    kind = level(units, "community").set_index("code")["kind"]
    households = b.groupby("grid_code")["households"].sum()
    urban = households[kind.reindex(households.index.str[:12]).values == "urban"]
    assert len(urban) > 300
    assert urban.between(300, 500).all()


def test_grids_numbered_north_to_south(metric_units: gpd.GeoDataFrame) -> None:
    grids = level(metric_units, "grid").copy()
    grids["y"] = grids.centroid.y
    ordered = 0
    big = [g for _, g in grids.sort_values("code").groupby("parent_code") if len(g) >= 4]
    for g in big:
        half = len(g) // 2
        ordered += g["y"].iloc[:half].mean() > g["y"].iloc[-half:].mean()
    assert ordered >= 0.95 * len(big)


# --- invariant 6: workers and the story ----------------------------------------------------------------


def test_workers_near_the_norm(community_load: pd.DataFrame) -> None:
    per_worker = community_load["per_worker"]
    assert 450 <= per_worker.median() <= 700
    urban = community_load[community_load["kind"] == "urban"]
    assert urban["per_worker"].between(400, 750).mean() >= 0.75
    overloaded = urban[urban["per_worker"] > 1.5 * 556]
    assert 2 <= len(overloaded) <= 12


def test_nanjiao_overloaded_lida_light(community_load: pd.DataFrame) -> None:
    urban = community_load[community_load["kind"] == "urban"].set_index("name")
    median = urban["per_worker"].median()
    assert 2.5 <= urban.loc["南郊社区", "per_worker"] / median <= 3.5
    assert urban.loc["利达社区", "per_worker"] < median


def test_named_communities_exist(units: gpd.GeoDataFrame) -> None:
    communities = level(units, "community").set_index("name")
    macaojing = communities.index.intersection(["马槽井社区", "马槽井居委会"])
    assert len(macaojing) == 1 and communities.loc[macaojing[0], "kind"] == "urban"
    assert communities.loc["彩虹社区", "kind"] == "urban"
    assert communities.loc["把士村", "kind"] == "village"


# --- invariant 7: stations -----------------------------------------------------------------------------


def test_stations(layers: dict[str, gpd.GeoDataFrame], units: gpd.GeoDataFrame) -> None:
    stations = layers["stations"]
    communities = level(units, "community")[["code", "name", "geometry"]]
    assert stations["code"].is_unique
    assert stations["code"].str.fullmatch(r"\d{12}S\d{2}").all()
    assert (stations["code"].str[:12] == stations["community_code"]).all()
    assert set(stations["kind"]) <= STATION_KINDS
    assert stations["kind"].nunique() >= 5
    assert pd.api.types.is_integer_dtype(stations["capacity"]) and (stations["capacity"] > 0).all()
    centres = stations[stations["kind"] == "party_service_center"]
    assert centres["community_code"].value_counts().reindex(communities["code"]).eq(1).all()
    assert 20 <= (stations["kind"] == "new_employment_station").sum() <= 60
    joined = gpd.sjoin(stations, communities, predicate="within")
    assert joined.index.is_unique and len(joined) == len(stations)
    assert (joined["community_code"] == joined["code_right"]).all()


def test_story_stations(layers: dict[str, gpd.GeoDataFrame], units: gpd.GeoDataFrame) -> None:
    stations = layers["stations"]
    names = level(units, "community").set_index("code")["name"]
    stations = stations.assign(community=stations["community_code"].map(names))
    warm = stations[stations["name"] == "暖新护航·驿站有我"]
    assert len(warm) == 1
    assert warm["kind"].item() == "new_employment_station"
    assert warm["community"].item() in {"马槽井社区", "马槽井居委会"}
    volunteers = stations.loc[stations["kind"] == "volunteer_station", "community"]
    assert {"彩虹社区", "把士村"} <= set(volunteers)


# --- invariant 5: determinism; scale mode --------------------------------------------------------------


def assert_same_layers(a: dict[str, gpd.GeoDataFrame], b: dict[str, gpd.GeoDataFrame]) -> None:
    for name in LAYERS:
        left, right = a[name], b[name]
        pd.testing.assert_frame_equal(left.drop(columns="geometry"), right.drop(columns="geometry"))
        assert (shapely.to_wkb(left.geometry.values) == shapely.to_wkb(right.geometry.values)).all()


@pytest.mark.slow  # builds the dataset again
def test_same_seed_same_data(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    path = tmp_path / "again.gpkg"
    build_dataset(path, seed=SEED)
    assert_same_layers(layers, read_layers(path))


@pytest.mark.slow  # builds the dataset again
def test_other_seed_other_data_via_cli(
    tmp_path: Path, layers: dict[str, gpd.GeoDataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.gpkg"
    assert generate_main(["--out", str(path), "--seed", "7"]) == 0
    assert "residents" in capsys.readouterr().out
    other = read_layers(path)
    mine, theirs = level(layers["units"], "grid"), level(other["units"], "grid")
    same_grids = (
        len(mine) == len(theirs)
        and (shapely.to_wkb(mine.geometry.values) == shapely.to_wkb(theirs.geometry.values)).all()
    )
    assert not same_grids
    assert not other["buildings"]["residents"].equals(layers["buildings"]["residents"])
    names = [level(frame, "subdistrict")["name"].tolist() for frame in (layers["units"], other["units"])]
    assert names[0] == names[1]


@pytest.mark.slow  # builds the dataset again
def test_scale_two(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    path = tmp_path / "scale2.gpkg"
    summary = build_dataset(path, seed=SEED, scale=2)
    big = read_layers(path)
    assert summary.districts == 2
    for name in LAYERS:
        assert big[name]["code"].is_unique, name
    districts = level(big["units"], "district").set_index("code")
    assert list(districts.index) == ["520402", "529901"]
    assert districts.loc["529901", "synthetic"]
    assert not districts.geometry.iloc[0].intersects(districts.geometry.iloc[1])
    assert 2 * 2_300 <= len(level(big["units"], "grid")) <= 2 * 2_700
    assert set(big["buildings"]["code"].str[:6]) == {"520402", "529901"}
    assert shapely.coverage_is_valid(level(big["units"], "grid").geometry.values)
    xixiu = {name: big[name][big[name]["code"].str.startswith("520402")].reset_index(drop=True) for name in LAYERS}
    assert_same_layers(layers, xixiu)
