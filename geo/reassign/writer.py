"""Write a plan as new versions, and check the invariants of what was written before commit.

Old versions are closed on the effective date (``valid_to``), new ones open on it; nothing is
updated in place or deleted. Every new version points at the change-log row of its change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection

from geo.coverage import coverage_edge_problems, coverage_report
from geo.domain import Level
from geo.errors import InvalidInput, InvariantViolation
from geo.reassign.model import Plan
from geo.store import TABLE_COLUMNS, close_versions, insert_versions, next_versions, read_latest


def _check_dates(rows: pd.DataFrame, day: dt.date, what: str) -> None:
    late = rows[rows["valid_from"].map(lambda d: d > day)]
    if len(late):
        first = late.iloc[0]
        raise InvalidInput(
            f"effective_date {day.isoformat()} is before {what} {first['code']}'s current version began "
            f"({first['valid_from'].isoformat()})", field="effective_date",
            zh=f"生效日期 {day.isoformat()} 早于 {first['code']} 当前版本的起始日期"
               f"（{first['valid_from'].isoformat()}）",
        )


def replace_versions(
    conn: Connection, table: str, new_rows: gpd.GeoDataFrame, existing: list[str], day: dt.date, change_id: int
) -> None:
    """Close the latest versions of ``existing`` codes on ``day`` by ``change_id`` and insert ``new_rows``."""
    closed = close_versions(conn, table, existing, day, change_id=change_id)
    if closed != len(existing):
        raise InvariantViolation([f"{table}: expected to close {len(existing)} versions, closed {closed}"])
    if not new_rows.empty:
        insert_versions(conn, table, new_rows[list(TABLE_COLUMNS[table]) + ["geometry"]])


def versioned(conn: Connection, table: str, current: gpd.GeoDataFrame, day: dt.date,
              change_id: int) -> gpd.GeoDataFrame:
    """Copies of ``current`` rows as the next versions of their codes, valid from ``day``, made by ``change_id``."""
    out = current.copy()
    following = next_versions(conn, table, list(out["code"]))
    out["version"] = [following[c] for c in out["code"]]
    out["valid_from"], out["valid_to"], out["change_id"] = day, None, change_id
    return out


def write_plan(conn: Connection, plan: Plan, change_id: int) -> dict[str, int]:
    """Insert the plan's new unit, building and station versions; return how many of each."""
    day = plan.request.effective_date
    units, existing = _unit_rows(conn, plan, day, change_id)
    replace_versions(conn, "units", units, existing, day, change_id)
    counts = {"units": len(units)}
    for table, moves, column in (("buildings", plan.buildings, "grid_code"),
                                 ("stations", plan.stations, "community_code")):
        current = read_latest(conn, table, where_in={"code": sorted(moves)})
        if not current.empty:
            _check_dates(current, day, table[:-1])
            rows = versioned(conn, table, current, day, change_id)
            rows[column] = [moves[c][1] for c in rows["code"]]
            replace_versions(conn, table, rows, list(current["code"]), day, change_id)
        counts[table] = len(current)
    return counts


def _unit_rows(conn: Connection, plan: Plan, day: dt.date, change_id: int) -> tuple[gpd.GeoDataFrame, list[str]]:
    codes = {u.code for u in plan.units} | {u.source_code for u in plan.units if u.source_code}
    current = read_latest(conn, "units", where_in={"code": sorted(codes)}).set_index("code", drop=False)
    # equals_exact, not equals: a neighbour that only gains a vertex (noding) is topologically equal but new.
    changed = [u for u in plan.units if not u.created and not u.retired
               and (u.parent_before != u.parent_after or not shapely.equals_exact(u.geom_before, u.geom_after, 0))]
    retired = [u.code for u in plan.units if u.retired]
    existing = current.loc[[u.code for u in changed] + retired]
    _check_dates(existing, day, "unit")
    rows = versioned(conn, "units", current.loc[[u.code for u in changed]], day, change_id)
    rows["parent_code"] = [u.parent_after for u in changed]
    gained = [u.workers_gained for u in changed]
    if any(gained):
        rows["workers"] = [int(w or 0) + g if g else w for w, g in zip(rows["workers"], gained, strict=True)]
    rows = rows.set_geometry(gpd.GeoSeries([u.geom_after for u in changed], index=rows.index, crs=4326))
    created = [_new_unit(current.loc[u.source_code], u, day, change_id) for u in plan.units if u.created]
    if created:
        new = gpd.GeoDataFrame(created, geometry="geometry", crs=4326)
        rows = gpd.GeoDataFrame(pd.concat([rows.reset_index(drop=True), new], ignore_index=True), crs=4326)
    return rows, list(existing["code"])  # retired units are closed with no successor


def _new_unit(source: Any, change: Any, day: dt.date, change_id: int) -> dict[str, Any]:
    return {
        "code": change.code, "version": 1, "name": change.name,
        "name_en": change.name_en or (f"{source['name_en']} (moved part)" if source["name_en"] else None),
        "level": change.level, "kind": source["kind"], "parent_code": change.parent_after,
        # A re-coded community keeps its workers; a community cut out of another starts with none.
        "workers": (change.workers_gained if change.recoded else 0) if change.level == Level.community else None,
        "synthetic": bool(source["synthetic"]),
        "valid_from": day, "valid_to": None, "change_id": change_id, "geometry": change.geom_after,
    }


def touched_codes(plan: Plan) -> set[str]:
    """Units a plan changes, and their parents before and after."""
    return ({u.code for u in plan.units} | {u.parent_after for u in plan.units if u.parent_after}
            | {u.parent_before for u in plan.units if u.parent_before})


def verify_written(conn: Connection, families: set[str], moved_buildings: set[str]) -> None:
    """Coverage and nesting of the given units' families, and that moved buildings are in their grid.

    Coverage is checked both ways: gap and overlap areas per family (:func:`coverage_report`), and
    exact noding (:func:`_edge_reasons`). Runs inside the transaction, on what was written; any
    finding raises and so rolls back.
    """
    reasons: list[str] = []
    units = read_latest(conn, "units", where_in={"code": sorted(families)})
    reasons += _edge_reasons(conn, units)
    children = read_latest(conn, "units", where_in={"parent_code": sorted(families)})
    parents = units[units["code"].isin(set(children["parent_code"]))]
    for level in set(parents["level"]):
        same = parents[parents["level"] == level]
        kids = children[children["parent_code"].isin(set(same["code"]))]
        reasons += [str(issue) for issue in coverage_report(same, kids)]
    orphans = units[units["parent_code"].notna() & ~units["parent_code"].isin(
        set(read_latest(conn, "units", where_in={"code": sorted(set(units["parent_code"].dropna()))})["code"]))]
    reasons += [f"{row.code}'s parent {row.parent_code} is not a current unit" for row in orphans.itertuples()]
    if moved_buildings:
        moved = read_latest(conn, "buildings", where_in={"code": sorted(moved_buildings)})
        grids = read_latest(conn, "units", where_in={"code": sorted(set(moved["grid_code"]))}).set_index("code")
        for row in moved.itertuples():
            if row.grid_code not in grids.index or not grids.loc[row.grid_code].geometry.covers(row.geometry):
                reasons.append(f"building {row.code} is not inside its grid {row.grid_code}")
        if len(moved) != len(moved_buildings):
            reasons.append(f"{len(moved_buildings)} buildings should have one current version, {len(moved)} do")
    if reasons:
        raise InvariantViolation(reasons)


def _edge_reasons(conn: Connection, touched: gpd.GeoDataFrame) -> list[str]:
    """Exact coverage (shared vertices on every shared edge) of the touched units with their neighbours.

    Per level: the touched units and every current unit of that level intersecting them, tested with
    :func:`geo.coverage.coverage_edge_problems`; only findings involving a touched unit count, so a
    T-junction already standing elsewhere does not block this change (``gridgov check`` reports it).
    """
    reasons: list[str] = []
    touched = touched[touched.geometry.notna()]
    for level in sorted(set(touched["level"])):
        mine = touched[touched["level"] == level]
        box = tuple(float(v) for v in mine.total_bounds)
        around = read_latest(conn, "units", bbox=box)  # type: ignore[arg-type]
        around = around[(around["level"] == level) & ~around["code"].isin(set(mine["code"]))]
        near = around[around.geometry.intersects(mine.geometry.union_all())] if len(around) else around
        codes = list(mine["code"]) + list(near["code"])
        geoms = list(mine.geometry.values) + list(near.geometry.values)
        mine_codes = set(mine["code"])
        reasons += [str(issue) for issue in coverage_edge_problems(codes, geoms)
                    if mine_codes & set(issue.children)]
    return reasons
