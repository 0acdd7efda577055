"""Coverage measurements: gaps, overlaps and children outside their parent, with areas in m²."""

from __future__ import annotations

import geopandas as gpd
import pytest
from factories import tiny_dataset
from shapely.geometry import Point, Polygon, box

from geo.coverage import coverage_report, points_in_polygons
from geo.crs import geodesic_area_m2

# A parent of about 1 km x 1.1 km split into a west and an east child.
X0, Y0, X1, Y1, XM = 106.00, 26.00, 106.01, 26.01, 106.005
D = 0.0005  # about 50 m of longitude


def _frame(rows: list[tuple[str, str | None, Polygon]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "parent_code": [r[1] for r in rows]},
        geometry=[r[2] for r in rows], crs=4326,
    )


def _report(west: Polygon, east: Polygon) -> list:
    parents = _frame([("520499001", None, box(X0, Y0, X1, Y1))])
    children = _frame([("520499001001", "520499001", west), ("520499001002", "520499001", east)])
    return coverage_report(parents, children)


def test_a_clean_tiling_reports_nothing() -> None:
    assert _report(box(X0, Y0, XM, Y1), box(XM, Y0, X1, Y1)) == []


def test_the_tiny_dataset_is_clean_at_every_level_despite_t_junctions() -> None:
    # A parent edge with a child's vertex in its middle bends differently once projected: overlays
    # must run in lon/lat (as stored) or this reports gaps of hundreds of m².
    units = tiny_dataset().units
    for parent, child in (("district", "subdistrict"), ("subdistrict", "community"), ("community", "grid")):
        assert coverage_report(units[units.level == parent], units[units.level == child]) == []


def test_a_gap_is_measured_and_attributed_to_the_parent() -> None:
    (issue,) = _report(box(X0, Y0, XM, Y1), box(XM + D, Y0, X1, Y1))
    expected = geodesic_area_m2(box(XM, Y0, XM + D, Y1))
    assert issue.kind == "gap" and issue.parent == "520499001" and issue.children == ()
    assert issue.area_m2 == pytest.approx(expected, rel=0.01)
    assert issue.geometry.symmetric_difference(box(XM, Y0, XM + D, Y1)).area < 1e-12  # where, in lon/lat


def test_an_overlap_names_both_children_and_its_size() -> None:
    (issue,) = _report(box(X0, Y0, XM + D, Y1), box(XM, Y0, X1, Y1))
    assert issue.kind == "overlap" and issue.parent == "520499001"
    assert issue.children == ("520499001001", "520499001002")
    assert issue.area_m2 == pytest.approx(geodesic_area_m2(box(XM, Y0, XM + D, Y1)), rel=0.01)


def test_a_child_sticking_out_is_measured() -> None:
    (issue,) = _report(box(X0, Y0, XM, Y1), box(XM, Y0, X1 + D, Y1))
    assert issue.kind == "outside" and issue.children == ("520499001002",) and issue.parent == "520499001"
    assert issue.area_m2 == pytest.approx(geodesic_area_m2(box(X1, Y0, X1 + D, Y1)), rel=0.01)


def test_several_issues_are_all_reported() -> None:
    issues = _report(box(X0, Y0, XM + D, Y1 - 2 * D), box(XM, Y0, X1 + D, Y1 - 2 * D))
    assert {i.kind for i in issues} == {"gap", "overlap", "outside"}


def test_noise_below_one_square_metre_is_ignored() -> None:
    tiny = 2e-9  # about 0.2 mm over 1.1 km: well under 1 m²
    assert _report(box(X0, Y0, XM + tiny, Y1), box(XM, Y0, X1, Y1)) == []


def test_a_parent_without_children_is_one_gap() -> None:
    parents = _frame([("520499001", None, box(X0, Y0, X1, Y1)), ("520499002", None, box(X1, Y0, X1 + D, Y1))])
    children = _frame([("520499001001", "520499001", box(X0, Y0, X1, Y1))])
    (issue,) = coverage_report(parents, children)
    assert issue.kind == "gap" and issue.parent == "520499002"
    assert issue.area_m2 == pytest.approx(geodesic_area_m2(box(X1, Y0, X1 + D, Y1)), rel=0.01)


def test_an_invalid_child_is_repaired_for_measuring() -> None:
    # A bow-tie covering the west half twice over its diagonals: repaired, it leaves two triangles.
    bowtie = Polygon([(X0, Y0), (XM, Y1), (XM, Y0), (X0, Y1)])
    issues = _report(bowtie, box(XM, Y0, X1, Y1))
    assert [i.kind for i in issues] == ["gap"]
    assert issues[0].area_m2 == pytest.approx(geodesic_area_m2(box(X0, Y0, XM, Y1)) / 2, rel=0.01)


def test_points_get_the_polygon_containing_them_and_lowest_code_on_a_shared_edge() -> None:
    polygons = _frame([("B", None, box(XM, Y0, X1, Y1)), ("A", None, box(X0, Y0, XM, Y1))])
    points = gpd.GeoSeries([Point(X0 + D, Y0 + D), Point(X1 - D, Y0 + D), Point(XM, Y0 + D),
                            Point(X1 + 1, Y0), None], index=[10, 11, 12, 13, 14], crs=4326)
    codes = points_in_polygons(points, polygons)
    assert list(codes.index) == [10, 11, 12, 13, 14]
    assert codes.tolist() == ["A", "B", "A", None, None]
    assert points_in_polygons(points, polygons.iloc[::-1]).tolist() == codes.tolist()
