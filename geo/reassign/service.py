"""Proposals end to end: create, preview, edit or withdraw a draft; apply; reverse or cancel; rebase.

Each write runs in one transaction: lock, check that the units are still at the versions the
proposal was computed against (409 otherwise), write the new versions and the change-log row,
verify the invariants of what changed, commit — or roll everything back. Changes dated after the
one being applied are set aside and recomputed on top of it (:mod:`geo.reassign.restack`); undo
follows the history (:mod:`geo.reassign.undo`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.access import Actor
from geo.db import write_transaction
from geo.errors import Conflict, InvalidInput
from geo.reassign.describe import describe_plan
from geo.reassign.lineage import write_lineage
from geo.reassign.model import ProposalRequest
from geo.reassign.plan import compute_plan
from geo.reassign.proposals import (
    ProposalRecord,
    check_owner,
    count_proposals,
    find_proposals,
    insert_draft,
    load_proposal,
    locked_proposal,
    log_change,
    proposal_events,
    record_event,
    set_base_versions,
    set_status,
    update_draft,
)
from geo.reassign.restack import SetAside, dated_after, map_as_of, set_aside
from geo.reassign.undoing import write_reversal
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
        record, _ = locked_proposal(conn, proposal_id, expect=("draft",), action="applied", actor=actor)
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
                new_id = write_reversal(conn, record, change.effective_date, author=author, actor=actor,
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
        record, _ = locked_proposal(conn, proposal_id, expect=("draft",), action="rebased", actor=actor)
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
    check_owner(record, actor, "edit")
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
        locked_proposal(conn, proposal_id, expect=("draft",), action="edited", actor=actor)
        update_draft(conn, proposal_id, plan)
        record_event(conn, proposal_id, "edit", author=author, actor=actor,
                     note=json.dumps({"before": before}, ensure_ascii=False, default=str))
    return preview_proposal(engine, proposal_id)


def withdraw_proposal(engine: Engine, proposal_id: int, *, author: str, reason: str | None = None,
                      actor: Actor | None = None) -> dict[str, Any]:
    """Withdraw a draft: it stays in the list and the log as withdrawn and can no longer be applied."""
    with write_transaction(engine) as conn:
        locked_proposal(conn, proposal_id, expect=("draft",), action="withdrawn", actor=actor)
        set_status(conn, proposal_id, "withdrawn", change_id=None)
        record_event(conn, proposal_id, "withdraw", author=author, actor=actor, note=reason)
        return {"proposal": load_proposal(conn, proposal_id).as_dict()}
