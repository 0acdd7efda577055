"""Import into SpatiaLite and PostGIS: what is written, how buildings find their grid, all-or-nothing."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
import shapely
from factories import tiny_dataset
from shapely.geometry import Point
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError

from geo import importer
from geo.importer import import_dataset
from geo.io import Dataset
from geo.models import ChangeLog
from geo.store import read_buildings, read_stations, read_units

DAY = dt.date(2024, 3, 1)
GRID_W, GRID_E = "520499001001001", "520499001001002"


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("units", "buildings", "stations", "change_log")}


def test_import_writes_every_feature_as_version_one(engine: Engine) -> None:
    ds = tiny_dataset()
    summary = import_dataset(engine, ds, author="王工", valid_from=DAY, document_ref="西府发〔2024〕1号",
                             reason="initial load")
    assert summary.units == {"district": 1, "subdistrict": 2, "community": 4, "grid": 8}
    assert (summary.buildings, summary.stations) == (40, 5)
    assert summary.residents == int(ds.buildings.residents.sum()) == 1300
    assert summary.households == int(ds.buildings.households.sum()) == 480
    assert summary.districts["520499"]["elderly"] == int(ds.buildings.elderly.sum())
    with engine.connect() as conn:
        units = read_units(conn, as_of=DAY)
        buildings = read_buildings(conn, as_of=DAY)
        assert read_units(conn, as_of=DAY - dt.timedelta(days=1)).empty
        totals = conn.execute(text("SELECT sum(residents), sum(households), sum(special_care) FROM buildings")).one()
    assert sorted(units.code) == sorted(ds.units.code)
    for frame in (units, buildings):
        assert set(frame.version) == {1} and set(frame.valid_from) == {DAY}
        assert frame.valid_to.isna().all() and set(frame.change_id) == {summary.change_id}
    assert tuple(totals) == (1300, 480, int(ds.buildings.special_care.sum()))
    community = units.set_index("code").loc["520499001001"]
    assert (community["name"], community["kind"], community["parent_code"], community["workers"]) == (
        "社区11", "urban", "520499001", 11)
    assert units.geometry.geom_type.eq("MultiPolygon").all()


def test_the_change_log_records_who_when_why_and_what(engine: Engine) -> None:
    summary = import_dataset(engine, tiny_dataset(), author="王工", valid_from=DAY,
                             document_ref="西府发〔2024〕1号", reason="initial load")
    with engine.connect() as conn:
        row = conn.execute(select(ChangeLog.__table__)).one()
    assert row.id == summary.change_id and row.kind == "import" and row.author == "王工"
    assert row.effective_date == DAY or str(row.effective_date) == DAY.isoformat()
    assert (row.document_ref, row.reason) == ("西府发〔2024〕1号", "initial load")
    assert row.units == ["520499"]
    assert row.summary["buildings"] == 40 and row.summary["units"]["grid"] == 8
    assert row.summary["districts"]["520499"]["residents"] == 1300


def test_buildings_get_the_grid_that_contains_them(engine: Engine) -> None:
    import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    with engine.connect() as conn:
        buildings = read_buildings(conn, as_of=DAY)
        grids = read_units(conn, as_of=DAY, level="grid").set_index("code")
    # The factory names each building after its grid; the location must agree with both.
    assert (buildings.grid_code == buildings.code.str[:15]).all()
    inside = shapely.covers(grids.geometry.loc[buildings.grid_code].values, buildings.geometry.values)
    assert inside.all()


def test_a_building_on_a_shared_edge_goes_to_the_lowest_code_unless_the_file_names_its_grid(engine: Engine) -> None:
    ds = tiny_dataset()
    edge = Point(106.01, 26.015)  # on the edge between GRID_W and GRID_E
    ds.buildings.loc[0, "geometry"] = edge
    ds.buildings.loc[1, "geometry"] = edge
    ds.buildings["grid_code"] = None
    ds.buildings.loc[1, "grid_code"] = GRID_E
    import_dataset(engine, ds, author="t", valid_from=DAY)
    with engine.connect() as conn:
        grid_of = read_buildings(conn, as_of=DAY).set_index("code").grid_code
    assert grid_of[ds.buildings.code[0]] == GRID_W
    assert grid_of[ds.buildings.code[1]] == GRID_E


def test_stations_without_a_community_get_the_one_containing_them(engine: Engine) -> None:
    ds = tiny_dataset()
    expected = dict(zip(ds.stations.code, ds.stations.community_code, strict=True))
    ds.stations = ds.stations.drop(columns="community_code")
    import_dataset(engine, ds, author="t", valid_from=DAY)
    with engine.connect() as conn:
        stations = read_stations(conn, as_of=DAY)
    assert dict(zip(stations.code, stations.community_code, strict=True)) == expected


def test_extra_columns_are_ignored(engine: Engine) -> None:
    ds = tiny_dataset()
    ds.units["residents"] = 7
    ds.units["note"] = "from the street office"
    ds.buildings["floors"] = 6
    summary = import_dataset(engine, ds, author="t", valid_from=DAY)
    assert summary.residents == 1300


def test_a_failure_midway_leaves_the_database_unchanged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[str] = []
    real = importer.insert_versions

    def fail_on_buildings(conn: Connection, table: str, frame: gpd.GeoDataFrame) -> int:
        written.append(table)
        if table == "buildings":
            raise RuntimeError("disk full")
        return real(conn, table, frame)

    monkeypatch.setattr(importer, "insert_versions", fail_on_buildings)
    with pytest.raises(RuntimeError, match="disk full"):
        import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    assert written == ["units", "buildings"]  # the change log and the units were already written…
    assert _counts(engine) == {"units": 0, "buildings": 0, "stations": 0, "change_log": 0}  # …and rolled back


def _neighbour() -> Dataset:
    """The tiny dataset as another district beside it (new unit codes) but with the same building codes."""
    ds = tiny_dataset()
    for frame in (ds.units, ds.buildings, ds.stations):
        frame.geometry = frame.geometry.translate(xoff=0.04)
    for column in ("code", "parent_code"):
        ds.units[column] = ds.units[column].str.replace("520499", "520498", n=1)
    ds.stations["code"] = ds.stations["code"].str.replace("520499", "520498", n=1)
    ds.stations["community_code"] = ds.stations["community_code"].str.replace("520499", "520498", n=1)
    return ds


def test_a_database_error_midway_rolls_everything_back(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    before = _counts(engine)
    # Hide the existing codes from validation: the buildings then collide in the database itself,
    # after the change log and the neighbour's units were inserted.
    monkeypatch.setattr(importer, "existing_codes", lambda conn, table: set())
    with pytest.raises(IntegrityError):
        import_dataset(engine, _neighbour(), author="t", valid_from=DAY)
    assert _counts(engine) == before
    with engine.connect() as conn:
        assert set(read_units(conn, as_of=DAY).code.str[:6]) == {"520499"}


def _recoded(ds: Dataset, district: str, dx: float) -> Dataset:
    """The tiny dataset under another district code, shifted east by ``dx`` degrees."""
    def move(frame: gpd.GeoDataFrame, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
        out = frame.copy()
        for column in columns:
            if column in out:
                out[column] = out[column].where(out[column].isna(), out[column].astype(str).str.replace(
                    "520499", district, n=1, regex=False))
        out.geometry = out.geometry.translate(xoff=dx)
        return out

    return Dataset(move(ds.units, ("code", "parent_code")), move(ds.buildings, ("code",)),
                   move(ds.stations, ("code", "community_code")))


def test_a_second_district_beside_the_first_imports(engine: Engine) -> None:
    import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    summary = import_dataset(engine, _recoded(tiny_dataset(), "520498", 0.04), author="t", valid_from=DAY)
    assert summary.units["district"] == 1
    assert _counts(engine)["units"] == 30


def test_a_district_overlapping_one_in_the_database_is_refused(engine: Engine) -> None:
    import_dataset(engine, tiny_dataset(), author="t", valid_from=DAY)
    before = _counts(engine)
    with pytest.raises(importer.ImportRejected) as rejected:
        import_dataset(engine, _recoded(tiny_dataset(), "520498", 0.02), author="t", valid_from=DAY)
    [problem] = [p for p in rejected.value.problems if "already in the database" in p.reason]
    assert (problem.layer, problem.feature, problem.field) == ("units", "520498", "geometry")
    assert "overlaps district 520499" in problem.reason
    assert _counts(engine) == before
