"""The new boundary in words: the two ends of a line that bends back are not given the same direction."""

from __future__ import annotations

import re

from shapely.geometry import box

from geo.impact.boundary import Place, outer_place, shared_boundary

X, Y, S = 105.90, 26.20, 0.001  # a corner near Anshun and 0.001° (about 100 m) as the unit


def _box(x0: float, y0: float, x1: float, y1: float):  # noqa: ANN202 - a shapely Polygon
    return box(X + x0 * S, Y + y0 * S, X + x1 * S, Y + y1 * S)


def test_a_u_shaped_boundary_names_two_different_ends() -> None:
    # B is a long strip; A wraps it on the north, east and south; C lies west of both. Their shared line is a
    # U open to the west: seen from its middle both ends lie west, which read "西起与C的交界点，西至与C的交界点".
    b = Place("B", "乙社区", "B", _box(0, 0, 4, 1))
    a = Place("A", "甲社区", "A", _box(0, -1, 5, 2).difference(_box(0, 0, 4, 1)))
    c = Place("C", "桃林村", "Taolin", _box(-1, -1, 0, 2))
    result = shared_boundary(a, b, a.geom, b.geom, [c], outer_place("测试区", "Test"))
    zh, en = result.text.zh, result.text.en
    starts = re.findall(r"([东南西北]+)起", zh)
    ends = re.findall(r"([东南西北]+)至", zh)
    assert starts and ends and starts[0] != ends[0], zh
    assert {starts[0], ends[0]} == {"北", "南"}, zh  # the ends are (0,1) and (0,0): one north of the other
    assert [e.direction for e in result.ends] in (["north", "south"], ["south", "north"])
    assert "桃林村" in zh and "Taolin" in en
    assert re.search(r"from its (\w+) end", en).group(1) != re.search(r"to its (\w+) end", en).group(1)


def test_a_straight_boundary_still_runs_from_one_end_to_the_other() -> None:
    a = Place("A", "甲社区", "A", _box(0, 0, 1, 3))
    b = Place("B", "乙社区", "B", _box(1, 0, 2, 3))
    result = shared_boundary(a, b, a.geom, b.geom, [], outer_place("测试区", "Test"))
    assert re.search(r"北起测试区边界，南至测试区边界|南起测试区边界，北至测试区边界", result.text.zh), result.text.zh
