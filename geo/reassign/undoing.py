"""Reversing (恢复) and cancelling (撤销) applied proposals, alone or with the later changes that stand on them.

The writes themselves follow the changes' footprints (:mod:`geo.reassign.undo`); this module decides
what may be undone, in which order, and keeps the proposals' statuses and audit trail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine

from geo.access import Actor
from geo.db import write_transaction
from geo.errors import Conflict, InvalidInput
from geo.reassign.proposals import (
    ProposalRecord,
    check_owner,
    load_proposal,
    locked_proposal,
    log_change,
    record_event,
    reinstate,
    set_status,
)
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
from geo.reassign.writer import verify_written


def write_reversal(conn: Connection, record: ProposalRecord, day: dt.date, *, author: str, actor: Actor | None,
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
        record, _ = locked_proposal(conn, proposal_id, expect=("applied",), action="reversed", actor=actor)
        if record.effective_date > day:
            raise Conflict(f"proposal {proposal_id} takes effect on {record.effective_date.isoformat()}, after "
                           f"{day.isoformat()}: cancel it (撤销) instead of reversing it", field="effective_date")
        assert record.applied_change_id is not None
        done: list[int] = []
        if cascade:
            for later in chain(conn, record.applied_change_id, lambda c: standing(conn, c)):
                assert later.proposal_id is not None
                other = load_proposal(conn, later.proposal_id)
                check_owner(other, actor, "reverse")
                write_reversal(conn, other, max(day, later.effective_date), author=author, actor=actor,
                                reason=f"reversed with proposal {proposal_id}: {reason or ''}".strip(": "))
                record_event(conn, other.id, "reverse", author=author, actor=actor, note=f"cascade from {proposal_id}")
                done.append(other.id)
        change_id = write_reversal(conn, record, day, author=author, actor=actor, reason=reason)
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
        record, _ = locked_proposal(conn, proposal_id, expect=("applied", "reverted"), action="cancelled", actor=actor)
        assert record.applied_change_id is not None
        own = {record.applied_change_id} | ({record.reverted_change_id} if record.reverted_change_id else set())
        later = [c for c in chain(conn, record.applied_change_id, lambda _: True) if c.id not in own]
        if later and not cascade:
            raise Conflict(blockers_message(later, "cancel"), field="id")
        done: list[int] = []
        for change in later:  # newest first
            if change.proposal_id is not None:
                check_owner(load_proposal(conn, change.proposal_id), actor, "cancel")
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
