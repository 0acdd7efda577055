"""Proposals end to end: create a draft, preview it, apply it atomically, revert it.

Each write runs in one transaction: lock, check that the units are still at the versions the
proposal was computed against (409 otherwise), write the new versions and the change-log row,
verify the invariants of what changed, commit — or roll everything back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from shapely.geometry import mapping
from sqlalchemy import Connection, Engine

from geo.errors import Conflict, InvalidInput
from geo.reassign.figures import compute_figures
from geo.reassign.geometry import MIN_SHARED_EDGE_M, NOISE_M2, shared_edge_m
from geo.reassign.model import LEVEL_ZH, Notice, Plan, ProposalRequest
from geo.reassign.plan import compute_plan
from geo.reassign.proposals import (
    ProposalRecord,
    find_proposals,
    insert_draft,
    load_proposal,
    lock_for_change,
    log_change,
    set_base_versions,
    set_status,
)
from geo.reassign.revert import check_revertible, previous_parents, write_revert
from geo.reassign.writer import touched_codes, verify_written, write_plan


def create_proposal(engine: Engine, request: ProposalRequest) -> int:
    """Check and store a draft; refused moves raise InvalidInput with the reason."""
    return create_proposals(engine, [request])[0]


def create_proposals(engine: Engine, requests: Sequence[ProposalRequest]) -> list[int]:
    """Check and store drafts in one transaction: all of them, or (when one is refused) none.

    With several requests, the refusal names the one refused (1-based, in order).
    """
    ids = []
    with engine.begin() as conn:
        for n, request in enumerate(requests, start=1):
            try:
                plan = compute_plan(conn, request)
            except InvalidInput as exc:
                if len(requests) == 1:
                    raise
                raise InvalidInput(f"draft {n} of {len(requests)} ({request.kind} {request.from_code}"
                                   + (f" → {request.to_code}" if request.to_code else "")
                                   + f") was refused, so none was stored: {exc.message}", field=exc.field) from None
            ids.append(insert_draft(conn, plan))
    return ids


def _stale(conn: Connection, record: ProposalRecord) -> list[str]:
    from geo.store import read_latest

    latest = read_latest(conn, "units", where_in={"code": sorted(record.base_versions)})
    now = dict(zip(latest["code"], latest["version"].astype(int), strict=True))
    return [
        f"{code} was at version {version} and is now " + (f"at version {now[code]}" if code in now else "retired")
        for code, version in sorted(record.base_versions.items()) if now.get(code) != version
    ]


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


def what_if(engine: Engine, request: ProposalRequest) -> dict[str, Any]:
    """What a change would do on the current map, computed and stored nowhere (the map's live preview)."""
    with engine.connect() as conn:
        plan = compute_plan(conn, request)
        return {"preview": describe_plan(conn, plan)}


def preview_proposal(engine: Engine, proposal_id: int) -> dict[str, Any]:
    """The proposal and what it does: live for a draft, as recorded for an applied or reverted one."""
    with engine.connect() as conn:
        record = load_proposal(conn, proposal_id)
        if record.status != "draft":
            from sqlalchemy import text

            summary = conn.execute(text("SELECT summary FROM change_log WHERE id = :i"),
                                   {"i": record.applied_change_id}).scalar_one()
            return {"proposal": record.as_dict(), "stale": [], "preview": _as_dict(summary)}
        stale = _stale(conn, record)
        try:
            plan = compute_plan(conn, record.request())
        except InvalidInput as exc:  # the map moved on and the move no longer makes sense
            if not stale:
                raise
            return {"proposal": record.as_dict(), "stale": stale, "preview": None, "refused": exc.message}
        return {"proposal": record.as_dict(), "stale": stale, "preview": describe_plan(conn, plan)}


def _as_dict(value: Any) -> dict[str, Any]:
    import json

    return json.loads(value) if isinstance(value, str) else dict(value)


def list_proposals(engine: Engine, *, status: str | None = None, unit: str | None = None) -> list[dict[str, Any]]:
    """Proposals, newest first."""
    with engine.connect() as conn:
        return [r.as_dict() for r in find_proposals(conn, status=status, unit=unit)]


def apply_proposal(engine: Engine, proposal_id: int, *, author: str) -> dict[str, Any]:
    """Apply a draft in one transaction; 409 if it is not a draft or its units changed since."""
    with engine.begin() as conn:
        record = load_proposal(conn, proposal_id)
        latest = lock_for_change(conn, proposal_id, list(record.base_versions))
        record = load_proposal(conn, proposal_id)  # re-read under the lock
        if record.status != "draft":
            raise Conflict(f"proposal {proposal_id} is already {record.status}", field="id")
        stale = [f"{code} was at version {v} and is now " + (f"at version {latest[code]}" if code in latest
                                                            else "retired")
                 for code, v in sorted(record.base_versions.items()) if latest.get(code) != v]
        if stale:
            raise Conflict(f"the units changed since proposal {proposal_id} was made: " + "; ".join(stale),
                           field="id")
        plan = compute_plan(conn, record.request())
        summary = describe_plan(conn, plan, geometry=False)
        change_id = log_change(conn, kind="apply", proposal_id=proposal_id, author=author,
                               day=record.effective_date, reason=record.reason, document_ref=record.document_ref,
                               units=sorted({u.code for u in plan.units}), summary=summary)
        counts = write_plan(conn, plan, change_id)
        verify_written(conn, touched_codes(plan), set(plan.buildings))
        set_status(conn, proposal_id, "applied", change_id=change_id)
        return {"proposal": load_proposal(conn, proposal_id).as_dict(), "change_id": change_id,
                "written": counts, "summary": summary}


def rebase_proposal(engine: Engine, proposal_id: int) -> dict[str, Any]:
    """Recompute a stale draft against the current versions and pin it to them; its request is unchanged.

    Refused (InvalidInput) when the change no longer makes sense on the current map, e.g. its grid
    was merged away; 409 when it is not a draft.
    """
    with engine.begin() as conn:
        record = load_proposal(conn, proposal_id)
        lock_for_change(conn, proposal_id, list(record.base_versions))
        record = load_proposal(conn, proposal_id)
        if record.status != "draft":
            raise Conflict(f"proposal {proposal_id} is {record.status}: only a draft can be rebased", field="id")
        plan = compute_plan(conn, record.request())
        set_base_versions(conn, proposal_id, plan.base_versions)
    return preview_proposal(engine, proposal_id)


def revert_proposal(
    engine: Engine, proposal_id: int, *, author: str, effective_date: dt.date | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Undo an applied proposal as a new change; 409 if it is not applied or its units changed since."""
    with engine.begin() as conn:
        record = load_proposal(conn, proposal_id)
        lock_for_change(conn, proposal_id, list(record.base_versions))
        record = load_proposal(conn, proposal_id)
        if record.status != "applied":
            raise Conflict(f"proposal {proposal_id} is {record.status}: only an applied proposal can be reverted",
                           field="id")
        assert record.applied_change_id is not None
        check_revertible(conn, record.applied_change_id)
        day = effective_date or max(dt.date.today(), record.effective_date)
        if day < record.effective_date:
            raise InvalidInput(f"a revert cannot take effect before the change it undoes "
                               f"({record.effective_date.isoformat()})", field="effective_date")
        change_id = log_change(conn, kind="revert", proposal_id=proposal_id, author=author, day=day,
                               reason=reason or f"revert of proposal {proposal_id}",
                               document_ref=record.document_ref, units=sorted(record.base_versions), summary={})
        touched = write_revert(conn, record.applied_change_id, change_id, day)
        families = set(touched["units"]) | previous_parents(conn, touched["units"])
        verify_written(conn, families, set(touched["buildings"]))
        set_status(conn, proposal_id, "reverted", change_id=change_id)
        return {"proposal": load_proposal(conn, proposal_id).as_dict(), "change_id": change_id,
                "restored": {k: len(v) for k, v in touched.items()}}
