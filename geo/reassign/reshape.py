"""Splits and merges: boundary changes that create or retire units rather than move ground between two.

A split cuts new grids out of one grid: each drawn part becomes a new grid of the same community
(the next free code), the rest keeps the grid's code, and the grid's buildings go to the part they
stand in. The community's outline does not change.

A merge joins units of one parent into a neighbour of the same level and retires them: their
ground, children, buildings (for grids) and stations (for communities) go to the unit that stays,
and ancestors up to the common one lose or gain the ground as in a move.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from geo.domain import Level
from geo.errors import InvalidInput
from geo.reassign.geometry import MIN_SHARED_EDGE_M, NOISE_M2, area_m2, common, cut, join, shared_edge_m
from geo.reassign.model import Notice, Plan, ProposalRequest, UnitChange
from geo.reassign.steps import (
    find_unit,
    move_stations,
    next_codes,
    record_change,
    refuse_other_fields,
    walk_ancestors,
)
from geo.reassign.territory import check_area
from geo.store import read_latest

ZH_ORDINALS = "一二三四五六七八九十"


def _part_name(name: str, n: int) -> str:
    """``name之二`` for the second part, … (the rest keeps the plain name, being the first)."""
    return f"{name}之{ZH_ORDINALS[n - 1]}" if n <= len(ZH_ORDINALS) else f"{name}之{n}"


def _clean_parts(grid: BaseGeometry, code: str, drawn: tuple[BaseGeometry, ...]
                 ) -> tuple[list[BaseGeometry], BaseGeometry]:
    """The parts clipped to the grid and to each other, and the rest of the grid.

    Crumbs (< 1 m²) are handed over, so that no part and no rest carries a hairline remnant.
    """
    parts: list[BaseGeometry] = []
    for i, area in enumerate(drawn, start=1):
        try:
            piece = common(check_area(area, field="parts"), grid)
        except InvalidInput as exc:
            raise InvalidInput(f"part {i}: {exc.message}", field="parts") from None
        taken = join(*parts) if parts else None
        if taken is not None and area_m2(common(piece, taken)) >= NOISE_M2:
            raise InvalidInput(f"part {i} overlaps an earlier part; parts must not overlap", field="parts")
        if taken is not None:
            piece = cut(piece, taken)
        piece = join(*[p for p in piece.geoms if area_m2(p) >= NOISE_M2]) if not piece.is_empty else piece
        if area_m2(piece) < NOISE_M2:
            raise InvalidInput(f"part {i} does not overlap grid {code}", field="parts")
        parts.append(piece)
    rest = cut(grid, join(*parts))
    crumbs = [p for p in rest.geoms if area_m2(p) < NOISE_M2]
    if area_m2(rest) - sum(area_m2(c) for c in crumbs) < NOISE_M2:
        raise InvalidInput("the parts cover the whole grid: leave out the part that keeps the grid's code",
                           field="parts")
    for crumb in crumbs:  # to the part it shares most edge with
        best = max(range(len(parts)), key=lambda j: shared_edge_m(crumb, parts[j]))
        parts[best] = join(parts[best], crumb)
    return parts, cut(grid, join(*parts))


def plan_split(conn: Connection, request: ProposalRequest) -> Plan:
    """Each part of ``request.parts`` becomes a new grid beside ``from_code``."""
    refuse_other_fields(request, {"parts"})
    if request.to_code is not None:
        raise InvalidInput("a split creates its own new grids: leave to_code empty", field="to_code")
    grid = find_unit(conn, request.from_code, "from_code")
    if grid["level"] != Level.grid:
        raise InvalidInput(f"only grids can be split, and {grid['code']} is a {grid['level']}; move part of it "
                           "to a neighbour instead", field="from_code")
    if not request.parts:
        raise InvalidInput("parts is empty: draw at least one part to become a new grid", field="parts")
    parts, rest = _clean_parts(grid.geometry, grid["code"], request.parts)
    territory = join(*parts)
    plan = Plan(request=request, level=Level.grid.value, territory=territory, outside_area_m2=0.0)
    record_change(plan, grid, grid.geometry, rest, grid["parent_code"])
    codes = next_codes(conn, grid["parent_code"], Level.grid)
    new_codes = []
    for n, part in enumerate(parts, start=2):
        code = next(codes)
        new_codes.append(code)
        plan.units.append(UnitChange(
            code=code, level=Level.grid.value, name=_part_name(grid["name"], n), parent_before=None,
            parent_after=grid["parent_code"], geom_before=None, geom_after=part, version_before=None,
            source_code=grid["code"], name_en=f"{grid['name_en']} (part {n})" if grid["name_en"] else None,
        ))
    _split_buildings(conn, plan, grid["code"], list(zip(new_codes, parts, strict=True)), rest)
    plan.summary["created"] = new_codes
    return plan


def _split_buildings(conn: Connection, plan: Plan, grid_code: str, parts: list[tuple[str, BaseGeometry]],
                     rest: BaseGeometry) -> None:
    """Each building of the grid goes to the part that covers it; one cut through is refused."""
    buildings = read_latest(conn, "buildings", where_in={"grid_code": [grid_code]})
    prepared = [(code, shapely.prepared.prep(part)) for code, part in parts]
    rest_prepared = shapely.prepared.prep(rest)
    for row in buildings.itertuples():
        home = next((code for code, part in prepared if part.covers(row.geometry)), None)
        if home is not None:
            plan.buildings[row.code] = (grid_code, home)
        elif not rest_prepared.covers(row.geometry):
            raise InvalidInput(f"the parts cut through building {row.code}: draw them around it", field="parts")


def plan_merge(conn: Connection, request: ProposalRequest) -> Plan:
    """Every unit of ``merge_codes`` joins ``to_code`` and is retired."""
    refuse_other_fields(request, {"merge_codes"})
    if request.to_code is None:
        raise InvalidInput("a merge needs to_code, the unit that stays", field="to_code")
    codes = list(request.merge_codes or ())
    if not codes:
        raise InvalidInput("merge_codes is empty: name the units to merge into to_code", field="merge_codes")
    if len(set(codes)) != len(codes):
        raise InvalidInput("merge_codes names a unit twice", field="merge_codes")
    if request.to_code in codes:
        raise InvalidInput("to_code is the unit that stays; it cannot also be merged", field="merge_codes")
    if request.from_code != codes[0]:
        raise InvalidInput("from_code of a merge is the first of merge_codes", field="from_code")
    keep = find_unit(conn, request.to_code, "to_code")
    merged = [find_unit(conn, c, "merge_codes") for c in codes]
    _check_merge(keep, merged, request)
    territory = join(*[m.geometry for m in merged])
    plan = Plan(request=request, level=str(keep["level"]), territory=territory, outside_area_m2=0.0)
    for row in merged:
        record_change(plan, row, row.geometry, None, None)
    record_change(plan, keep, keep.geometry, join(keep.geometry, territory), keep["parent_code"])
    if keep["level"] == Level.community:  # the retired communities' workers stay in the service
        plan.units[-1].workers_gained = sum(int(m["workers"] or 0) for m in merged)
    if merged[0]["parent_code"] != keep["parent_code"]:
        walk_ancestors(conn, plan, merged[0], keep, territory)
    children = read_latest(conn, "units", where_in={"parent_code": codes})
    for _, child in children.sort_values("code").iterrows():
        record_change(plan, child, child.geometry, child.geometry, keep["code"])
    level = Level(keep["level"])
    if level == Level.grid:
        buildings = read_latest(conn, "buildings", where_in={"grid_code": codes})
        plan.buildings.update({c: (g, keep["code"]) for c, g in zip(buildings["code"], buildings["grid_code"],
                                                                     strict=True)})
        move_stations(conn, plan, territory)  # only when the grids' communities differ
    elif level == Level.community:
        _merge_stations(conn, plan, codes, keep)
    plan.summary["retired"] = codes
    return plan


def _check_merge(keep: Any, merged: list[Any], request: ProposalRequest) -> None:
    for row in merged:
        if row["level"] != keep["level"]:
            raise InvalidInput(f"{row['code']} is a {row['level']} but {keep['code']} is a {keep['level']}: "
                               "only units of one level merge", field="merge_codes")
    if keep["level"] == Level.district:
        raise InvalidInput("districts cannot be merged", field="to_code")
    if len({m["parent_code"] for m in merged}) > 1:
        raise InvalidInput("the units to merge must have one parent; merge each parent's units separately",
                           field="merge_codes")
    if request.allow_non_adjacent:
        return
    shapes = {row["code"]: row.geometry for row in [keep, *merged]}
    reached, frontier = {keep["code"]}, [keep["code"]]
    while frontier:  # grow from the unit that stays over shared edges
        here = frontier.pop()
        for code, shape in shapes.items():
            if code not in reached and shared_edge_m(shapes[here], shape) >= MIN_SHARED_EDGE_M:
                reached.add(code)
                frontier.append(code)
    apart = sorted(set(shapes) - reached)
    if apart:
        raise InvalidInput(f"{', '.join(apart)} would not touch the merged {keep['name']}; set allow_non_adjacent "
                           "to merge anyway", field="merge_codes")


def _merge_stations(conn: Connection, plan: Plan, codes: list[str], keep: Any) -> None:
    """Every station of a retired community now answers to the one that stays."""
    stations = read_latest(conn, "stations", where_in={"community_code": codes})
    for row in stations.itertuples():
        plan.stations[row.code] = (row.community_code, keep["code"])
        if row.kind == "party_service_center":
            plan.warnings.append(Notice(
                f"{row.name} ({row.code}), the party service centre of {row.community_code}, now serves "
                f"{keep['name']} ({keep['code']}) beside its own centre",
                f"{row.name}（{row.code}）原为{row.community_code}的党群服务中心，合并后与{keep['name']}"
                f"（{keep['code']}）自有的中心一并服务{keep['name']}"))
