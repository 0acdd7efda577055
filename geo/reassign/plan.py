"""Compute what a proposal does, against the latest versions, without changing anything.

The territory T (what moves) is cut out of A and added to B. Every descendant of A that T
touches moves whole (re-parented, keeping its code) or is split: the part outside T keeps the
code, the part inside becomes a new unit on B's side with the next free code. Ancestors of A
and B up to their common ancestor lose or gain T too, so a move across sub-districts changes both.
Splits and merges are planned in :mod:`geo.reassign.reshape`.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from geo.domain import Level
from geo.errors import InvalidInput
from geo.reassign.geometry import (
    MIN_SHARED_EDGE_M,
    NOISE_M2,
    absorb_slivers,
    area_m2,
    common,
    cut,
    join,
    parts,
    shared_edge_m,
)
from geo.reassign.model import KINDS, Plan, ProposalRequest, UnitChange
from geo.reassign.reshape import plan_merge, plan_split
from geo.reassign.steps import (
    find_unit,
    move_stations,
    next_codes,
    node_plan,
    record_change,
    refuse_other_fields,
    walk_ancestors,
)
from geo.reassign.territory import resolve_territory
from geo.store import read_latest


def _check_pair(a: Any, b: Any, request: ProposalRequest) -> None:
    if a["code"] == b["code"]:
        raise InvalidInput("from_code and to_code are the same unit", field="to_code")
    if a["level"] != b["level"]:
        raise InvalidInput(
            f"{a['code']} is a {a['level']} but {b['code']} is a {b['level']}: both must be of one level",
            field="to_code",
        )
    if a["level"] == Level.district:
        raise InvalidInput("districts cannot be reassigned; move sub-districts or smaller units", field="from_code")
    if not request.allow_non_adjacent and shared_edge_m(a.geometry, b.geometry) < MIN_SHARED_EDGE_M:
        raise InvalidInput(
            f"{a['name']} and {b['name']} do not share a boundary; set allow_non_adjacent to move anyway",
            field="to_code",
        )


def compute_plan(conn: Connection, request: ProposalRequest) -> Plan:
    """The full effect of ``request`` on the latest versions, noded; raises InvalidInput when refused."""
    if request.kind == "split":
        plan = plan_split(conn, request)
    elif request.kind == "merge":
        plan = plan_merge(conn, request)
    elif request.kind == "move":
        plan = plan_move(conn, request)
    else:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {request.kind!r}", field="kind")
    node_plan(conn, plan)
    return plan


def plan_move(conn: Connection, request: ProposalRequest) -> Plan:
    """Territory of A (child units or a drawn area) goes to its neighbour B."""
    refuse_other_fields(request, {"child_codes", "area"})
    if request.to_code is None:
        raise InvalidInput("a move needs to_code, the unit that receives the territory", field="to_code")
    a, b = find_unit(conn, request.from_code, "from_code"), find_unit(conn, request.to_code, "to_code")
    _check_pair(a, b, request)
    level = Level(a["level"])
    territory, outside_m2 = resolve_territory(conn, request, a)
    territory = absorb_slivers(territory, [a.geometry, *_touched_descendants(conn, a, territory)])
    plan = Plan(request=request, level=level.value, territory=territory, outside_area_m2=outside_m2)
    plan.base_versions = {a["code"]: int(a["version"]), b["code"]: int(b["version"])}
    record_change(plan, a, a.geometry, cut(a.geometry, territory), a["parent_code"])
    record_change(plan, b, b.geometry, join(b.geometry, territory), b["parent_code"])
    _carry_workers(plan, a, b)
    walk_ancestors(conn, plan, a, b, territory)
    _walk_descendants(conn, plan, a, b, territory)
    if level == Level.grid:
        _move_buildings(conn, plan, {a["code"]: b["code"]}, territory)
    move_stations(conn, plan, territory)
    _guard(plan, b)
    return plan


def _guard(plan: Plan, b: Any) -> None:
    """Refuse what a planner did not ask for: an exclave, a unit in pieces or enclosed, a stray speck."""
    request = plan.request
    if request.area is not None and not plan.buildings and area_m2(plan.territory) < request.min_area_m2:
        raise InvalidInput(f"the drawn area is {area_m2(plan.territory):,.0f} m² and moves no residents; areas under "
                           f"{request.min_area_m2:,.0f} m² that move nobody are refused as strays", field="area")
    if request.allow_non_adjacent:
        return
    field = "area" if request.area is not None else "child_codes"
    if shared_edge_m(plan.territory, b.geometry) < MIN_SHARED_EDGE_M:
        raise InvalidInput(f"the moved ground does not touch {b['name']} ({b['code']}): it would be an exclave; "
                           "set allow_non_adjacent to move it anyway", field=field)
    for unit in plan.units:
        if unit.geom_after is None:
            continue
        before_parts = parts(unit.geom_before) if unit.geom_before is not None else 1
        if parts(unit.geom_after) > max(before_parts, 1):
            raise InvalidInput(f"{unit.name} ({unit.code}) would be in {parts(unit.geom_after)} separate parts; "
                               "set allow_non_adjacent to allow it", field=field)
        if _holes(unit.geom_after) > _holes(unit.geom_before):
            raise InvalidInput(f"{unit.name} ({unit.code}) would enclose ground of another unit (an enclave); "
                               "set allow_non_adjacent to allow it", field=field)


def _holes(geom: BaseGeometry | None) -> int:
    if geom is None or geom.is_empty:
        return 0
    return sum(len(p.interiors) for p in shapely.get_parts(geom) if area_m2(p) >= NOISE_M2)


def _carry_workers(plan: Plan, a: Any, b: Any) -> None:
    """Community workers who move with the territory: taken from A's count and added to B's."""
    n = plan.request.workers_moved
    if not n:
        return
    if n < 0:
        raise InvalidInput("workers_moved cannot be negative", field="workers_moved")
    if a["level"] != Level.community:
        raise InvalidInput("workers move only between communities (from_code and to_code)", field="workers_moved")
    present = int(a["workers"]) if a["workers"] == a["workers"] and a["workers"] is not None else 0
    if n > present:
        raise InvalidInput(f"{a['name']} has {present} community workers; {n} cannot move", field="workers_moved")
    for unit in plan.units:
        if unit.code == a["code"]:
            unit.workers_gained = -n
        elif unit.code == b["code"]:
            unit.workers_gained = n


def _touched_descendants(conn: Connection, a: Any, territory: BaseGeometry) -> list[BaseGeometry]:
    """Shapes of every unit below A whose box meets the territory."""
    shapes, parents, level = [], [a["code"]], Level(a["level"]).child
    while level is not None and parents:
        rows = read_latest(conn, "units", where_in={"parent_code": parents}, bbox=territory.bounds)
        shapes += list(rows.geometry.values)
        parents, level = list(rows["code"]), level.child
    return shapes


def _walk_descendants(conn: Connection, plan: Plan, a: Any, b: Any, territory: BaseGeometry) -> None:
    """Move or split every descendant of A that T touches, level by level."""
    # new parent for units whose parent moved: a parent in A goes to B; a split parent's moved part
    # takes the children that lie wholly in T.
    destination = {a["code"]: b["code"]}
    parents = [a["code"]]
    grid_moves: dict[str, str] = {}
    level = Level(a["level"]).child
    while level is not None and parents:
        children = read_latest(conn, "units", where_in={"parent_code": parents}, bbox=territory.bounds)
        next_parents: list[str] = []
        codes_for: dict[str, Any] = {}
        for _, child in children.sort_values("code").iterrows():
            inside = common(child.geometry, territory)
            if area_m2(inside) < NOISE_M2:
                continue
            rest = cut(child.geometry, territory)
            new_parent = destination[child["parent_code"]]
            if area_m2(rest) < NOISE_M2:
                plan.summary.setdefault("moved_whole", []).append(child["code"])
                if child["parent_code"] == a["code"] or child["parent_code"] in plan_split_parents(plan):
                    destination[child["code"]] = recode(conn, plan, child, new_parent, codes_for)
                continue
            if new_parent not in codes_for:
                codes_for[new_parent] = next_codes(conn, new_parent, level)
            new_code = next(codes_for[new_parent])
            record_change(plan, child, child.geometry, rest, child["parent_code"])
            plan.units.append(UnitChange(
                code=new_code, level=level.value, name=f"{child['name']}（划出部分）", parent_before=None,
                parent_after=new_parent, geom_before=None, geom_after=inside, version_before=None,
                source_code=child["code"],
            ))
            plan.summary.setdefault("split", []).append({"code": child["code"], "new_code": new_code,
                                                          "moved_area_m2": round(area_m2(inside), 1)})
            destination[child["code"]] = new_code
            next_parents.append(child["code"])
            if level == Level.grid:
                grid_moves[child["code"]] = new_code
        parents = next_parents
        level = level.child
    if grid_moves:
        _move_buildings(conn, plan, grid_moves, territory)


def recode(conn: Connection, plan: Plan, row: Any, new_parent: str, codes_for: dict[str, Any]) -> str:
    """Move a unit whole under ``new_parent``: it is re-coded there (codes nest) with its descendants.

    The old code is retired and stays an alias of the new one (:mod:`geo.reassign.lineage`); buildings
    and stations follow the new codes. Returns the new code.
    """
    level = Level(row["level"])
    if new_parent not in codes_for:
        codes_for[new_parent] = next_codes(conn, new_parent, level)
    new_code: str = next(codes_for[new_parent])
    parent_names = _names(conn, [row["parent_code"], new_parent], plan)
    name = recoded_name(row["name"], parent_names.get(row["parent_code"]), parent_names.get(new_parent), new_code)
    record_change(plan, row, row.geometry, None, row["parent_code"])
    plan.units.append(UnitChange(
        code=new_code, level=level.value, name=name, parent_before=None, parent_after=new_parent, geom_before=None,
        geom_after=row.geometry, version_before=None, source_code=row["code"], recoded=True,
        name_en=row["name_en"] if isinstance(row["name_en"], str) else None,
        workers_gained=int(row["workers"]) if level == Level.community and row["workers"] == row["workers"]
        and row["workers"] is not None else 0,
    ))
    name_en = row["name_en"] if isinstance(row["name_en"], str) else None
    plan.summary.setdefault("recoded", []).append({"code": row["code"], "new_code": new_code, "name": name,
                                                   "name_en": name_en})
    plan.names[new_code] = name
    if level == Level.grid:
        buildings = read_latest(conn, "buildings", where_in={"grid_code": [row["code"]]})
        plan.buildings.update({c: (row["code"], new_code) for c in buildings["code"]})
    if level == Level.community:
        stations = read_latest(conn, "stations", where_in={"community_code": [row["code"]]})
        plan.stations.update({c: (row["code"], new_code) for c in stations["code"]})
    for _, child in read_latest(conn, "units", where_in={"parent_code": [row["code"]]}).sort_values("code").iterrows():
        recode(conn, plan, child, new_code, codes_for)
    return new_code


def _names(conn: Connection, codes: list[str], plan: Plan) -> dict[str, str]:
    known = dict(plan.names)
    rows = read_latest(conn, "units", where_in={"code": [c for c in codes if c and c not in known]})
    return {**known, **dict(zip(rows["code"], rows["name"], strict=True))}


def recoded_name(name: str, old_parent: str | None, new_parent: str | None, new_code: str) -> str:
    """The receiving parent's naming: "南郊社区第1网格" moved to 利达社区 as its 12th grid is "利达社区第12网格".

    A name that does not start with its old parent's name is kept as it is.
    """
    import re

    if not old_parent or not new_parent or not name.startswith(old_parent):
        return name
    rest = re.sub(r"\d+", str(int(new_code[-3:])), name[len(old_parent):], count=1)
    return new_parent + rest


def plan_split_parents(plan: Plan) -> set[str]:
    """Codes of units the plan splits (their moved parts are new units)."""
    return {s["code"] for s in plan.summary.get("split", [])}


def _move_buildings(conn: Connection, plan: Plan, moves: dict[str, str], territory: BaseGeometry) -> None:
    """Buildings of the given grids lying inside T go to the grid named for them."""
    buildings = read_latest(conn, "buildings", where_in={"grid_code": list(moves)}, bbox=territory.bounds)
    if buildings.empty:
        return
    prepared = shapely.prepared.prep(territory)
    for row in buildings.itertuples():
        if prepared.contains_properly(row.geometry):
            plan.buildings[row.code] = (row.grid_code, moves[row.grid_code])
