"""Validation: each kind of bad input is reported precisely, rejected on import, and nothing is written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pytest
from factories import scaled_dataset, tiny_dataset
from shapely.geometry import LineString, Point, Polygon, box
from sqlalchemy import Engine, text

from geo.crs import geodesic_area_m2
from geo.domain import STATION_KINDS
from geo.errors import ImportRejected, Problem
from geo.importer import import_dataset
from geo.io import Dataset
from geo.validate import validate_dataset

DAY = dt.date(2024, 1, 1)
GRID_W, GRID_E = "520499001001001", "520499001001002"  # west and east grids of community 520499001001
B0 = "5204990010010010001"  # first building, in GRID_W
STRIP = box(106.019, 26.01, 106.02, 26.02)  # about 100 m x 1.1 km


def _set(frame: pd.DataFrame, code: str, column: str, value: object) -> None:
    try:
        frame.loc[frame.code == code, column] = value
    except TypeError:  # pandas refuses 2.5 or 'many' in an int64 column: widen it, as a file would
        frame[column] = frame[column].astype(object)
        frame.loc[frame.code == code, column] = value


def _geom(frame: pd.DataFrame, code: str, geom: object) -> None:
    frame.loc[frame.code == code, "geometry"] = geom


def _with_grid_codes(ds: Dataset, wrong: str) -> None:
    ds.buildings["grid_code"] = [c[:15] for c in ds.buildings.code]
    _set(ds.buildings, B0, "grid_code", wrong)


@dataclass
class Case:
    name: str
    mutate: Callable[[Dataset], None]
    layer: str
    feature: str
    field: str
    reason: str  # a recognisable part of the reason


CASES = [
    Case("missing_column", lambda ds: setattr(ds, "units", ds.units.drop(columns="level")),
         "units", "*", "level", "required column is missing"),
    Case("missing_value", lambda ds: _set(ds.units, "520499001001", "name", None),
         "units", "520499001001", "name", "missing value"),
    Case("invalid_geometry", lambda ds: _geom(ds.units, GRID_W, Polygon(
        [(106.0, 26.01), (106.01, 26.02), (106.01, 26.01), (106.0, 26.02)])),
         "units", GRID_W, "geometry", "invalid geometry: Self-intersection"),
    Case("empty_geometry", lambda ds: _geom(ds.buildings, B0, Point()),
         "buildings", B0, "geometry", "empty geometry"),
    Case("missing_geometry", lambda ds: _geom(ds.stations, "520499001001S01", None),
         "stations", "520499001001S01", "geometry", "missing geometry"),
    Case("wrong_geometry_type", lambda ds: _geom(ds.buildings, B0, box(106.001, 26.011, 106.002, 26.012)),
         "buildings", B0, "geometry", "wrong geometry type Polygon; expected Point"),
    Case("unit_as_line", lambda ds: _geom(ds.units, GRID_W, LineString([(106.0, 26.01), (106.01, 26.02)])),
         "units", GRID_W, "geometry", "wrong geometry type LineString; expected MultiPolygon or Polygon"),
    Case("code_not_digits", lambda ds: _set(ds.units, GRID_W, "code", "52049900100100A"),
         "units", "52049900100100A", "code", "digits only"),
    Case("code_length", lambda ds: _set(ds.units, GRID_W, "code", GRID_W + "7"),
         "units", GRID_W + "7", "code", "a grid code has 15 digits, not 16"),
    Case("duplicate_code", lambda ds: _set(ds.buildings, "5204990010010010002", "code", B0),
         "buildings", B0, "code", "duplicate code: it appears 2 times"),
    Case("unknown_level", lambda ds: _set(ds.units, GRID_W, "level", "cell"),
         "units", GRID_W, "level", "unknown level 'cell'; expected one of district, subdistrict"),
    Case("unknown_kind", lambda ds: _set(ds.units, "520499001001", "kind", "suburb"),
         "units", "520499001001", "kind", "unknown kind 'suburb' for a community; expected one of urban, village"),
    Case("kind_on_a_grid", lambda ds: _set(ds.units, GRID_W, "kind", "urban"),
         "units", GRID_W, "kind", "a grid has no kind"),
    Case("unknown_parent", lambda ds: _set(ds.units, GRID_W, "parent_code", "520499001009"),
         "units", GRID_W, "parent_code", "unknown parent 520499001009"),
    Case("parent_of_wrong_level", lambda ds: _set(ds.units, GRID_W, "parent_code", "520499001"),
         "units", GRID_W, "parent_code", "parent 520499001 is a subdistrict; the parent of a grid must be a community"),
    Case("missing_parent", lambda ds: _set(ds.units, "520499002001", "parent_code", None),
         "units", "520499002001", "parent_code", "missing parent"),
    Case("child_outside_parent", lambda ds: _geom(ds.units, GRID_W, box(105.999, 26.01, 106.01, 26.02)),
         "units", GRID_W, "geometry", "lies outside its parent 520499001001 (社区11)"),
    Case("gap_between_siblings", lambda ds: _geom(ds.units, GRID_E, box(106.01, 26.01, 106.019, 26.02)),
         "units", "520499001001", "geometry", "in 520499001001 (社区11) not covered by its grid units"),
    Case("overlapping_siblings", lambda ds: _geom(ds.units, GRID_W, box(106.0, 26.01, 106.011, 26.02)),
         "units", GRID_W, "geometry", f"overlaps {GRID_E} by"),
    Case("negative_population", lambda ds: _set(ds.buildings, B0, "households", -4),
         "buildings", B0, "households", "negative: -4"),
    Case("fractional_population", lambda ds: _set(ds.buildings, B0, "children", 2.5),
         "buildings", B0, "children", "not a whole number: 2.5"),
    Case("non_numeric_population", lambda ds: _set(ds.buildings, B0, "residents", "many"),
         "buildings", B0, "residents", "not a number: 'many'"),
    Case("missing_population", lambda ds: _set(ds.buildings, B0, "residents", None),
         "buildings", B0, "residents", "missing value"),
    Case("elderly_and_children_exceed_residents", lambda ds: _set(ds.buildings, B0, "elderly", 30),
         "buildings", B0, "residents", "elderly (30) + children (3) exceed residents (26)"),
    Case("negative_workers", lambda ds: _set(ds.units, "520499001001", "workers", -3),
         "units", "520499001001", "workers", "negative: -3"),
    Case("building_outside_every_grid", lambda ds: _geom(ds.buildings, B0, Point(106.1, 26.1)),
         "buildings", B0, "geometry", "outside every grid"),
    Case("building_not_in_its_grid", lambda ds: _with_grid_codes(ds, GRID_E),
         "buildings", B0, "grid_code", f"not inside grid {GRID_E}; it lies in {GRID_W}"),
    Case("building_in_unknown_grid", lambda ds: _with_grid_codes(ds, "520499001001009"),
         "buildings", B0, "grid_code", "unknown grid 520499001001009"),
    Case("station_unknown_kind", lambda ds: _set(ds.stations, "520499001001S01", "kind", "cafe"),
         "stations", "520499001001S01", "kind", "unknown kind 'cafe'; valid kinds: " + ", ".join(
             sorted(STATION_KINDS))),
    Case("station_unknown_community", lambda ds: _set(ds.stations, "520499001001S01", "community_code", "520499001009"),
         "stations", "520499001001S01", "community_code", "unknown community 520499001009"),
    Case("station_outside_every_community", lambda ds: _geom(ds.stations, "520499001001S01", Point(106.1, 26.1)),
         "stations", "520499001001S01", "geometry", "outside every community"),
    Case("layer_not_in_wgs84", lambda ds: setattr(ds, "stations", ds.stations.to_crs(3857)),
         "stations", "*", "geometry", "layer is in EPSG:3857, not EPSG:4326"),
]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("units", "buildings", "stations", "change_log")}


EMPTY = {"units": 0, "buildings": 0, "stations": 0, "change_log": 0}


def _matching(problems: list[Problem], case: Case) -> list[Problem]:
    return [p for p in problems
            if (p.layer, p.feature, p.field) == (case.layer, case.feature, case.field) and case.reason in p.reason]


def test_the_tiny_dataset_is_valid() -> None:
    assert validate_dataset(tiny_dataset()) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_kind_of_bad_input_is_reported_and_rejected(engine: Engine, case: Case) -> None:
    ds = tiny_dataset()
    case.mutate(ds)
    problems = validate_dataset(ds)
    assert _matching(problems, case), problems
    with pytest.raises(ImportRejected) as rejected:
        import_dataset(engine, ds, author="test", valid_from=DAY)
    assert _matching(rejected.value.problems, case)
    assert _counts(engine) == EMPTY


def _m2(problem: Problem) -> float:
    match = re.search(r"([\d,]+\.\d) m²", problem.reason)
    assert match, problem
    return float(match.group(1).replace(",", ""))


def test_coverage_problems_give_the_size_in_square_metres() -> None:
    ds = tiny_dataset()
    _geom(ds.units, GRID_E, box(106.01, 26.01, 106.019, 26.02))  # a gap of STRIP in the community
    (gap,) = validate_dataset(ds)
    assert _m2(gap) == pytest.approx(geodesic_area_m2(STRIP), rel=0.01)
    ds = tiny_dataset()
    _geom(ds.units, GRID_W, box(106.0, 26.01, 106.011, 26.02))
    (overlap,) = validate_dataset(ds)
    assert _m2(overlap) == pytest.approx(geodesic_area_m2(box(106.01, 26.01, 106.011, 26.02)), rel=0.01)


def test_every_problem_is_reported_not_just_the_first() -> None:
    chosen = {"child_outside_parent", "negative_workers", "negative_population", "station_unknown_kind",
              "missing_parent", "duplicate_code", "station_outside_every_community", "unknown_kind"}
    ds = tiny_dataset()
    for case in CASES:
        if case.name in chosen:
            case.mutate(ds)
    ds.buildings.loc[ds.buildings.index[10:13], "residents"] = -1  # three more rows with one problem
    found = {(p.layer, p.feature, p.field) for p in validate_dataset(ds)}
    assert {(c.layer, c.feature, c.field) for c in CASES if c.name in chosen} <= found
    assert {("buildings", code, "residents") for code in ds.buildings.code[10:13]} <= found


def test_codes_already_in_the_database_are_problems(engine: Engine) -> None:
    ds = tiny_dataset()
    assert Problem("units", "520499", "code", "code already exists in the database") in validate_dataset(
        ds, existing_codes={"520499"})
    by_layer = validate_dataset(ds, existing_codes={"units": set(), "buildings": {B0}})
    assert [(p.layer, p.feature) for p in by_layer] == [("buildings", B0)]
    import_dataset(engine, ds, author="test", valid_from=DAY)
    before = _counts(engine)
    with pytest.raises(ImportRejected) as rejected:
        import_dataset(engine, tiny_dataset(), author="test", valid_from=DAY)
    problems = rejected.value.problems
    assert sum(p.reason == "code already exists in the database" for p in problems) == 15 + 40 + 5
    # ... and the district lands on itself
    assert [p.feature for p in problems if "already in the database, by" in p.reason] == ["520499"]
    assert _counts(engine) == before


def test_a_large_dataset_validates_clean() -> None:
    ds = scaled_dataset()  # 3,161 units, 60,000 buildings, densified edges; how long it takes: bench/limits.py
    assert validate_dataset(ds) == []
