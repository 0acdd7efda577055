"""Noding (geo/noding.py) against GEOS's own coverage test, on hand-made cases and random grids."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from geo.coverage import coverage_edge_problems
from geo.noding import node_geometries, node_neighbourhood


def _valid(geoms: object) -> bool:
    return bool(shapely.coverage_is_valid(np.asarray(geoms, dtype=object)))


def test_several_points_on_one_segment_go_in_order() -> None:
    left = box(0, 0, 1, 1)
    right = [box(1, 0, 2, 0.2), box(1, 0.2, 2, 0.5), box(1, 0.5, 2, 0.7), box(1, 0.7, 2, 1)]
    assert not _valid([left, *right])
    noded, added = node_geometries([left, *right])
    assert added == 3 and _valid(noded)
    assert list(noded[0].exterior.coords)[:5] == [(1, 0), (1, 0.2), (1, 0.5), (1, 0.7), (1, 1)]
    assert all(noded[i] is right[i - 1] for i in range(1, 5))  # nothing to insert: the same object
    assert noded[0].is_valid and noded[0].area == left.area


def test_a_point_a_hair_from_a_vertex_is_inserted_and_the_vertex_kept() -> None:
    """shapely.snap would move (1, 1) onto the point; noding keeps both (see the module docstring)."""
    near = (1.0, 1.0 - 1e-9)
    a = box(0, 0, 1, 1)
    b = Polygon([(1, 0), (2, 0), (2, 1), (1, 1), near])
    noded, added = node_geometries([a, b])
    assert added == 1 and _valid(noded)
    coords = list(noded[0].exterior.coords)
    assert near in coords and (1.0, 1.0) in coords
    snapped = shapely.snap(a, shapely.MultiPoint([near]), 2e-9)  # why shapely.snap is not used:
    assert (1.0, 1.0) not in snapped.exterior.coords  # it moved the corner every other neighbour shares


def test_holes_gain_the_vertices_of_the_units_inside_them() -> None:
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (1, 3), (3, 3), (3, 1)]])
    inside = [box(1, 1, 2, 2), box(2, 1, 3, 2), box(1, 2, 3, 3)]
    assert not _valid([ring, *inside])
    noded, added = node_geometries([ring, *inside])
    assert _valid(noded) and added == 4  # three in the hole, (2, 2) on the upper inner unit
    assert len(noded[0].interiors[0].coords) == 8 and noded[0].exterior.equals(ring.exterior)


def test_multipolygons_are_noded_part_by_part_and_stay_multipolygons() -> None:
    two = MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    middle = [box(1, 0, 2, 0.4), box(1, 0.4, 2, 1)]
    noded, added = node_geometries([two, *middle])
    assert added == 2 and _valid(noded)
    assert noded[0].geom_type == "MultiPolygon" and len(noded[0].geoms) == 2
    assert shapely.area(noded[0]) == two.area


def test_extra_points_are_inserted_where_they_lie_on_a_boundary() -> None:
    noded, added = node_geometries([box(0, 0, 1, 1)], extra_points=[(0.5, 0), (0.5, 0.5), (3, 3)])
    assert added == 1 and (0.5, 0.0) in noded[0].exterior.coords


def test_missing_and_non_polygonal_geometries_pass_through() -> None:
    point = shapely.Point(1, 0.5)
    noded, added = node_geometries([None, point, box(0, 0, 1, 1)])
    assert added == 0 and noded[0] is None and noded[1] is point


def test_a_unit_own_vertices_are_never_inserted_into_itself() -> None:
    pinched = Polygon([(0, 0), (2, 0), (2, 2), (1, 1e-9 * 0.5), (0, 2)])  # almost touches its own edge
    noded, added = node_geometries([pinched])
    assert added == 0 and noded[0] is pinched


def test_the_exact_check_names_the_units_and_their_neighbours() -> None:
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 0.3), box(1, 0.3, 2, 1), box(5, 5, 6, 6)]
    issues = coverage_edge_problems(["a", "b", "c", "d"], geoms)
    assert {i.children[0] for i in issues} == {"a", "b", "c"}
    assert next(i for i in issues if i.children[0] == "a").children == ("a", "b", "c")
    assert all(i.kind == "unnoded" and "T-junction" in str(i) for i in issues)
    assert coverage_edge_problems(["a", "b", "c", "d"], node_geometries(geoms)[0]) == []


def test_a_neighbourhood_is_noded_both_ways_and_only_changed_neighbours_are_returned() -> None:
    """A strip cut from one unit's north edge: the cut's end points land on two untouched neighbours."""
    unit_after = Polygon([(1, 0), (2, 0), (2, 0.6), (1, 0.6)])  # the unit, its top strip moved away
    strip = box(1, 0.6, 2, 1)  # now part of the receiving unit, which lies north
    receiver = Polygon([(1, 0.6), (2, 0.6), (2, 1), (2, 2), (1, 2), (1, 1)])
    west = Polygon([(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)])  # noded with the map before the change
    east = Polygon([(2, 0), (3, 0), (3, 2), (2, 2), (2, 1)])
    far = Polygon([(0, 2), (1, 2), (2, 2), (3, 2), (3, 3), (0, 3)])
    changed, gained = node_neighbourhood({"u": unit_after, "r": receiver, "s": strip},
                                         {"w": west, "e": east, "f": far})
    assert set(changed) == {"u", "r", "s"} and set(gained) == {"w", "e"}
    assert (1.0, 0.6) in gained["w"].exterior.coords and (2.0, 0.6) in gained["e"].exterior.coords
    assert _valid([changed["u"], changed["r"], gained["w"], gained["e"], far])
    assert (2.0, 2.0) in changed["r"].exterior.coords  # already there: nothing twice


@st.composite
def _cut_grids(draw: st.DrawFn) -> list[Polygon]:
    """A grid of rectangles; some are cut into strips by lines from one edge to the opposite one."""
    def breaks(n: int) -> list[float]:
        steps = draw(st.lists(st.integers(1, 50), min_size=n, max_size=n))
        return [106.0 + 1e-4 * float(v) for v in np.cumsum([0, *steps])]

    xs, ys = breaks(draw(st.integers(1, 4))), breaks(draw(st.integers(1, 4)))
    pieces = []
    for x0, x1 in zip(xs, xs[1:], strict=False):
        for y0, y1 in zip(ys, ys[1:], strict=False):
            cuts = draw(st.integers(0, 3))
            fractions = [sorted(draw(st.lists(st.integers(1, 999), min_size=cuts, max_size=cuts, unique=True)))
                         for _ in range(2)]
            vertical = draw(st.booleans())
            pieces += _strips(x0, y0, x1, y1, fractions, vertical)
    return pieces


def _strips(x0: float, y0: float, x1: float, y1: float, fr: list[list[int]], vertical: bool) -> list[Polygon]:
    """The rectangle cut by non-crossing lines from its left to its right edge (or bottom to top)."""
    if not vertical:
        left = [y0] + [y0 + (y1 - y0) * f / 1000 for f in fr[0]] + [y1]
        right = [y0] + [y0 + (y1 - y0) * f / 1000 for f in fr[1]] + [y1]
        return [Polygon([(x0, left[i]), (x1, right[i]), (x1, right[i + 1]), (x0, left[i + 1])])
                for i in range(len(left) - 1)]
    bottom = [x0] + [x0 + (x1 - x0) * f / 1000 for f in fr[0]] + [x1]
    top = [x0] + [x0 + (x1 - x0) * f / 1000 for f in fr[1]] + [x1]
    return [Polygon([(bottom[i], y0), (bottom[i + 1], y0), (top[i + 1], y1), (top[i], y1)])
            for i in range(len(bottom) - 1)]


@settings(max_examples=60, deadline=None)
@given(_cut_grids())
def test_random_cut_grids_become_valid_coverages_with_unchanged_areas(pieces: list[Polygon]) -> None:
    noded, added = node_geometries(pieces)
    assert _valid(noded)
    assert added >= 0 and (added == 0) == _valid(pieces)
    before, after = shapely.area(np.asarray(pieces, dtype=object)), shapely.area(noded)
    np.testing.assert_allclose(after, before, rtol=1e-12, atol=0)
    assert shapely.is_valid(noded).all()


@pytest.mark.parametrize("offset", [0.0, 3e-10, -7e-10])
def test_a_point_rounded_off_a_slanted_edge_is_inserted_exactly(offset: float) -> None:
    """The change grid rounds a cut point off a slanted edge by under a cell; it is still inserted as is."""
    a = Polygon([(0, 0), (1, 1e-3), (1, 1), (0, 1)])
    point = (0.4, 0.4e-3 + offset)
    below = [Polygon([(0, 0), point, (0.4, -1), (0, -1)]), Polygon([point, (1, 1e-3), (1, -1), (0.4, -1)])]
    noded, added = node_geometries([a, *below])
    assert added == 1 and point in noded[0].exterior.coords and _valid(noded)
    assert abs(noded[0].area - a.area) <= 1e-9  # at most a sliver 1e-9 wide along a unit-long edge
