"""Reading and writing the interchange formats: every format, CRS handling, GCJ-02, bad files."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from factories import tiny_dataset

from geo.crs import geodesic_distance_m, geometries_wgs84_to_gcj02
from geo.errors import InvalidInput, Problem
from geo.interchange import LAYERS
from geo.io import Dataset, read_dataset, write_dataset
from geo.validate import validate_dataset


def _normalised(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return value


def assert_same_dataset(got: Dataset, want: Dataset, *, tolerance: float = 1e-9) -> None:
    """Same codes, same attribute values (None == NaN, 3 == 3.0) and geometry within ``tolerance`` degrees."""
    for name, spec in LAYERS.items():
        a = got.layer(name).set_index("code").sort_index()
        b = want.layer(name).set_index("code").sort_index()
        assert list(a.index) == list(b.index), name
        assert a.crs.to_epsg() == 4326
        for column in [c for c in spec.columns if c in b and c != "code"]:
            assert [_normalised(v) for v in a[column]] == [_normalised(v) for v in b[column]], (name, column)
        distance = shapely.hausdorff_distance(np.asarray(a.geometry.values), np.asarray(b.geometry.values))
        assert np.max(distance, initial=0.0) <= tolerance, name


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "shp"])
def test_every_format_reads_back_what_was_written(tmp_path: Path, fmt: str) -> None:
    ds = tiny_dataset()
    path = write_dataset(ds, tmp_path / ("tiny.gpkg" if fmt == "gpkg" else "tiny"), fmt=fmt)
    got = read_dataset(path, crs="EPSG:4326" if fmt == "csv" else None)
    assert got.problems == []
    assert_same_dataset(got, ds)
    assert validate_dataset(got) == []


def test_writing_twice_replaces_the_files(tmp_path: Path) -> None:
    ds = tiny_dataset()
    write_dataset(ds, tmp_path / "a.gpkg", fmt="gpkg")
    ds.units = ds.units[ds.units.level != "grid"]
    write_dataset(ds, tmp_path / "a.gpkg", fmt="gpkg")
    assert len(read_dataset(tmp_path / "a.gpkg").units) == 7


def _write_gpkg(ds: Dataset, path: Path, crs: str) -> None:
    for name in LAYERS:
        ds.layer(name).to_crs(crs).to_file(path, layer=name, driver="GPKG", engine="pyogrio")


@pytest.mark.parametrize("crs", ["EPSG:32648", "EPSG:4490", "EPSG:3857"])
def test_a_source_in_another_crs_is_reprojected(tmp_path: Path, crs: str) -> None:
    ds = tiny_dataset()
    _write_gpkg(ds, tmp_path / "other.gpkg", crs)
    if crs == "EPSG:32648":  # the file really holds metres, so the test can fail
        assert pyogrio.read_dataframe(tmp_path / "other.gpkg", layer="buildings").total_bounds[0] > 100_000
    got = read_dataset(tmp_path / "other.gpkg")
    assert got.problems == []
    assert_same_dataset(got, ds, tolerance=1e-8)


def test_the_crs_argument_declares_a_layer_without_one(tmp_path: Path) -> None:
    ds = tiny_dataset()
    folder = tmp_path / "utm"
    folder.mkdir()
    for name in LAYERS:
        frame = ds.layer(name).to_crs("EPSG:32648")
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["wkt"] = shapely.to_wkt(np.asarray(frame.geometry.values), rounding_precision=-1)
        table.to_csv(folder / f"{name}.csv", index=False)
    undeclared = read_dataset(folder)
    assert Problem("units", "*", "geometry", "the layer has no CRS: declare it (e.g. crs='EPSG:4326')") in (
        undeclared.problems
    )
    assert any(p.field == "geometry" and "no CRS" in p.reason for p in validate_dataset(undeclared))
    assert_same_dataset(read_dataset(folder, crs="EPSG:32648"), ds, tolerance=1e-8)


def test_the_crs_argument_overrides_a_wrong_declaration(tmp_path: Path) -> None:
    ds = tiny_dataset()
    mislabelled = Dataset(*(ds.layer(n).to_crs("EPSG:32648").set_crs(4326, allow_override=True) for n in LAYERS))
    _write_gpkg(mislabelled, tmp_path / "wrong.gpkg", "EPSG:4326")
    problems = validate_dataset(read_dataset(tmp_path / "wrong.gpkg"))
    assert any("outside the lon/lat range" in p.reason for p in problems)
    assert_same_dataset(read_dataset(tmp_path / "wrong.gpkg", crs="EPSG:32648"), ds, tolerance=1e-8)


def test_an_unknown_crs_argument_is_refused(tmp_path: Path) -> None:
    write_dataset(tiny_dataset(), tmp_path / "t.gpkg", fmt="gpkg")
    with pytest.raises(InvalidInput, match="unknown CRS"):
        read_dataset(tmp_path / "t.gpkg", crs="EPSG:999999")


def test_gcj02_data_is_converted_to_within_half_a_metre(tmp_path: Path) -> None:
    ds = tiny_dataset()
    shifted = Dataset(*(ds.layer(n).assign(geometry=geometries_wgs84_to_gcj02(ds.layer(n).geometry.values))
                        for n in LAYERS))
    write_dataset(shifted, tmp_path / "amap", fmt="geojson")
    plain = read_dataset(tmp_path / "amap")
    got = read_dataset(tmp_path / "amap", gcj02=True)
    for name in LAYERS:
        a, b = got.layer(name).set_index("code"), ds.layer(name).set_index("code").loc[got.layer(name).code]
        ca = shapely.get_coordinates(np.asarray(a.geometry.values))
        cb = shapely.get_coordinates(np.asarray(b.geometry.values))
        assert np.max(geodesic_distance_m(ca[:, 0], ca[:, 1], cb[:, 0], cb[:, 1])) < 0.5, name
    p = shapely.get_coordinates(np.asarray(plain.buildings.geometry.values))
    w = shapely.get_coordinates(np.asarray(ds.buildings.geometry.values))
    assert np.min(geodesic_distance_m(p[:, 0], p[:, 1], w[:, 0], w[:, 1])) > 100  # the offset is real


def test_csv_points_from_lon_lat_and_units_from_a_wkt_column(tmp_path: Path) -> None:
    ds = tiny_dataset()
    units = pd.DataFrame(ds.units.drop(columns="geometry"))
    units["WKT"] = shapely.to_wkt(np.asarray(ds.units.geometry.values), rounding_precision=-1)
    units.to_csv(tmp_path / "units.csv", index=False)
    for name in ("buildings", "stations"):
        frame = ds.layer(name)
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["lon"], table["lat"] = frame.geometry.x.map(repr), frame.geometry.y.map(repr)
        table.to_csv(tmp_path / f"{name}.csv", index=False)
    got = read_dataset(tmp_path, crs="EPSG:4326")
    assert got.problems == []
    assert_same_dataset(got, ds)


def test_csv_in_gb18030_is_read(tmp_path: Path) -> None:
    ds = tiny_dataset()
    units = pd.DataFrame(ds.units.drop(columns="geometry"))
    units["geometry"] = shapely.to_wkt(np.asarray(ds.units.geometry.values), rounding_precision=-1)
    units.to_csv(tmp_path / "units.csv", index=False, encoding="gb18030")
    got = read_dataset(tmp_path, crs="EPSG:4326")
    assert got.units.name.tolist() == ds.units.name.tolist()


def test_shapefile_field_names_are_truncated_on_disk_and_mapped_back(tmp_path: Path) -> None:
    ds = tiny_dataset()
    ds.buildings["grid_code"] = [c[:15] for c in ds.buildings.code]
    write_dataset(ds, tmp_path / "shp", fmt="shp")
    assert {"parent_cod"} <= set(pyogrio.read_info(tmp_path / "shp" / "units.shp")["fields"])
    assert {"special_ca", "grid_code"} <= set(pyogrio.read_info(tmp_path / "shp" / "buildings.shp")["fields"])
    assert {"community_"} <= set(pyogrio.read_info(tmp_path / "shp" / "stations.shp")["fields"])
    got = read_dataset(tmp_path / "shp")
    assert got.buildings.special_care.tolist() == ds.buildings.special_care.tolist()
    assert got.stations.community_code.tolist() == ds.stations.community_code.tolist()
    assert got.units.parent_code.tolist() == [None, *ds.units.parent_code[1:]]


def test_shapefiles_written_by_other_tools_are_mapped_back(tmp_path: Path) -> None:
    ds = tiny_dataset()
    folder = tmp_path / "qgis"
    folder.mkdir()
    with warnings.catch_warnings():  # GDAL itself truncates the names, and says so
        warnings.simplefilter("ignore")
        for name in LAYERS:
            ds.layer(name).to_file(folder / f"{name}.shp", engine="pyogrio")
    assert "special_ca" in pyogrio.read_info(folder / "buildings.shp")["fields"]
    assert_same_dataset(read_dataset(folder), ds)


def test_codes_stored_as_numbers_become_text(tmp_path: Path) -> None:
    ds = tiny_dataset()
    folder = tmp_path / "numeric"
    write_dataset(ds, folder, fmt="geojson")
    units = gpd.read_file(folder / "units.geojson")
    units["code"] = units["code"].astype("int64")
    units["parent_code"] = pd.to_numeric(units["parent_code"])  # float with NaN for the district
    units.to_file(folder / "units.geojson", driver="GeoJSON", engine="pyogrio")
    got = read_dataset(folder)
    assert got.units.code.tolist() == ds.units.code.tolist()
    assert got.units.parent_code.tolist() == [None, *ds.units.parent_code[1:]]


def test_missing_optional_layers_are_empty(tmp_path: Path) -> None:
    folder = tmp_path / "units_only"
    write_dataset(tiny_dataset(), folder, fmt="geojson")
    (folder / "buildings.geojson").unlink()
    (folder / "stations.geojson").unlink()
    got = read_dataset(folder)
    assert len(got.units) == 15 and got.buildings.empty and got.stations.empty
    assert {"code", "households", "residents"} <= set(got.buildings.columns)
    assert validate_dataset(got) == []


def test_bad_values_become_problems_not_exceptions(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write_dataset(tiny_dataset(), folder, fmt="csv")
    table = pd.read_csv(folder / "buildings.csv", dtype=str)
    table.loc[0, "residents"] = "many"
    table.loc[1, "households"] = "2.5"
    table.loc[2, "geometry"] = "POINT (106.01"
    table.to_csv(folder / "buildings.csv", index=False)
    got = read_dataset(folder, crs="EPSG:4326")
    problems = validate_dataset(got)
    code = table["code"].tolist()
    assert Problem("buildings", code[0], "residents", "not a number: 'many'") in problems
    assert Problem("buildings", code[1], "households", "not a whole number: 2.5") in problems
    assert Problem("buildings", code[2], "geometry", "unreadable WKT: 'POINT (106.01'") in problems
    assert not any(p.feature == code[2] and p.reason == "missing geometry" for p in problems)


def test_an_unreadable_file_names_itself(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    write_dataset(tiny_dataset(), folder, fmt="geojson")
    (folder / "buildings.geojson").write_text("{ this is not json")
    with pytest.raises(InvalidInput, match="buildings.geojson"):
        read_dataset(folder)
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage at all")
    with pytest.raises(InvalidInput, match="junk.gpkg"):
        read_dataset(tmp_path / "junk.gpkg")


def test_a_missing_path_or_units_layer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        read_dataset(tmp_path / "nowhere.gpkg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="no 'units' layer"):
        read_dataset(tmp_path / "empty")


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown format"):
        write_dataset(tiny_dataset(), tmp_path / "x", fmt="kml")
