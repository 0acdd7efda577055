"""The lifecycle 上报 → 分拨 → 处置 → 反馈 → 办结, overdue flags, and who answers for an open event today.

Stored rows keep where an event lay on its day. Who is responsible *now* is computed from the point,
located as of max(today, reported day): a boundary change therefore hands its open events to the new
grid exactly on its effective date, with no hook in the code that changes boundaries. The hand-over
is written to the audit (a ``reassign`` transition) at the next transition of the event, or for all
open events at once by :func:`reconcile`; until then reads show both ("assigned X, now Y since ...").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from geo.errors import Conflict, InvalidInput, NotFound
from geo.events import store
from geo.events.catalogue import ALLOWED, OPEN_STATUSES, STATUS_NAMES, STATUSES
from geo.events.routing import Placement, UnitIndex, unit_index

ROUTING_ACTOR = "system:routing"


def now_utc() -> dt.datetime:
    """The current moment, UTC, whole seconds."""
    return store.to_store(dt.datetime.now(dt.UTC))


def overdue_flags(record: dict[str, Any], now: dt.datetime) -> dict[str, bool]:
    """``overdue``: open and past due; ``closed_late``: closed after its due time."""
    due, closed = record["due_at"], record.get("closed_at")
    return {
        "overdue": record["status"] != "closed" and due is not None and now > due,
        "closed_late": record["status"] == "closed" and closed is not None and closed > due,
    }


def responsible_now(conn: Connection, records: Sequence[dict[str, Any]], today: dt.date) -> list[Placement | None]:
    """Where each event's point lies as of max(today, its reported day): who answers for it now."""
    if not records:
        return []
    days = [max(today, r["reported_day"]) for r in records]
    return unit_index(conn).place_many([r["lon"] for r in records], [r["lat"] for r in records], days)


def annotate(conn: Connection, records: list[dict[str, Any]], *, now: dt.datetime) -> list[dict[str, Any]]:
    """Add overdue flags, status names and, for open events, the responsible unit today."""
    open_records = [r for r in records if r["status"] in OPEN_STATUSES]
    placed = dict(zip((id(r) for r in open_records), responsible_now(conn, open_records, now.date()), strict=True))
    for r in records:
        r.update(overdue_flags(r, now))
        r["status_name"], r["status_name_en"] = STATUS_NAMES[r["status"]]
        p = placed.get(id(r))
        r["responsible"] = None if p is None else {
            "grid_code": p.grid_code, "grid_name": p.grid_name, "community_code": p.community_code,
            "community_name": p.community_name, "assignee_level": p.assignee_level,
            "assignee_code": p.assignee_code,
            "since": p.since.isoformat(), "change_id": p.change_id,
            "reassigned": p.assignee_key != assignee_key(r),
        }
    return records


def assignee_key(record: dict[str, Any]) -> str:
    """The key of an event's current assignee (see :meth:`UnitIndex.key`)."""
    return UnitIndex.key(record["assignee_code"], record["assignee_community"])


def _reassign(conn: Connection, record: dict[str, Any], placement: Placement | None, at: dt.datetime,
              actor: str) -> bool:
    """Record and apply a hand-over when the responsible unit differs from the assigned one."""
    if placement is None or placement.assignee_key == assignee_key(record):
        return False
    note = (f"boundary change {placement.change_id} effective {placement.since.isoformat()}: "
            f"now in grid {placement.grid_code} / 边界调整后划入网格 {placement.grid_code}")
    store.insert_transitions(conn, [{
        "event_id": record["id"], "kind": "reassign", "at": at, "actor": actor,
        "from_status": record["status"], "to_status": record["status"],
        "from_assignee": assignee_key(record), "to_assignee": placement.assignee_key, "note": note,
    }])
    values = {"assignee_code": placement.assignee_code, "assignee_level": placement.assignee_level,
              "assignee_community": placement.community_code}
    store.update_event(conn, record["id"], **values)
    record.update(values)
    return True


def advance(conn: Connection, event_id: int, to_status: str, *, actor: str, note: str | None = None,
            now: dt.datetime | None = None) -> dict[str, Any]:
    """Move an event to its next status, audited; a pending hand-over is recorded first."""
    now = store.to_store(now or now_utc())
    if to_status not in STATUSES:
        raise InvalidInput(f"unknown status {to_status!r}; use one of {', '.join(STATUSES)}", field="status")
    if not actor or not actor.strip():
        raise InvalidInput("who acted is required / 需填写处理人", field="actor")
    record = store.read_event(conn, event_id, for_update=True)
    if record is None:
        raise NotFound(f"no event with id {event_id} / 事件不存在", field="event_id")
    if to_status not in ALLOWED[record["status"]]:
        allowed = ", ".join(ALLOWED[record["status"]]) or "none (办结 is final)"
        raise Conflict(f"event {event_id} is {record['status']} ({STATUS_NAMES[record['status']][0]}); "
                       f"it can go to: {allowed}", field="status")
    if record["status"] in OPEN_STATUSES:
        _reassign(conn, record, responsible_now(conn, [record], now.date())[0], now, ROUTING_ACTOR)
    store.insert_transitions(conn, [{
        "event_id": event_id, "kind": "status", "at": now, "actor": actor.strip()[:200],
        "from_status": record["status"], "to_status": to_status, "from_assignee": assignee_key(record),
        "to_assignee": assignee_key(record), "note": note,
    }])
    values: dict[str, Any] = {"status": to_status, "status_at": now}
    if to_status == "closed":
        values["closed_at"] = now
    store.update_event(conn, event_id, **values)
    record.update(values)
    return record


def reconcile(conn: Connection, *, now: dt.datetime | None = None, actor: str = ROUTING_ACTOR) -> int:
    """Hand every open event whose point now lies in another grid to that grid; how many moved."""
    now = store.to_store(now or now_utc())
    records = store.read_events(conn, store.EventFilter(statuses=OPEN_STATUSES))
    moved = 0
    for record, placement in zip(records, responsible_now(conn, records, now.date()), strict=True):
        moved += _reassign(conn, record, placement, now, actor)
    return moved
