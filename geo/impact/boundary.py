"""Section 6: the new boundary in words (四至: what lies east, south, west and north), in zh and en.

Each changed unit's outline after the change is cut into the pieces it shares with each neighbour
of the same level (and the pieces it shares with nobody: the district's outer boundary). Every
segment is put on the side of the compass it faces, seen from the unit's centroid (geodesic
azimuth), and the lengths are summed per side and neighbour. The dataset has no roads, so the
description names neighbouring units only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from geo.crs import GEOD
from geo.impact.model import BoundaryEnd, Direction, Neighbour, SharedBoundary, Side, Text, UnitRef
from geo.impact.state import GRID, State
from geo.nulls import optional_text

SIDES: tuple[Direction, ...] = ("east", "south", "west", "north")  # the order of 四至
SIDE_ZH = {"east": "东", "south": "南", "west": "西", "north": "北"}
COMPASS_EN = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")
COMPASS_ZH = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
MIN_SHARE = 0.15  # a neighbour is named on a side if it holds this share of the side's length…
MIN_LENGTH_M = 150.0  # …or at least this many metres of it
NOISE_M = 1.0


@dataclass(frozen=True)
class Place:
    """A unit that may border another: code (None for the outer boundary), names and shape."""

    code: str | None
    name: str
    name_en: str | None
    geom: BaseGeometry | None

    def en(self) -> str:
        return self.name_en or self.name


def _lines(geom: BaseGeometry) -> list[LineString]:
    out: list[LineString] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, LineString) and not part.is_empty:
            out.append(part)
        elif part.geom_type == "MultiLineString":
            out.extend(part.geoms)
    return out


def geodesic_length_m(geom: BaseGeometry) -> float:
    """Geodesic length of the linear parts of ``geom``."""
    return float(sum(GEOD.geometry_length(line) for line in _lines(geom)))


def shared_line(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """The boundary two shapes share (lines only)."""
    return shapely.union_all(_lines(shapely.intersection(a.boundary, b.boundary, grid_size=GRID)))


def _side(azimuth: np.ndarray) -> np.ndarray:
    """Azimuth in degrees (clockwise from north) to an index into ``("north", "east", "south", "west")``."""
    return (((azimuth + 45.0) % 360.0) // 90.0).astype(int)


def compass8(lon0: float, lat0: float, lon1: float, lat1: float) -> int:
    """Index into :data:`COMPASS_EN` of the direction from point 0 to point 1."""
    azimuth, _, _ = GEOD.inv(lon0, lat0, lon1, lat1)
    return int(((azimuth + 22.5) % 360.0) // 45.0)


def _end_direction(line: LineString, end: Point, other: Point) -> int:
    """Where ``end`` of ``line`` lies, seen from its other end (so the two ends never share a direction).

    Seen from the line's middle, both ends of a line that bends back (a U around a unit) can lie in the
    same direction, which gave "西起…，西至…". Only when the ends (nearly) meet is the middle used.
    """
    if GEOD.inv(other.x, other.y, end.x, end.y)[2] >= NOISE_M:
        return compass8(other.x, other.y, end.x, end.y)
    middle = line.interpolate(0.5, normalized=True)
    return compass8(middle.x, middle.y, end.x, end.y)


def _segments_by_side(line: BaseGeometry, origin: Point) -> np.ndarray:
    """Geodesic length (m) of ``line`` facing north, east, south and west of ``origin``."""
    totals = np.zeros(4)
    for part in _lines(line):
        xy = np.asarray(part.coords)
        if len(xy) < 2:
            continue
        x0, y0, x1, y1 = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
        _, _, length = GEOD.inv(x0, y0, x1, y1)
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        azimuth, _, _ = GEOD.inv(np.full_like(mx, origin.x), np.full_like(my, origin.y), mx, my)
        np.add.at(totals, _side(np.asarray(azimuth)), np.asarray(length))
    return totals


def unit_sides(unit: Place, neighbours: list[Place], outer: Place) -> list[Side]:
    """What lies on each side of ``unit``: its neighbours and the outer boundary, with shared lengths."""
    assert unit.geom is not None
    origin = unit.geom.centroid
    lengths: dict[str, np.ndarray] = {}
    shared_lines = []
    for other in neighbours:
        assert other.geom is not None
        line = shared_line(unit.geom, other.geom)
        if geodesic_length_m(line) < NOISE_M:
            continue
        shared_lines.append(line)
        lengths[str(other.code)] = _segments_by_side(line, origin)
    rest = shapely.difference(unit.geom.boundary, shapely.union_all(shared_lines), grid_size=GRID) \
        if shared_lines else unit.geom.boundary
    order = ("north", "east", "south", "west")
    outer_lengths = _segments_by_side(rest, origin)
    places = {str(p.code): p for p in neighbours}
    sides = []
    for direction in SIDES:
        i = order.index(direction)
        found = [(places[c], float(v[i])) for c, v in lengths.items() if v[i] >= NOISE_M]
        if outer_lengths[i] >= NOISE_M:
            found.append((outer, float(outer_lengths[i])))
        total = sum(length for _, length in found)
        named = [Neighbour(code=p.code, name=p.name, name_en=p.name_en, length_m=round(length, 1))
                 for p, length in sorted(found, key=lambda x: -x[1])
                 if length >= MIN_LENGTH_M or length >= MIN_SHARE * total]
        sides.append(Side(direction=direction, neighbours=named))
    return sides


def sides_text(unit: Place, sides: list[Side]) -> Text:
    """四至 in words: 东至…，南至…; "to the east, …"."""
    zh_parts, en_parts = [], []
    for side in sides:
        if not side.neighbours:
            continue
        zh_parts.append(f"{SIDE_ZH[side.direction]}至" + "、".join(
            n.name for n in side.neighbours))
        names = [n.name_en or n.name for n in side.neighbours]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        en_parts.append(f"to the {side.direction} by {joined}")
    zh = f"调整后，{unit.name}" + "；".join(zh_parts) + "。"
    en = f"After the change, {unit.en()} is bounded " + "; ".join(en_parts) + "."
    return Text(zh=zh, en=en)


def _junction(point: Point, places: list[Place], exclude: set[str | None]) -> list[Place]:
    return [p for p in places if p.code not in exclude and p.geom is not None
            and shapely.dwithin(p.geom, point, 1e-7)]


def _ref(place: Place) -> UnitRef:
    return UnitRef(code=str(place.code), name=place.name, name_en=place.name_en)


def shared_boundary(a: Place, b: Place, a_before: BaseGeometry | None, b_before: BaseGeometry | None,
                    others: list[Place], outer: Place) -> SharedBoundary:
    """The A/B boundary after the change: length, pieces, where it starts and ends, in words.

    ``a_before``/``b_before`` None: a new line (one of the units is new), with nothing to compare.
    """
    assert a.geom is not None and b.geom is not None
    new = a_before is None or b_before is None
    before_m = 0.0 if a_before is None or b_before is None else geodesic_length_m(shared_line(a_before, b_before))
    line = shared_line(a.geom, b.geom)
    after_m = geodesic_length_m(line)
    merged = linemerge(_lines(line)) if after_m >= NOISE_M else None
    pieces = [p for p in _lines(merged) if GEOD.geometry_length(p) >= NOISE_M] if merged is not None else []
    ends: list[BoundaryEnd] = []
    km_before, km_after = f"{before_m / 1000:.2f}", f"{after_m / 1000:.2f}"
    was = ("（新划定）", " (a new line)") if new else \
        (f"（调整前约{km_before}公里）", f" (about {km_before} km before)") if before_m >= NOISE_M else \
        ("（调整前两者不相邻）", " (they did not touch before)")
    if not pieces:
        return SharedBoundary(a=_ref(a), b=_ref(b), length_before_m=round(before_m, 1), length_after_m=0.0, pieces=0,
                              ends=[], text=Text(
            zh=f"调整后{a.name}与{b.name}仍不相邻：调入区域是{b.name}的飞地。",
            en=f"After the change {a.en()} and {b.en()} still do not touch: the moved area is an exclave of {b.en()}."))
    longest = max(pieces, key=GEOD.geometry_length)
    head = (f"{a.name}与{b.name}之间的界线调整后长约{km_after}公里{was[0]}",
            f"The boundary between {a.en()} and {b.en()} is about {km_after} km long after the change{was[1]}")
    if longest.is_ring:
        zh = head[0] + f"，{b.name}四周均为{a.name}。"
        en = head[1] + f"; {a.en()} surrounds {b.en()}."
    else:
        words_zh, words_en = [], []
        first, last = Point(longest.coords[0]), Point(longest.coords[-1])
        for point, other in ((first, last), (last, first)):
            meet = _junction(point, others, {a.code, b.code})
            direction = _end_direction(longest, point, other)
            ends.append(BoundaryEnd(direction=COMPASS_EN[direction], lon=round(point.x, 7), lat=round(point.y, 7),
                                    junction=[UnitRef(code=str(p.code), name=p.name, name_en=p.name_en)
                                              for p in meet]))
            if meet:
                words_zh.append(("与" + "、".join(p.name for p in meet) + "的交界点", COMPASS_ZH[direction]))
                words_en.append((f"where it meets {' and '.join(p.en() for p in meet)}", COMPASS_EN[direction]))
            else:
                words_zh.append((outer.name, COMPASS_ZH[direction]))
                words_en.append((f"at {outer.en()}", COMPASS_EN[direction]))
        (start_zh, d0), (end_zh, d1) = words_zh
        (start_en, e0), (end_en, e1) = words_en
        zh = head[0] + f"，{d0}起{start_zh}，{d1}至{end_zh}。"
        en = head[1] + f". It runs from its {e0} end, {start_en}, to its {e1} end, {end_en}."
    if len(pieces) > 1:
        zh += f"界线共分{len(pieces)}段，以上为最长一段。"
        en += f" The boundary is in {len(pieces)} pieces; this is the longest."
    return SharedBoundary(a=_ref(a), b=_ref(b), length_before_m=round(before_m, 1), length_after_m=round(after_m, 1),
                          pieces=len(pieces), ends=ends, text=Text(zh=zh, en=en))


def removed_boundary(gone: Place, keep: Place) -> SharedBoundary:
    """The line between a unit a merge retires and the unit it joins (shapes before): it disappears."""
    assert gone.geom is not None and keep.geom is not None
    before_m = geodesic_length_m(shared_line(gone.geom, keep.geom))
    km = f"{before_m / 1000:.2f}"
    if before_m >= NOISE_M:
        zh = (f"合并后，{gone.name}与{keep.name}之间约{km}公里的界线不再存在，"
              f"{keep.name}的边界外扩至原{gone.name}的边界。")
        en = (f"With the merge the boundary of about {km} km between {gone.en()} and {keep.en()} disappears; "
              f"{keep.en()} extends to {gone.en()}'s former outline.")
    else:
        zh = f"{gone.name}与{keep.name}原不相邻，合并后{gone.name}的范围成为{keep.name}的飞地。"
        en = f"{gone.en()} did not touch {keep.en()}: after the merge its ground is an exclave of {keep.en()}."
    return SharedBoundary(a=_ref(gone), b=_ref(keep), length_before_m=round(before_m, 1), length_after_m=0.0,
                          pieces=0, ends=[], text=Text(zh=zh, en=en))


def neighbours_of(state: State, geom: BaseGeometry, level: str, exclude: set[str]) -> list[Place]:
    """Units of ``level`` in ``state`` that meet ``geom`` (candidates; sharing is checked later)."""
    minx, miny, maxx, maxy = geom.bounds
    pad = 1e-5
    rows = state.read("units", where_in={"level": [level]}, bbox=(minx - pad, miny - pad, maxx + pad, maxy + pad))
    rows = rows[~rows["code"].isin(exclude)]
    # dwithin, not intersects: a reshaped unit's edge is snapped to the overlay grid (GRID) and may sit a
    # rounding error away from the untouched neighbour it shares it with.
    return [Place(code=r.code, name=r.name, name_en=optional_text(r.name_en), geom=r.geometry)
            for r in rows.itertuples() if shapely.dwithin(r.geometry, geom, GRID)]


def outer_place(district_name: str, district_name_en: str | None) -> Place:
    """The district's outer boundary, named after the district."""
    return Place(code=None, name=f"{district_name}边界", name_en=f"the {district_name_en or district_name} boundary",
                 geom=None)
