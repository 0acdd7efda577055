"""Export on SpatiaLite and PostGIS: layers as of a date, totals through parent links, round trips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import fresh_database_url
from factories import tiny_dataset
from sqlalchemy import Engine

from geo.coverage import area_m2, metric_crs_for, points_in_polygons
from geo.db import make_engine
from geo.domain import Level
from geo.export import export_dataset, export_to_path
from geo.importer import import_dataset
from geo.io import Dataset, read_dataset
from geo.validate import validate_dataset

DAY = dt.date(2024, 3, 1)
LATER = dt.date(2025, 1, 1)


@pytest.fixture
def second_engine(engine: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Another fresh database of the same backend as ``engine``."""
    folder = tmp_path / "second"
    folder.mkdir()
    urls = fresh_database_url("spatialite" if engine.dialect.name == "sqlite" else "postgis", request, folder)
    other = make_engine(next(urls))
    yield other
    other.dispose()
    next(urls, None)  # run the generator's clean-up (drops the PostGIS database)


def _spatial_totals(units: pd.DataFrame, buildings: pd.DataFrame) -> pd.DataFrame:
    """Totals found by geometry alone (no parent links, no codes): the independent reference."""
    rows = []
    for level in Level:
        members = units[units.level == level]
        located = points_in_polygons(buildings.geometry, members)
        sums = buildings.groupby(located).agg(residents=("residents", "sum"), households=("households", "sum"),
                                              buildings=("code", "size"))
        rows.append(sums.reindex(members.code).fillna(0).astype(int))
    return pd.concat(rows)


def test_units_carry_totals_of_their_buildings(engine: Engine) -> None:
    ds = tiny_dataset()
    import_dataset(engine, ds, author="t", valid_from=DAY)
    out = export_dataset(engine, as_of=LATER)
    units = out.units.set_index("code")
    assert units.loc["520499", ["residents", "households", "buildings"]].tolist() == [1300, 480, 40]
    expected = _spatial_totals(ds.units, ds.buildings)
    assert (units[["residents", "households", "buildings"]].loc[expected.index] == expected).all().all()
    assert out.buildings.grid_code.tolist() == [c[:15] for c in out.buildings.code]
    assert sorted(out.stations.community_code) == sorted(ds.stations.community_code)
    assert {"version", "valid_from", "change_id"}.isdisjoint(out.units.columns)


def test_totals_follow_parent_links_not_code_prefixes(engine: Engine) -> None:
    ds = tiny_dataset()
    moved, foreign = "520499001001002", "520499001002009"  # a grid of 社区11 with a code of 社区12
    ds.units.loc[ds.units.code == moved, "code"] = foreign
    ds.buildings["grid_code"] = None  # located from geometry
    import_dataset(engine, ds, author="t", valid_from=DAY)
    units = export_dataset(engine, as_of=DAY).units.set_index("code")
    assert units.loc[foreign, "parent_code"] == "520499001001"
    assert units.loc["520499001001", "buildings"] == 10 and units.loc["520499001002", "buildings"] == 10
    assert units.loc["520499001001", "residents"] == units.loc[["520499001001001", foreign], "residents"].sum()


def test_levels_limit_the_units_and_the_layers_that_depend_on_them(engine: Engine) -> None:
    import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    top = export_dataset(engine, as_of=DAY, levels={Level.district, Level.subdistrict})
    assert sorted(top.units.level.unique()) == ["district", "subdistrict"]
    assert top.buildings.empty and top.stations.empty
    assert top.units.set_index("code").loc["520499", "residents"] == 1300
    communities = export_dataset(engine, as_of=DAY, levels={Level.community})
    assert len(communities.units) == 4 and len(communities.stations) == 5 and communities.buildings.empty


def test_an_export_before_the_import_is_empty(engine: Engine) -> None:
    import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    before = export_dataset(engine, as_of=DAY - dt.timedelta(days=1))
    assert before.units.empty and before.buildings.empty and before.stations.empty
    with engine.connect() as conn:  # a connection works as well as an engine
        assert len(export_dataset(conn, as_of=DAY).units) == 15


def _geometry_difference_m2(a: Dataset, b: Dataset) -> float:
    left = a.units.set_index("code").sort_index()
    right = b.units.set_index("code").loc[left.index]
    # On the change grid: import rounds to it, and an overlay of shapes a few ulps apart is not robust.
    diff = shapely.symmetric_difference(np.asarray(left.geometry.values), np.asarray(right.geometry.values),
                                        grid_size=1e-9)
    return float(area_m2(diff, metric_crs_for(a.units)).max())


def test_round_trip_through_a_file_into_another_database(
    engine: Engine, second_engine: Engine, tmp_path: Path
) -> None:
    import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    path = export_to_path(engine, tmp_path / "first.gpkg", fmt="gpkg", as_of=DAY)
    first = read_dataset(path)
    assert validate_dataset(first) == []  # the extra total columns do not bother import
    import_dataset(second_engine, first, author="t", valid_from=DAY)
    second = export_dataset(second_engine, as_of=DAY)
    columns = ["name", "name_en", "level", "kind", "parent_code", "workers", "residents", "households", "buildings"]
    a = first.units.set_index("code").sort_index()[columns].astype(object)
    b = second.units.set_index("code").sort_index()[columns].astype(object)
    assert a.where(a.notna(), None).equals(b.where(b.notna(), None))
    assert _geometry_difference_m2(first, second) < 1.0
    assert sorted(first.buildings.code) == sorted(second.buildings.code)
    assert first.buildings.residents.sum() == second.buildings.residents.sum()


@pytest.mark.parametrize("fmt", ["geojson", "csv", "shp"])
def test_every_format_exports_a_dataset_that_imports_again(engine: Engine, tmp_path: Path, fmt: str) -> None:
    ds = tiny_dataset()
    import_dataset(engine, ds, author="t", valid_from=DAY)
    folder = export_to_path(engine, tmp_path / fmt, fmt=fmt, as_of=DAY)
    again = read_dataset(folder, crs="EPSG:4326" if fmt == "csv" else None)
    assert validate_dataset(again) == []
    assert int(again.units.set_index("code").loc["520499", "residents"]) == 1300  # CSV extras stay text
    assert _geometry_difference_m2(again, ds) < 1.0
