"""Taking events in: one report, a batch, or a hotline file, idempotent by the client's id.

Every row is checked and placed first; a batch with any bad row writes nothing and names each bad
row and field. A hotline file is different: its rows come from another system and some addresses
will not match a building, so the rows that cannot be placed are returned in an unmatched-rows
report (never dropped silently) and the others are imported.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from geo.errors import ImportRejected, InvalidInput, Problem
from geo.events import store
from geo.events.addresses import AddressBook
from geo.events.catalogue import ALLOWED, SOURCES, Catalogue
from geo.events.lifecycle import ROUTING_ACTOR, now_utc
from geo.events.routing import UnitIndex, unit_index

TEXT_LIMITS = {"client_id": 100, "description": 4000, "reporter_name": 200, "reporter_contact": 200,
               "photo_ref": 500, "address": 300}


@dataclass
class Outcome:
    """What became of one input row."""

    index: int
    status: str  # created | duplicate | unmatched
    event_id: int | None = None
    client_id: str | None = None
    grid_code: str | None = None
    assignee_code: str | None = None
    reason: str | None = None
    field: str | None = None


@dataclass
class IngestResult:
    """Per-row outcomes of an ingest, in input order."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many rows ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    value = str(value).strip()
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character", field=name)
    if len(value) > TEXT_LIMITS.get(name, 200):
        raise InvalidInput(f"{name} is longer than {TEXT_LIMITS.get(name, 200)} characters", field=name)
    return value or None


def _number(raw: Mapping[str, Any], name: str) -> float | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, not {value!r}", field=name) from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise InvalidInput(f"{name} must be a finite number", field=name)
    return None if math.isnan(number) else number


def parse_time(value: Any, *, now: dt.datetime, name: str = "reported_at") -> dt.datetime:
    """A report time (ISO 8601; naive means China Standard Time, UTC+8); not in the future."""
    if value is None or value == "":
        return now
    try:
        parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 date-time, not {value!r}", field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    parsed = store.to_store(parsed)
    if parsed > now + dt.timedelta(minutes=5):
        raise InvalidInput(f"{name} {value} is in the future / 上报时间晚于当前时间", field=name)
    if parsed.year < 2000:
        raise InvalidInput(f"{name} {value} is before 2000", field=name)
    return parsed


def parse_row(raw: Mapping[str, Any], catalogue: Catalogue, *, now: dt.datetime,
              default_source: str = "resident") -> dict[str, Any]:
    """One input row as checked column values (no placement yet); InvalidInput names the field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("each event must be an object", field=None)
    category = catalogue.get(_text(raw, "category") or "", field="category")
    source = _text(raw, "source") or default_source
    if source not in SOURCES:
        raise InvalidInput(f"unknown source {source!r}; use one of {', '.join(SOURCES)}", field="source")
    lon, lat = _number(raw, "lon"), _number(raw, "lat")
    if (lon is None) != (lat is None):
        raise InvalidInput("give both lon and lat, or neither (then an address)", field="lat" if lat is None else "lon")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("lon/lat out of range", field="lon" if not -180 <= lon <= 180 else "lat")
    address = _text(raw, "address")
    if lon is None and address is None:
        raise InvalidInput("an event needs a place: lon and lat, or an address / 需提供位置或地址", field="lon")
    return {
        "client_id": _text(raw, "client_id"), "category": category.code, "description": _text(raw, "description"),
        "source": source, "reporter_name": _text(raw, "reporter_name"),
        "reporter_contact": _text(raw, "reporter_contact"), "photo_ref": _text(raw, "photo_ref"),
        "address": address, "building_code": None, "reported_at": parse_time(raw.get("reported_at"), now=now),
        "lon": lon, "lat": lat, "synthetic": bool(raw.get("synthetic", False)),
    }


def _history(raw: Mapping[str, Any], row: dict[str, Any], now: dt.datetime) -> list[dict[str, Any]]:
    """Later steps carried by a trusted import (a legacy system, the demo): checked like live ones."""
    steps = raw.get("history") or []
    status, last = "assigned", row["reported_at"]
    out = []
    for j, step in enumerate(steps):
        to = step.get("status")
        if to not in ALLOWED[status]:
            raise InvalidInput(f"history step {j}: {status} cannot go to {to}", field=f"history[{j}].status")
        at = parse_time(step.get("at"), now=now, name=f"history[{j}].at")
        if at < last:
            raise InvalidInput(f"history step {j} is earlier than the step before it", field=f"history[{j}].at")
        out.append({"status": to, "at": at, "actor": str(step.get("actor") or "import")[:200],
                    "note": step.get("note"), "from_status": status})
        status, last = to, at
    return out


def ingest(conn: Connection, rows: Sequence[Mapping[str, Any]], *, catalogue: Catalogue,
           now: dt.datetime | None = None, partial: bool = False, default_source: str = "resident") -> IngestResult:
    """Check, place, route and store events; duplicates (same ``client_id``) return the stored id.

    ``partial=False`` (the API): any bad row refuses the whole batch with every problem listed.
    ``partial=True`` (hotline files): bad or unplaceable rows come back as ``unmatched``.
    """
    now = store.to_store(now or now_utc())
    result = IngestResult([Outcome(i, "pending") for i in range(len(rows))])
    parsed: dict[int, dict[str, Any]] = {}
    problems: list[Problem] = []

    def refuse(i: int, reason: str, fld: str | None) -> None:
        cid = rows[i].get("client_id") if isinstance(rows[i], Mapping) else None
        result.outcomes[i] = Outcome(i, "unmatched", client_id=None if cid is None else str(cid)[:100],
                                     reason=reason, field=fld)
        problems.append(Problem("events", str(i), fld or "", reason))

    for i, raw in enumerate(rows):
        try:
            parsed[i] = parse_row(raw, catalogue, now=now, default_source=default_source)
            parsed[i]["history"] = _history(raw, parsed[i], now)
        except InvalidInput as exc:
            refuse(i, exc.message, exc.field)
    _match_addresses(conn, parsed, refuse)
    seen: dict[str, int] = {}
    known = store.known_client_ids(conn, [r["client_id"] for r in parsed.values() if r["client_id"]])
    for i in sorted(parsed):
        cid = parsed[i]["client_id"]
        if cid is None:
            continue
        if cid in known or cid in seen:
            result.outcomes[i] = Outcome(i, "duplicate", event_id=known.get(cid), client_id=cid)
            if cid in seen:
                result.outcomes[i].reason = f"same client_id as row {seen[cid]}"
            del parsed[i]
        else:
            seen[cid] = i
    order = sorted(parsed)
    index = unit_index(conn)
    placements = index.place_many([parsed[i]["lon"] for i in order], [parsed[i]["lat"] for i in order],
                                  [parsed[i]["reported_at"].date() for i in order])
    ready: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []
    for i, place in zip(order, placements, strict=True):
        row = parsed[i]
        if place is None:
            refuse(i, f"({row['lon']}, {row['lat']}) is in no grid on {row['reported_at'].date()} / 位置不在任何网格内",
                   "lon")
            continue
        due = row["reported_at"] + dt.timedelta(hours=catalogue.get(row["category"]).due_hours)
        steps = row.pop("history")
        row.update(reported_day=row["reported_at"].date(), grid_code=place.grid_code,
                   community_code=place.community_code, subdistrict_code=place.subdistrict_code,
                   assignee_level=place.assignee_level, assignee_code=place.assignee_code,
                   assignee_community=place.community_code, status="assigned",
                   status_at=now, due_at=store.to_store(due), closed_at=None)
        if steps:
            row.update(status=steps[-1]["status"], status_at=steps[-1]["at"],
                       closed_at=steps[-1]["at"] if steps[-1]["status"] == "closed" else None)
        ready.append((i, row, steps))
    if problems and not partial:
        if len(rows) == 1:  # a single report: the plain error, naming the field
            raise InvalidInput(problems[0].reason, field=problems[0].field or None)
        raise ImportRejected(problems)
    ids = store.insert_events(conn, [row for _, row, _ in ready])
    transitions = []
    for (i, row, steps), eid in zip(ready, ids, strict=True):
        result.outcomes[i] = Outcome(i, "created", event_id=eid, client_id=row["client_id"],
                                     grid_code=row["grid_code"], assignee_code=row["assignee_code"])
        transitions.append({"event_id": eid, "kind": "status", "at": row["reported_at"],
                            "actor": f"{row['source']}:{row['client_id'] or eid}", "from_status": None,
                            "to_status": "reported", "from_assignee": None, "to_assignee": None, "note": None})
        key = UnitIndex.key(row["assignee_code"], row["community_code"])
        transitions.append({"event_id": eid, "kind": "status", "at": row["reported_at"] if steps else now,
                            "actor": ROUTING_ACTOR, "from_status": "reported", "to_status": "assigned",
                            "from_assignee": None, "to_assignee": key, "note": f"grid {row['grid_code']}"})
        transitions += [{"event_id": eid, "kind": "status", "at": s["at"], "actor": s["actor"],
                         "from_status": s["from_status"], "to_status": s["status"], "from_assignee": key,
                         "to_assignee": key, "note": s["note"]} for s in steps]
    store.insert_transitions(conn, transitions)
    return result


def _match_addresses(conn: Connection, parsed: dict[int, dict[str, Any]], refuse: Any) -> None:
    """Give rows with an address and no point the point of the building whose address matches."""
    wanting = [i for i, r in parsed.items() if r["lon"] is None]
    if not wanting:
        return
    book = AddressBook(conn)
    for i in wanting:
        match = book.match(parsed[i]["address"])
        if match.building is None:
            refuse(i, match.reason or "address not matched", "address")
            del parsed[i]
            continue
        parsed[i].update(lon=match.building.lon, lat=match.building.lat, building_code=match.building.code)
