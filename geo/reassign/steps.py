"""Steps every kind of boundary change shares.

Looking units up, recording what happens to a unit, walking ancestors, allocating new codes, and
stations following the ground they serve.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from geo.domain import Level
from geo.errors import InvalidInput
from geo.reassign.geometry import NOISE_M2, area_m2, cut, join
from geo.reassign.model import Notice, Plan, ProposalRequest, UnitChange
from geo.store import read_latest


def refuse_other_fields(request: ProposalRequest, allowed: set[str]) -> None:
    """A field another kind of change takes is an error, not silently ignored."""
    given = {"child_codes": request.child_codes, "area": request.area, "parts": request.parts,
             "merge_codes": request.merge_codes}
    for name, value in given.items():
        if value is not None and name not in allowed:
            raise InvalidInput(f"a {request.kind} does not take {name}", field=name)


def find_unit(conn: Connection, code: str, field: str) -> Any:
    """The latest version of a current unit, or InvalidInput naming ``field``."""
    found = read_latest(conn, "units", where_in={"code": [code]})
    if found.empty:
        from geo.reassign.lineage import current_code

        now = current_code(conn, code)
        hint = f"; it was re-coded: its code is now {now}" if now != code else ""
        raise InvalidInput(f"no current unit with code {code!r}{hint}", field=field)
    return found.iloc[0]


def ancestors(conn: Connection, unit: Any) -> list[Any]:
    """Parent, grandparent, … of a unit (latest versions), nearest first."""
    chain, parent = [], unit["parent_code"]
    while parent:
        row = find_unit(conn, parent, "parent_code")
        chain.append(row)
        parent = row["parent_code"]
    return chain


def code_or_none(value: Any) -> str | None:
    """A code from a frame cell: a district's missing parent reads as NaN there, and is None here."""
    return value if isinstance(value, str) and value else None


def record_change(plan: Plan, row: Any, before: BaseGeometry | None, after: BaseGeometry | None,
                  parent_after: str | None) -> None:
    """Add an existing unit's before and after (``after`` None: the change retires it) to the plan."""
    plan.units.append(UnitChange(
        code=row["code"], level=row["level"], name=row["name"], parent_before=code_or_none(row["parent_code"]),
        parent_after=code_or_none(parent_after), geom_before=before, geom_after=after,
        version_before=int(row["version"]) if before is not None else None,
    ))
    if before is not None:
        plan.base_versions[row["code"]] = int(row["version"])
        day = plan.request.effective_date
        if row["valid_from"] > day:
            raise InvalidInput(
                f"effective_date {day.isoformat()} is before unit {row['code']}'s current version began "
                f"({row['valid_from'].isoformat()})", field="effective_date",
                zh=f"生效日期 {day.isoformat()} 早于单位 {row['code']} 当前版本的起始日期"
                   f"（{row['valid_from'].isoformat()}）",
            )


def walk_ancestors(conn: Connection, plan: Plan, a: Any, b: Any, territory: BaseGeometry) -> None:
    """Ancestors of A lose T and ancestors of B gain it, up to the first one they share."""
    up_a, up_b = ancestors(conn, a), ancestors(conn, b)
    shared = {u["code"] for u in up_a} & {u["code"] for u in up_b}
    if not shared:
        raise InvalidInput(f"{a['code']} and {b['code']} are in different districts", field="to_code")
    for row in up_a:
        if row["code"] in shared:
            break
        rest = cut(row.geometry, territory)
        if area_m2(rest) < NOISE_M2:
            raise InvalidInput(f"this would leave {row['name']} ({row['code']}) with no territory; "
                               f"change {row['level']}s instead", field="to_code")
        record_change(plan, row, row.geometry, rest, row["parent_code"])
    for row in up_b:
        if row["code"] in shared:
            break
        record_change(plan, row, row.geometry, join(row.geometry, territory), row["parent_code"])


def next_codes(conn: Connection, parent_code: str, level: Level) -> Iterator[str]:
    """Free codes under ``parent_code`` (parent + 3 digits), never used before, in order."""
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


def move_stations(conn: Connection, plan: Plan, territory: BaseGeometry) -> None:
    """Stations inside T whose responsible community loses that ground follow it to the new one.

    A party service centre is its community's seat and stays with it (the preview warns instead).
    """
    stations = read_latest(conn, "stations", bbox=territory.bounds)
    if stations.empty:
        return
    inside = stations[stations.geometry.within(territory)]
    if inside.empty:
        return
    before = communities_at(plan, inside.geometry, after=False)
    after = communities_at(plan, inside.geometry, after=True)
    for row, old, new in zip(inside.itertuples(), before, after, strict=True):
        if old is not None and new is not None and row.community_code == old and old != new:
            if row.kind == "party_service_center":
                plan.warnings.append(Notice(
                    f"{row.name} ({row.code}), the party service centre of {old}, would stand in {new}'s territory; "
                    f"it stays with {old}",
                    f"{row.name}（{row.code}）是{old}的党群服务中心，调整后位于{new}境内，仍归{old}管理"))
            else:
                plan.stations[row.code] = (old, new)


def communities_at(plan: Plan, points: Sequence[BaseGeometry], *, after: bool) -> list[str | None]:
    """The community containing each point before or after the change, among units the plan knows."""
    rows = [u for u in plan.units if u.level == Level.community]
    shapes = [(u.code, u.geom_after if after else u.geom_before) for u in sorted(rows, key=lambda u: u.code)]
    return [next((code for code, shape in shapes if shape is not None and shape.covers(p)), None) for p in points]


def node_plan(conn: Connection, plan: Plan) -> None:
    """Make the plan's after-map an exact coverage: shared vertices along every shared edge, at every level.

    A cut's end points land on the edges of units the change does not otherwise touch (neighbours in
    this community, in another one, in another sub-district, and their parents). Those units gain the
    vertices (their shapes do not change) and are written as new versions; the plan's own units gain
    their neighbours' vertices. See :mod:`geo.noding`.
    """
    from geo.noding import node_neighbourhood

    after = {u.code: u.geom_after for u in plan.units if u.geom_after is not None}
    if not after:
        return
    shapes = [g for u in plan.units for g in (u.geom_before, u.geom_after) if g is not None]
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    in_plan = {u.code for u in plan.units}
    around = read_latest(conn, "units", bbox=(minx, miny, maxx, maxy))
    around = around[~around["code"].isin(in_plan)]
    noded, gained = node_neighbourhood(after, dict(zip(around["code"], around.geometry, strict=True)))
    for unit in plan.units:
        if unit.code in noded:
            unit.geom_after = noded[unit.code]
    rows = around.set_index("code", drop=False)
    for code in sorted(gained):
        row = rows.loc[code]
        record_change(plan, row, row.geometry, gained[code], row["parent_code"])
