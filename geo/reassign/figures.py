"""The figures of a plan: what moves, and each changed unit before and after.

Only the units the change touches are read (their grids and those grids' buildings), so the cost
follows the size of the change, not of the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, text

from geo.domain import POPULATION_FIELDS, Level
from geo.reassign.geometry import NOISE_M2, area_m2, cut, describe
from geo.reassign.model import Plan, UnitChange
from geo.store import read_latest

FIGURES = (*POPULATION_FIELDS, "buildings")


def _descendants(conn: Connection, code: str, level: Level, down_to: Level) -> list[str]:
    """Codes of the latest units at ``down_to`` below (or equal to) ``code``."""
    codes, current = [code], level
    while current != down_to and current.child is not None:
        codes = list(conn.execute(
            text("SELECT code FROM units WHERE valid_to IS NULL AND parent_code IN :codes").bindparams(
                bindparam("codes", expanding=True)), {"codes": codes or [""]},
        ).scalars())
        current = current.child
    return codes


def _descendant_grids(conn: Connection, code: str, level: Level) -> list[str]:
    return _descendants(conn, code, level, Level.grid)


def _per_grid(conn: Connection, grids: Iterable[str]) -> pd.DataFrame:
    grids = sorted(set(grids))
    sums = ", ".join(f"sum({f})" for f in POPULATION_FIELDS)
    rows = conn.execute(
        text(f"SELECT grid_code, {sums}, count(*) FROM buildings WHERE valid_to IS NULL AND grid_code IN :g "
             "GROUP BY grid_code").bindparams(bindparam("g", expanding=True)), {"g": grids or [""]},
    ).all()
    return pd.DataFrame(rows, columns=["grid_code", *FIGURES]).set_index("grid_code")


def _moved_buildings(conn: Connection, codes: Iterable[str]) -> dict[str, int]:
    codes = sorted(codes)
    if not codes:
        return dict.fromkeys(FIGURES, 0)
    sums = ", ".join(f"coalesce(sum({f}), 0)" for f in POPULATION_FIELDS)
    row = conn.execute(
        text(f"SELECT {sums}, count(*) FROM buildings WHERE valid_to IS NULL AND code IN :c").bindparams(
            bindparam("c", expanding=True)), {"c": codes},
    ).one()
    return {f: int(v) for f, v in zip(FIGURES, row, strict=True)}


def _add(a: dict[str, int], b: dict[str, int], sign: int = 1) -> dict[str, int]:
    return {k: int(a.get(k, 0)) + sign * int(b.get(k, 0)) for k in FIGURES}


def compute_figures(conn: Connection, plan: Plan) -> dict[str, Any]:
    """Moved totals, grids moved whole and split, and before/after of every unit whose shape changes.

    Roles: ``from`` and ``to`` (A and B of a move or a merge's unit that stays), their ancestors,
    ``new`` for a grid a split creates and ``retired`` for a unit a merge retires.
    """
    b_code = plan.request.to_code
    sources = list(plan.request.merge_codes or ()) if plan.request.kind == "merge" else [plan.request.from_code]
    level = Level(plan.level)
    a_grids = [g for code in sources for g in _descendant_grids(conn, code, level)]
    grid_rows = read_latest(conn, "units", where_in={"code": a_grids}, bbox=plan.territory.bounds)
    whole = sorted(c for c, g in zip(grid_rows["code"], grid_rows.geometry, strict=True)
                   if area_m2(cut(g, plan.territory)) < NOISE_M2) if level != Level.grid else []
    per_grid = _per_grid(conn, whole)
    moved = {f: int(per_grid[f].sum()) if len(per_grid) else 0 for f in FIGURES}
    # Buildings of grids moved whole follow their re-coded grid; they are counted with those grids.
    moved = _add(moved, _moved_buildings(conn, [c for c, (old, _) in plan.buildings.items() if old not in whole]))
    new_grids = [u.code for u in plan.units if u.level == Level.grid and u.created]
    moved_grids = len(whole) + len(new_grids)
    # Workers a merge brings, a move carries (workers_moved) or a re-coded community keeps.
    moved_workers = sum(u.workers_gained for u in plan.units if u.workers_gained > 0)
    units = []
    for change in plan.units:
        if Level(change.level).depth > level.depth:  # descendants are listed as moved or split grids
            continue
        if change.created or change.retired:
            units.append(_created_or_retired(conn, plan, change))
            continue
        if change.geom_before.equals(change.geom_after):  # type: ignore[union-attr]
            continue
        grids = _descendant_grids(conn, change.code, Level(change.level))
        before = {f: int(v) for f, v in _per_grid(conn, grids).sum().reindex(FIGURES, fill_value=0).items()}
        gains = change.geom_after.area > change.geom_before.area  # type: ignore[union-attr]
        after = _add(before, moved, 1 if gains else -1)
        n_grids = len(grids) if change.level != Level.grid else 1
        workers = _workers(conn, change.code, Level(change.level))
        units.append({
            "code": change.code, "name": change.name, "level": change.level,
            "role": "from" if change.code in sources else "to" if change.code == b_code else
                    ("from_ancestor" if not gains else "to_ancestor"),
            "before": {**before, "workers": workers, "grids": n_grids, **describe(change.geom_before)},
            "after": {**after, "workers": workers + (moved_workers if gains else -moved_workers),
                      "grids": n_grids + (moved_grids if gains else -len(whole)) if change.level != Level.grid else 1,
                      **describe(change.geom_after)},
        })
    moved_list = _moved_list(conn, plan, whole)
    residents_out = _residents_out_of(conn, moved_list)
    split = [{**s, "residents_moved": residents_out.get(s["code"], 0)} for s in plan.summary.get("split", [])]
    return {
        "moved": {**moved, "area_km2": round(area_m2(plan.territory) / 1e6, 6)},
        "grids_moved_whole": whole,
        "grids_split": split,
        "recoded": plan.summary.get("recoded", []),
        "workers_moved": plan.request.workers_moved,
        "buildings_moved": moved_list,
        "units": units,
    }


def _created_or_retired(conn: Connection, plan: Plan, change: UnitChange) -> dict[str, Any]:
    """A new grid holds the buildings that go to it; a retired unit ends with nothing."""
    zero = {**dict.fromkeys(FIGURES, 0), "workers": 0, "grids": 0}
    level = Level(change.level)
    if change.created:
        into = [code for code, (_, grid) in plan.buildings.items() if grid == change.code]
        after = {**_moved_buildings(conn, into), "workers": 0, "grids": 1 if level == Level.grid else 0}
        before = zero
    else:
        grids = _descendant_grids(conn, change.code, level)
        sums = _per_grid(conn, grids).sum().reindex(FIGURES, fill_value=0)
        before = {**{f: int(v) for f, v in sums.items()}, "workers": _workers(conn, change.code, level),
                  "grids": 1 if level == Level.grid else len(grids)}
        after = zero
    return {"code": change.code, "name": change.name, "level": change.level,
            "role": "new" if change.created else "retired",
            "before": {**before, **describe(change.geom_before)}, "after": {**after, **describe(change.geom_after)}}


def _moved_list(conn: Connection, plan: Plan, whole_grids: list[str]) -> list[dict[str, Any]]:
    """Every building whose unit at the proposal's level changes: code, grid before and after."""
    rows = conn.execute(
        text("SELECT code, grid_code FROM buildings WHERE valid_to IS NULL AND grid_code IN :g").bindparams(
            bindparam("g", expanding=True)), {"g": whole_grids or [""]}).all()
    out = [{"code": c, "grid_before": g, "grid_after": g} for c, g in rows if c not in plan.buildings]
    out += [{"code": c, "grid_before": a, "grid_after": b} for c, (a, b) in plan.buildings.items()]
    return sorted(out, key=lambda r: r["code"])


def _residents_out_of(conn: Connection, moved: list[dict[str, Any]]) -> dict[str, int]:
    """Residents that leave each unit below A: their old grid, and that grid's community."""
    codes = [m["code"] for m in moved]
    if not codes:
        return {}
    rows = conn.execute(
        text("SELECT b.code, b.residents, g.parent_code FROM buildings b JOIN units g ON g.code = b.grid_code "
             "AND g.valid_to IS NULL WHERE b.valid_to IS NULL AND b.code IN :c").bindparams(
            bindparam("c", expanding=True)), {"c": codes}).all()
    grid_before = {m["code"]: m["grid_before"] for m in moved}
    out: dict[str, int] = {}
    for code, residents, community in rows:
        for unit in (grid_before[code], community):
            out[unit] = out.get(unit, 0) + int(residents)
    return out


def _workers(conn: Connection, code: str, level: Level) -> int:
    """Community workers of a community, or summed over a sub-district's communities (0 for grids)."""
    if level == Level.grid:
        return 0
    codes = _descendants(conn, code, level, Level.community)
    total = conn.execute(
        text("SELECT coalesce(sum(workers), 0) FROM units WHERE valid_to IS NULL AND code IN :codes").bindparams(
            bindparam("codes", expanding=True)), {"codes": codes or [""]}).scalar()
    return int(total or 0)
