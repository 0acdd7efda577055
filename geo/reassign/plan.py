"""Compute what a proposal does, against the latest versions, without changing anything.

The territory T (what moves) is cut out of A and added to B. Every descendant of A that T
touches moves whole (re-parented, keeping its code) or is split: the part outside T keeps the
code, the part inside becomes a new unit on B's side with the next free code. Ancestors of A
and B up to their common ancestor lose or gain T too, so a move across sub-districts changes both.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    shared_edge_m,
)
from geo.reassign.model import Plan, ProposalRequest, UnitChange
from geo.reassign.territory import resolve_territory
from geo.store import read_latest


def _unit(conn: Connection, code: str, field: str) -> Any:
    found = read_latest(conn, "units", where_in={"code": [code]})
    if found.empty:
        raise InvalidInput(f"no current unit with code {code!r}", field=field)
    return found.iloc[0]


def _ancestors(conn: Connection, unit: Any) -> list[Any]:
    """Parent, grandparent, … of a unit (latest versions), nearest first."""
    chain, parent = [], unit["parent_code"]
    while parent:
        row = _unit(conn, parent, "parent_code")
        chain.append(row)
        parent = row["parent_code"]
    return chain


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


def _next_codes(conn: Connection, parent_code: str, level: Level) -> Any:
    """A generator of free codes under ``parent_code`` (parent + 3 digits), never used before."""
    from sqlalchemy import text

    # A code range rather than LIKE 'prefix%', which neither database serves from the code index.
    upper = parent_code[:-1] + chr(ord(parent_code[-1]) + 1)
    taken = {
        r[0] for r in conn.execute(
            text("SELECT DISTINCT code FROM units WHERE code >= :low AND code < :high"),
            {"low": parent_code, "high": upper},
        )
        if len(r[0]) == level.code_length
    }
    for n in range(1, 1000):
        code = f"{parent_code}{n:03d}"
        if code not in taken:
            taken.add(code)
            yield code
    raise InvalidInput(f"no free {level.value} code left under {parent_code}", field="to_code")


def compute_plan(conn: Connection, request: ProposalRequest) -> Plan:
    """The full effect of ``request`` on the latest versions; raises InvalidInput when refused."""
    a, b = _unit(conn, request.from_code, "from_code"), _unit(conn, request.to_code, "to_code")
    _check_pair(a, b, request)
    level = Level(a["level"])
    territory, outside_m2 = resolve_territory(conn, request, a)
    territory = absorb_slivers(territory, [a.geometry, *_touched_descendants(conn, a, territory)])
    plan = Plan(request=request, level=level.value, territory=territory, outside_area_m2=outside_m2)
    plan.base_versions = {a["code"]: int(a["version"]), b["code"]: int(b["version"])}
    _change(plan, a, a.geometry, cut(a.geometry, territory), a["parent_code"])
    _change(plan, b, b.geometry, join(b.geometry, territory), b["parent_code"])
    _walk_ancestors(conn, plan, a, b, territory)
    _walk_descendants(conn, plan, a, b, territory)
    if level == Level.grid:
        _move_buildings(conn, plan, {a["code"]: b["code"]}, territory)
    _move_stations(conn, plan, territory)
    return plan


def _touched_descendants(conn: Connection, a: Any, territory: BaseGeometry) -> list[BaseGeometry]:
    """Shapes of every unit below A whose box meets the territory."""
    shapes, parents, level = [], [a["code"]], Level(a["level"]).child
    while level is not None and parents:
        rows = read_latest(conn, "units", where_in={"parent_code": parents}, bbox=territory.bounds)
        shapes += list(rows.geometry.values)
        parents, level = list(rows["code"]), level.child
    return shapes


def _change(plan: Plan, row: Any, before: BaseGeometry | None, after: BaseGeometry | None,
            parent_after: str | None) -> None:
    plan.units.append(UnitChange(
        code=row["code"], level=row["level"], name=row["name"], parent_before=row["parent_code"],
        parent_after=parent_after, geom_before=before, geom_after=after,
        version_before=int(row["version"]) if before is not None else None,
    ))
    if before is not None:
        plan.base_versions[row["code"]] = int(row["version"])
        day = plan.request.effective_date
        if row["valid_from"] > day:
            raise InvalidInput(
                f"effective_date {day.isoformat()} is before unit {row['code']}'s current version began "
                f"({row['valid_from'].isoformat()})", field="effective_date",
            )


def _walk_ancestors(conn: Connection, plan: Plan, a: Any, b: Any, territory: BaseGeometry) -> None:
    """Ancestors of A lose T and ancestors of B gain it, up to the first one they share."""
    up_a, up_b = _ancestors(conn, a), _ancestors(conn, b)
    shared = {u["code"] for u in up_a} & {u["code"] for u in up_b}
    if not shared:
        raise InvalidInput(f"{a['code']} and {b['code']} are in different districts", field="to_code")
    for row in up_a:
        if row["code"] in shared:
            break
        _change(plan, row, row.geometry, cut(row.geometry, territory), row["parent_code"])
    for row in up_b:
        if row["code"] in shared:
            break
        _change(plan, row, row.geometry, join(row.geometry, territory), row["parent_code"])


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
                if child["parent_code"] == a["code"] or child["parent_code"] in plan_split_parents(plan):
                    _change(plan, child, child.geometry, child.geometry, new_parent)
                plan.summary.setdefault("moved_whole", []).append(child["code"])
                destination[child["code"]] = child["code"]
                continue
            if new_parent not in codes_for:
                codes_for[new_parent] = _next_codes(conn, new_parent, level)
            new_code = next(codes_for[new_parent])
            _change(plan, child, child.geometry, rest, child["parent_code"])
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


def _move_stations(conn: Connection, plan: Plan, territory: BaseGeometry) -> None:
    """Stations inside T whose responsible community loses that ground follow it to the new one.

    A party service centre is its community's seat and stays with it (the preview warns instead).
    """
    stations = read_latest(conn, "stations", bbox=territory.bounds)
    if stations.empty:
        return
    inside = stations[stations.geometry.within(territory)]
    if inside.empty:
        return
    before = _communities_at(plan, inside.geometry, after=False)
    after = _communities_at(plan, inside.geometry, after=True)
    for row, old, new in zip(inside.itertuples(), before, after, strict=True):
        if old is not None and new is not None and row.community_code == old and old != new:
            if row.kind == "party_service_center":
                plan.warnings.append(f"{row.name} ({row.code}), the party service centre of {old}, "
                                     f"would stand in {new}'s territory; it stays with {old}")
            else:
                plan.stations[row.code] = (old, new)


def _communities_at(plan: Plan, points: Sequence[BaseGeometry], *, after: bool) -> list[str | None]:
    """The community containing each point before or after the change, among units the plan knows."""
    rows = [u for u in plan.units if u.level == Level.community]
    shapes = [(u.code, u.geom_after if after else u.geom_before) for u in sorted(rows, key=lambda u: u.code)]
    return [next((code for code, shape in shapes if shape is not None and shape.covers(p)), None) for p in points]
