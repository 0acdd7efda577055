"""Proposals end to end: create, preview, edit or withdraw a draft; apply; reverse or cancel; rebase.

Each write runs in one transaction: lock, check that the units are still at the versions the
proposal was computed against (409 otherwise), write the new versions and the change-log row,
verify the invariants of what changed, commit — or roll everything back. Changes dated after the
one being applied are set aside and recomputed on top of it (:mod:`geo.reassign.restack`); undo
follows the history (:mod:`geo.reassign.undo`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from shapely.geometry import mapping
from sqlalchemy import Connection, Engine, text

from geo.access import Actor
from geo.db import write_transaction
from geo.errors import Conflict, Forbidden, InvalidInput
from geo.reassign.figures import compute_figures
from geo.reassign.geometry import MIN_SHARED_EDGE_M, NOISE_M2, shared_edge_m
from geo.reassign.lineage import write_lineage
from geo.reassign.model import LEVEL_ZH, Notice, Plan, ProposalRequest
from geo.reassign.plan import compute_plan
from geo.reassign.proposals import (
    ProposalRecord,
    count_proposals,
    find_proposals,
    insert_draft,
    load_proposal,
    lock_for_change,
    log_change,
    proposal_events,
    record_event,
    reinstate,
    set_base_versions,
    set_status,
    update_draft,
)
from geo.reassign.restack import SetAside, dated_after, map_as_of, set_aside
from geo.reassign.undo import (
    ChangeRow,
    blockers_message,
    cancel_change,
    chain,
    change_row,
    closed_rows,
    footprint,
    previous_parents,
    reverse_change,
    standing,
)
from geo.reassign.writer import touched_codes, verify_written, write_plan


def create_proposal(engine: Engine, request: ProposalRequest, *, actor: Actor | None = None) -> int:
    """Check and store a draft; refused moves raise InvalidInput with the reason."""
    return create_proposals(engine, [request], actor=actor)[0]


def create_proposals(engine: Engine, requests: Sequence[ProposalRequest], *, actor: Actor | None = None) -> list[int]:
    """Check and store drafts in one transaction: all of them, or (when one is refused) none.

    Each is computed against the map as it will be on its effective date. With several requests, the
    refusal names the one refused (1-based, in order).
    """
    plans = []
    for n, request in enumerate(requests, start=1):
        try:
            with map_as_of(engine, request.effective_date) as conn:
                plans.append(compute_plan(conn, request))
        except InvalidInput as exc:
            if len(requests) == 1:
                raise
            raise InvalidInput(f"draft {n} of {len(requests)} ({request.kind} {request.from_code}"
                               + (f" → {request.to_code}" if request.to_code else "")
                               + f") was refused, so none was stored: {exc.message}", field=exc.field) from None
    with write_transaction(engine) as conn:
        return [insert_draft(conn, plan, actor) for plan in plans]


def stale_units(base_versions: dict[str, int], latest: dict[str, int]) -> list[str]:
    """Why a proposal's pins no longer hold: each unit now at another version, or retired."""
    return [f"{code} was at version {version} and is " + (f"now at version {latest[code]}" if code in latest
                                                          else "no longer current (retired or re-coded)")
            for code, version in sorted(base_versions.items()) if latest.get(code) != version]


def _latest_versions(conn: Connection, codes: Sequence[str]) -> dict[str, int]:
    from geo.store import read_latest

    latest = read_latest(conn, "units", where_in={"code": sorted(codes)})
    return dict(zip(latest["code"], latest["version"].astype(int), strict=True))


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
    """What a change would do on the map of its effective date, computed and stored nowhere (the live preview)."""
    with map_as_of(engine, request.effective_date) as conn:
        plan = compute_plan(conn, request)
        return {"preview": describe_plan(conn, plan)}


def preview_proposal(engine: Engine, proposal_id: int) -> dict[str, Any]:
    """The proposal and what it does: live for a draft, as recorded for any other."""
    with engine.connect() as conn:
        record = load_proposal(conn, proposal_id)
        events = proposal_events(conn, proposal_id)
        if record.status not in ("draft", "withdrawn"):
            summary = conn.execute(text("SELECT summary FROM change_log WHERE id = :i"),
                                   {"i": record.applied_change_id}).scalar_one()
            return {"proposal": record.as_dict(), "stale": [], "preview": _as_dict(summary), "events": events}
    if record.status == "withdrawn":
        return {"proposal": record.as_dict(), "stale": [], "preview": None, "events": events}
    with map_as_of(engine, record.effective_date) as conn:
        stale = stale_units(record.base_versions, _latest_versions(conn, list(record.base_versions)))
        try:
            plan = compute_plan(conn, record.request())
        except InvalidInput as exc:  # the map moved on and the move no longer makes sense
            if not stale:
                raise
            return {"proposal": record.as_dict(), "stale": stale, "preview": None, "refused": exc.message,
                    "events": events}
        return {"proposal": record.as_dict(), "stale": stale, "preview": describe_plan(conn, plan), "events": events}


def _as_dict(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def list_proposals(engine: Engine, *, status: str | None = None, unit: str | None = None,
                   limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Proposals, newest first, one page."""
    with engine.connect() as conn:
        return [r.as_dict() for r in find_proposals(conn, status=status, unit=unit, limit=limit, offset=offset)]


def count_all_proposals(engine: Engine, *, status: str | None = None, unit: str | None = None) -> int:
    """How many proposals match (for paging)."""
    with engine.connect() as conn:
        return count_proposals(conn, status=status, unit=unit)


def _owned(record: ProposalRecord, actor: Actor | None, action: str) -> None:
    if actor is not None and not actor.may_act_for(record.key_name):
        raise Forbidden(f"proposal {record.id} was proposed by {record.key_name}; only its proposer or an approver "
                        f"may {action} it", field="id")


def _locked(conn: Connection, proposal_id: int, *, expect: tuple[str, ...], action: str,
            actor: Actor | None) -> tuple[ProposalRecord, dict[str, int]]:
    """The proposal re-read under the writers' lock, checked to be in one of ``expect`` and the actor's to act on."""
    record = load_proposal(conn, proposal_id)
    latest = lock_for_change(conn, proposal_id, list(record.base_versions))
    record = load_proposal(conn, proposal_id)
    if record.status not in expect:
        wanted = " or ".join(expect)
        article = "an" if wanted[0] in "aeiou" else "a"
        already = "already " if record.status != "draft" else ""
        raise Conflict(f"proposal {proposal_id} is {already}{record.status}: only {article} {wanted} proposal can be "
                       f"{action}", field="id")
    _owned(record, actor, action)
    return record, latest


def _write_apply(conn: Connection, record: ProposalRecord, *, author: str, actor: Actor | None,
                 note: str | None = None) -> tuple[int, dict[str, int], dict[str, Any]]:
    """Compute the proposal's plan on the current map and write it as a new change; verified before return."""
    plan = compute_plan(conn, record.request())
    summary = describe_plan(conn, plan, geometry=False)
    if note:
        summary["note"] = note
    change_id = log_change(conn, kind="apply", proposal_id=record.id, author=author, day=record.effective_date,
                           reason=record.reason, document_ref=record.document_ref,
                           units=sorted({u.code for u in plan.units}), summary=summary, actor=actor)
    counts = write_plan(conn, plan, change_id)
    write_lineage(conn, plan, change_id)
    verify_written(conn, touched_codes(plan), set(plan.buildings))
    set_status(conn, record.id, "applied", change_id=change_id)
    return change_id, counts, summary


def _touched_by_plan(conn: Connection, record: ProposalRecord) -> dict[str, set[str]]:
    plan = compute_plan(conn, record.request())
    return {"units": {u.code for u in plan.units} | {u.source_code for u in plan.units if u.source_code},
            "buildings": set(plan.buildings), "stations": set(plan.stations)}


ATTEMPTS = 3


def apply_proposal(engine: Engine, proposal_id: int, *, author: str, actor: Actor | None = None) -> dict[str, Any]:
    """Apply a draft in one transaction; 409 if it is not a draft or its units changed since.

    Changes dated after this one on the same units are set aside and recomputed on top of it; if one
    of them no longer fits, nothing is written and the refusal names it. Two changes under one parent
    applied at the same moment may pick the same new code; the database refuses the second, which is
    then recomputed and tried again (a 409 only if that keeps happening).
    """
    from sqlalchemy.exc import IntegrityError

    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _apply_once(engine, proposal_id, author=author, actor=actor)
        except IntegrityError as exc:
            if attempt == ATTEMPTS:
                raise Conflict(f"proposal {proposal_id} could not be applied: other changes were writing the same "
                               "units at the same time; try again", field="id") from exc
    raise AssertionError("unreachable")


def _apply_once(engine: Engine, proposal_id: int, *, author: str, actor: Actor | None) -> dict[str, Any]:
    with write_transaction(engine) as conn:
        record, _ = _locked(conn, proposal_id, expect=("draft",), action="applied", actor=actor)
        later: list[SetAside] = []
        if dated_after(conn, record.effective_date):
            savepoint = conn.begin_nested()
            set_aside(conn, dated_after(conn, record.effective_date), day=record.effective_date, author=author,
                      actor=actor)
            codes = _touched_by_plan(conn, record)
            savepoint.rollback()
            later = set_aside(conn, dated_after(conn, record.effective_date, codes), day=record.effective_date,
                              author=author, actor=actor)
        stale = stale_units(record.base_versions, _latest_versions(conn, list(record.base_versions)))
        if stale:
            raise Conflict(f"the units changed since proposal {proposal_id} was made: " + "; ".join(stale)
                           + "; rebase it to recompute it on the current map", field="id")
        change_id, counts, summary = _write_apply(conn, record, author=author, actor=actor)
        record_event(conn, proposal_id, "apply", author=author, actor=actor, change_id=change_id)
        _recompute(conn, later, on_top_of=record, author=author, actor=actor)
        return {"proposal": load_proposal(conn, proposal_id).as_dict(), "change_id": change_id,
                "written": counts, "summary": summary,
                "recomputed": [s.change.proposal_id for s in later if s.change.proposal_id is not None]}


def _recompute(conn: Connection, later: list[SetAside], *, on_top_of: ProposalRecord, author: str,
               actor: Actor | None) -> None:
    """Write the set-aside changes again, oldest first, on the new map; refuse (roll back) where one no longer fits."""
    for aside in reversed(later):
        change = aside.change
        if change.proposal_id is None:
            continue
        record = load_proposal(conn, change.proposal_id)
        what = f"scheduled change {change.id} (proposal {record.id}, effective {change.effective_date})"
        try:
            if change.kind == "apply":
                new_id, _, _ = _write_apply(conn, record, author=author, actor=actor,
                                            note=f"recomputed on top of proposal {on_top_of.id}")
            else:
                assert record.applied_change_id is not None
                new_id = _write_reversal(conn, record, change.effective_date, author=author, actor=actor,
                                         reason=f"recomputed on top of proposal {on_top_of.id}")
        except (InvalidInput, Conflict) as exc:
            raise Conflict(f"proposal {on_top_of.id} would clash with {what}: {exc.message}; change or cancel "
                           f"proposal {record.id} first", field="id") from None
        record_event(conn, record.id, "recompute", author=author, actor=actor, change_id=new_id,
                     note=f"on top of proposal {on_top_of.id}")


def rebase_proposal(engine: Engine, proposal_id: int, *, actor: Actor | None = None) -> dict[str, Any]:
    """Recompute a stale draft against the map of its effective date and pin it to it; its request is unchanged.

    Refused (InvalidInput) when the change no longer makes sense on the current map, e.g. its grid
    was merged away; 409 when it is not a draft.
    """
    with write_transaction(engine) as conn:
        record, _ = _locked(conn, proposal_id, expect=("draft",), action="rebased", actor=actor)
    with map_as_of(engine, record.effective_date) as conn:
        plan = compute_plan(conn, record.request())
    with write_transaction(engine) as conn:
        set_base_versions(conn, proposal_id, plan.base_versions)
    return preview_proposal(engine, proposal_id)


EDITABLE = ("effective_date", "to_code", "child_codes", "area", "parts", "merge_codes", "reason", "document_ref",
            "allow_non_adjacent", "workers_moved")


def edit_proposal(engine: Engine, proposal_id: int, changes: dict[str, Any], *, author: str,
                  actor: Actor | None = None) -> dict[str, Any]:
    """Edit a draft (any of ``EDITABLE``); it is recomputed and re-pinned, and the edit is in its audit trail."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be edited; editable: {', '.join(EDITABLE)}", field=unknown[0])
    with engine.connect() as conn:
        record = load_proposal(conn, proposal_id)
    if record.status != "draft":
        raise Conflict(f"proposal {proposal_id} is {record.status}: only a draft can be edited", field="id")
    _owned(record, actor, "edit")
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    edited = dataclasses.replace(record.request(), **fields)
    if "child_codes" in changes and "area" not in changes and changes["child_codes"] is not None:
        edited = dataclasses.replace(edited, area=None)
    if "area" in changes and "child_codes" not in changes and changes["area"] is not None:
        edited = dataclasses.replace(edited, child_codes=None)
    with map_as_of(engine, edited.effective_date) as conn:
        plan = compute_plan(conn, edited)
    before = {k: v for k, v in record.as_dict().items() if k in EDITABLE and k in changes}
    with write_transaction(engine) as conn:
        _locked(conn, proposal_id, expect=("draft",), action="edited", actor=actor)
        update_draft(conn, proposal_id, plan)
        record_event(conn, proposal_id, "edit", author=author, actor=actor,
                     note=json.dumps({"before": before}, ensure_ascii=False, default=str))
    return preview_proposal(engine, proposal_id)


def withdraw_proposal(engine: Engine, proposal_id: int, *, author: str, reason: str | None = None,
                      actor: Actor | None = None) -> dict[str, Any]:
    """Withdraw a draft: it stays in the list and the log as withdrawn and can no longer be applied."""
    with write_transaction(engine) as conn:
        _locked(conn, proposal_id, expect=("draft",), action="withdrawn", actor=actor)
        set_status(conn, proposal_id, "withdrawn", change_id=None)
        record_event(conn, proposal_id, "withdraw", author=author, actor=actor, note=reason)
        return {"proposal": load_proposal(conn, proposal_id).as_dict()}


def _write_reversal(conn: Connection, record: ProposalRecord, day: dt.date, *, author: str, actor: Actor | None,
                    reason: str | None) -> int:
    """Reverse the proposal's change on ``day`` as a new change (refused while later changes stand)."""
    assert record.applied_change_id is not None
    blocking = chain(conn, record.applied_change_id, lambda c: standing(conn, c))
    if blocking:
        raise Conflict(blockers_message(blocking, "reverse"), field="id")
    change_id = log_change(conn, kind="revert", proposal_id=record.id, author=author, day=day,
                           reason=reason or f"reversal of proposal {record.id} (恢复)",
                           document_ref=record.document_ref,
                           units=sorted(record.base_versions), summary={}, actor=actor,
                           undoes=record.applied_change_id)
    touched = reverse_change(conn, record.applied_change_id, change_id, day)
    _verify_undo(conn, touched)
    set_status(conn, record.id, "reverted", change_id=change_id)
    return change_id


def _verify_undo(conn: Connection, touched: dict[str, set[str]]) -> None:
    units = set(touched.get("units", set()))
    verify_written(conn, units | previous_parents(conn, units), set(touched.get("buildings", set())))


def revert_proposal(
    engine: Engine, proposal_id: int, *, author: str, effective_date: dt.date | None = None,
    reason: str | None = None, actor: Actor | None = None, cascade: bool = False,
) -> dict[str, Any]:
    """Reverse (恢复) an applied change as a new decision on ``effective_date`` (default today); history keeps both.

    Refused while later changes to the same units stand, naming them; ``cascade`` reverses them too,
    newest first, in the same transaction. A change not yet in effect is cancelled, not reversed.
    """
    day = effective_date or dt.date.today()
    with write_transaction(engine) as conn:
        record, _ = _locked(conn, proposal_id, expect=("applied",), action="reversed", actor=actor)
        if record.effective_date > day:
            raise Conflict(f"proposal {proposal_id} takes effect on {record.effective_date.isoformat()}, after "
                           f"{day.isoformat()}: cancel it (撤销) instead of reversing it", field="effective_date")
        assert record.applied_change_id is not None
        done: list[int] = []
        if cascade:
            for later in chain(conn, record.applied_change_id, lambda c: standing(conn, c)):
                assert later.proposal_id is not None
                other = load_proposal(conn, later.proposal_id)
                _owned(other, actor, "reverse")
                _write_reversal(conn, other, max(day, later.effective_date), author=author, actor=actor,
                                reason=f"reversed with proposal {proposal_id}: {reason or ''}".strip(": "))
                record_event(conn, other.id, "reverse", author=author, actor=actor, note=f"cascade from {proposal_id}")
                done.append(other.id)
        change_id = _write_reversal(conn, record, day, author=author, actor=actor, reason=reason)
        record_event(conn, proposal_id, "reverse", author=author, actor=actor, note=reason, change_id=change_id)
        return {"proposal": load_proposal(conn, proposal_id).as_dict(), "change_id": change_id,
                "also_reversed": done}


def cancel_proposal(engine: Engine, proposal_id: int, *, author: str, reason: str, actor: Actor | None = None,
                    cascade: bool = False) -> dict[str, Any]:
    """Cancel (撤销) a change entered by mistake or not yet in effect: the as-of history looks as if it never happened.

    Its reversal, if any, is cancelled with it. Refused while later changes to the same units stand
    (named); ``cascade`` cancels them first, newest first, in the same transaction. The change log keeps
    who cancelled, when and why.
    """
    if not reason or not reason.strip():
        raise InvalidInput("a cancellation needs a reason (why the change is erased from the history)", field="reason")
    with write_transaction(engine) as conn:
        record, _ = _locked(conn, proposal_id, expect=("applied", "reverted"), action="cancelled", actor=actor)
        assert record.applied_change_id is not None
        own = {record.applied_change_id} | ({record.reverted_change_id} if record.reverted_change_id else set())
        later = [c for c in chain(conn, record.applied_change_id, lambda _: True) if c.id not in own]
        if later and not cascade:
            raise Conflict(blockers_message(later, "cancel"), field="id")
        done: list[int] = []
        for change in later:  # newest first
            if change.proposal_id is not None:
                _owned(load_proposal(conn, change.proposal_id), actor, "cancel")
            _cancel_one(conn, change, author=author, reason=f"cancelled with proposal {proposal_id}: {reason}",
                        actor=actor)
            if change.proposal_id is not None and change.proposal_id not in done:
                done.append(change.proposal_id)
        for change_id in sorted(own, reverse=True):
            last = _cancel_one(conn, change_row(conn, change_id), author=author, reason=reason, actor=actor)
        record_event(conn, proposal_id, "cancel", author=author, actor=actor, note=reason, change_id=last)
        return {"proposal": load_proposal(conn, proposal_id).as_dict(), "change_id": last, "also_cancelled": done}


def _cancel_one(conn: Connection, change: ChangeRow, *, author: str, reason: str, actor: Actor | None) -> int:
    """Cancel one change and set its proposal's status (a cancelled reversal leaves the proposal applied)."""
    if change.kind not in ("apply", "revert"):
        raise Conflict(f"change {change.id} is an {change.kind}; only boundary changes can be cancelled", field="id")
    fp = footprint(conn, change.id)
    cancel_id = log_change(conn, kind="cancel", proposal_id=change.proposal_id, author=author,
                           day=change.effective_date, reason=reason, document_ref=None,
                           units=sorted(fp.codes("units")), summary={"reopened": closed_rows(conn, change.id)},
                           actor=actor, undoes=change.id)
    done = cancel_change(conn, change.id, cancel_id)
    _verify_undo(conn, done["touched"])
    if change.proposal_id is not None:
        if change.kind == "revert":
            reinstate(conn, change.proposal_id)
        else:
            set_status(conn, change.proposal_id, "cancelled", change_id=cancel_id)
    return cancel_id
