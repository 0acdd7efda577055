"""A plan described for planners: figures, moved stations, warnings in two languages, before/after shapes."""

from __future__ import annotations

from typing import Any

from shapely.geometry import mapping
from sqlalchemy import Connection

from geo.reassign.figures import compute_figures
from geo.reassign.geometry import MIN_SHARED_EDGE_M, NOISE_M2, shared_edge_m
from geo.reassign.model import LEVEL_ZH, Notice, Plan


def _warnings(plan: Plan, figures: dict[str, Any]) -> list[Notice]:
    out = []
    if plan.outside_area_m2 >= NOISE_M2:
        m2 = f"{plan.outside_area_m2:,.0f}"
        out.append(Notice(f"{m2} m² of the drawn area lie outside {plan.request.from_code} and are ignored",
                          f"所绘范围中有{m2}平方米位于{plan.request.from_code}之外，不予调整"))
    for unit in figures["units"]:
        name = f"{unit['name']} ({unit['code']})"
        name_zh = f"{unit['name']}（{unit['code']}）"
        if unit["role"] in ("from", "to", "new") and not unit["after"]["contiguous"]:
            parts = unit["after"]["parts"]
            out.append(Notice(f"{name} would be in {parts} separate parts",
                              f"{name_zh}调整后将分为{parts}块互不相连的区域"))
        if unit["role"] == "from" and unit["after"]["residents"] == 0:
            out.append(Notice(f"{name} would have no residents left", f"{name_zh}调整后将没有居民"))
        if unit["role"] == "new" and unit["after"]["residents"] == 0:
            out.append(Notice(f"new {unit['level']} {name} would have no residents",
                              f"新设{LEVEL_ZH.get(unit['level'], unit['level'])}{name_zh}没有居民"))
    to_unit = next((u for u in plan.units if u.code == plan.request.to_code), None)
    if (plan.request.kind == "move" and to_unit is not None
            and shared_edge_m(plan.territory, to_unit.geom_before) < MIN_SHARED_EDGE_M):
        out.append(Notice(f"the moved area does not touch {to_unit.name}: it would be an exclave",
                          f"划出区域与{to_unit.name}不相邻，将成为飞地"))
    out += plan.warnings
    for u in plan.units:
        if u.created and u.level == "community":
            out.append(Notice(f"new community {u.code} ({u.name}) has no workers yet",
                              f"新设社区{u.name}（{u.code}）尚无社区工作者"))
    return out


def _worded(notices: list[Notice]) -> dict[str, list[str]]:
    """``warnings`` in English and ``warnings_zh`` in Chinese, in the same order (as ``name_en`` beside ``name``)."""
    return {"warnings": [n.en for n in notices], "warnings_zh": [n.zh for n in notices]}


def _geojson(plan: Plan) -> dict[str, Any]:
    def features(after: bool) -> list[dict[str, Any]]:
        out = []
        for u in plan.units:
            geom = u.geom_after if after else u.geom_before
            if geom is None or (u.geom_before is not None and u.geom_after is not None
                                and u.geom_before.equals(u.geom_after) and u.parent_before == u.parent_after):
                continue
            out.append({"type": "Feature", "id": u.code, "geometry": mapping(geom),
                        "properties": {"code": u.code, "name": u.name, "level": u.level,
                                       "parent_code": u.parent_after if after else u.parent_before,
                                       "change": "created" if u.created else "retired" if u.retired
                                       else "changed"}})
        return out

    return {
        "territory": mapping(plan.territory),
        "before": {"type": "FeatureCollection", "features": features(False)},
        "after": {"type": "FeatureCollection", "features": features(True)},
    }


def describe_plan(conn: Connection, plan: Plan, *, geometry: bool = True) -> dict[str, Any]:
    """The preview of a plan: figures, moved stations, warnings and (optionally) geometries."""
    figures = compute_figures(conn, plan)
    body = {
        "kind": plan.request.kind,
        "created": [u.code for u in plan.units if u.created],
        "retired": [u.code for u in plan.units if u.retired],
        **figures,
        "buildings_moved_to_new_grids": len(plan.buildings),
        "stations": [{"code": c, "from": a, "to": b} for c, (a, b) in sorted(plan.stations.items())],
        "outside_area_m2": round(plan.outside_area_m2, 1),
        **_worded(_warnings(plan, figures)),
    }
    return {**body, **_geojson(plan)} if geometry else body
