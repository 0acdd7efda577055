"""Event rows and their audit trail in the database.

Writes go through SQLAlchemy Core ``insert(...).returning(id)`` so a batch is one round trip on
both databases. Reads return plain dicts; the reporter's identity and contact are in
:data:`PRIVATE_FIELDS` and are removed by :func:`without_private` for every caller that is not
allowed to see personal information.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select, text, update

from geo.models import Event, EventTransition
from geo.store import as_date

EVENTS: Table = Event.__table__  # type: ignore[assignment]
TRANSITIONS: Table = EventTransition.__table__  # type: ignore[assignment]
PRIVATE_FIELDS: tuple[str, ...] = ("reporter_name", "reporter_contact")
COLUMNS: tuple[str, ...] = (
    "id", "client_id", "category", "description", "source", "reporter_name", "reporter_contact", "photo_ref",
    "address", "building_code", "reported_at", "reported_day", "lon", "lat", "grid_code", "community_code",
    "subdistrict_code", "assignee_level", "assignee_code", "assignee_community", "status", "status_at", "due_at",
    "closed_at", "synthetic",
)
TRANSITION_COLUMNS: tuple[str, ...] = ("id", "event_id", "kind", "at", "actor", "from_status", "to_status",
                                       "from_assignee", "to_assignee", "note")


def as_utc(value: Any) -> dt.datetime | None:
    """An aware UTC datetime from what the driver returns (SQLite gives text, naive means UTC)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    when: dt.datetime = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return when


def to_store(value: dt.datetime) -> dt.datetime:
    """A datetime as stored: UTC, whole seconds (so SQLite's text compares in time order)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(microsecond=0)


def _record(row: Any, columns: Sequence[str]) -> dict[str, Any]:
    out = dict(zip(columns, row, strict=True))
    for key in ("reported_at", "status_at", "due_at", "closed_at", "at"):
        if key in out:
            out[key] = as_utc(out[key])
    if "reported_day" in out:
        out["reported_day"] = as_date(out["reported_day"])
    if "synthetic" in out:
        out["synthetic"] = bool(out["synthetic"])
    return out


def without_private(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record without the reporter's personal information."""
    return {k: v for k, v in record.items() if k not in PRIVATE_FIELDS}


DATETIME_COLUMNS = frozenset({"reported_at", "status_at", "due_at", "closed_at", "at"})


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    """A datetime in SQLAlchemy's own SQLite text format (UTC, naive), so Core reads and compares it."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC or value.microsecond:
        value = to_store(value)
    return value.replace(tzinfo=None).isoformat(" ") + ".000000"


def _executemany(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]],
                 *, geom: bool = False) -> None:
    """One driver-level executemany: SQLAlchemy's per-row parameter processing would cost more than the insert."""
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    values = [mark] * len(columns)
    names = list(columns)
    if geom:
        names.append("geom")
        values.append(f"MakePoint({mark}, {mark}, 4326)" if sqlite
                      else f"ST_SetSRID(ST_MakePoint({mark}, {mark}), 4326)")
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"
    times = [i for i, c in enumerate(columns) if c in DATETIME_COLUMNS] if sqlite else []
    params = []
    for r in rows:
        row = [r.get(c) for c in columns]
        for i in times:
            row[i] = _sqlite_datetime(row[i])
        if geom:
            row += [float(r["lon"]), float(r["lat"])]
        params.append(tuple(row))
    conn.exec_driver_sql(sql, params)


def _new_ids(conn: Connection, n: int) -> list[int]:
    """``n`` fresh event ids: from the sequence on PostGIS; on SQLite after taking the write lock."""
    if conn.dialect.name == "postgresql":
        return [int(i) for i in conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :n)"), {"n": n}).scalars()]
    conn.execute(text("UPDATE events SET id = id WHERE 0 = 1"))  # takes SQLite's write lock first
    first = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one()) + 1
    return list(range(first, first + n))


def insert_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert events (dicts with every column but ``id``; the point is made from lon/lat); their ids."""
    if not rows:
        return []
    ids = _new_ids(conn, len(rows))
    _executemany(conn, "events", COLUMNS, [{**r, "id": i} for r, i in zip(rows, ids, strict=True)], geom=True)
    return ids


def insert_transitions(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append transitions to the audit (never updated or deleted; triggers refuse it)."""
    rows = list(rows)
    if rows:
        _executemany(conn, "event_transitions", TRANSITION_COLUMNS[1:], rows)


def update_event(conn: Connection, event_id: int, **values: Any) -> None:
    """Set the current state (status, assignee, timestamps) of one event."""
    conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(**values))


def known_client_ids(conn: Connection, client_ids: Sequence[str]) -> dict[str, int]:
    """Event ids of the client ids already stored."""
    found: dict[str, int] = {}
    wanted = sorted(set(client_ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for cid, eid in conn.execute(select(EVENTS.c.client_id, EVENTS.c.id).where(EVENTS.c.client_id.in_(chunk))):
            found[str(cid)] = int(eid)
    return found


@dataclass(frozen=True)
class EventFilter:
    """Which events a read returns: by category, status, reported days, units and a box."""

    categories: Sequence[str] = ()
    statuses: Sequence[str] = ()
    since: dt.date | None = None  # reported on or after
    until: dt.date | None = None  # reported on or before
    unit_code: str | None = None  # a grid, community or sub-district (as held on the reported day)
    assignee_code: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    overdue_at: dt.datetime | None = None  # only events open and past due at this moment

    def clauses(self) -> list[Any]:
        """SQLAlchemy conditions for this filter."""
        c = EVENTS.c
        out: list[Any] = []
        if self.categories:
            out.append(c.category.in_(list(self.categories)))
        if self.statuses:
            out.append(c.status.in_(list(self.statuses)))
        if self.since is not None:
            out.append(c.reported_day >= self.since)
        if self.until is not None:
            out.append(c.reported_day <= self.until)
        if self.unit_code:
            column = {9: c.subdistrict_code, 12: c.community_code}.get(len(self.unit_code), c.grid_code)
            out.append(column == self.unit_code)
        if self.assignee_code:
            out.append(c.assignee_code == self.assignee_code)
        if self.bbox is not None:
            minx, miny, maxx, maxy = self.bbox
            out += [c.lon >= minx, c.lon <= maxx, c.lat >= miny, c.lat <= maxy]
        if self.overdue_at is not None:
            out += [c.status != "closed", c.due_at < to_store(self.overdue_at)]
        return out


def read_events(conn: Connection, flt: EventFilter = EventFilter(), *, limit: int | None = None,
                offset: int = 0, columns: Sequence[str] = COLUMNS) -> list[dict[str, Any]]:
    """Events matching ``flt``, newest report first."""
    stmt = select(*[EVENTS.c[k] for k in columns]).where(and_(True, *flt.clauses()))
    stmt = stmt.order_by(EVENTS.c.reported_at.desc(), EVENTS.c.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_record(r, columns) for r in conn.execute(stmt)]


def count_events(conn: Connection, flt: EventFilter = EventFilter()) -> int:
    """How many events match ``flt``."""
    return int(conn.execute(select(func.count()).select_from(EVENTS).where(and_(True, *flt.clauses()))).scalar_one())


def read_event(conn: Connection, event_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    """One event by id (locked for the transaction on PostGIS when ``for_update``)."""
    stmt = select(*[EVENTS.c[k] for k in COLUMNS]).where(EVENTS.c.id == event_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return _record(row, COLUMNS) if row is not None else None


def read_transitions(conn: Connection, event_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The audit of some events, oldest first."""
    stmt = select(*[TRANSITIONS.c[k] for k in TRANSITION_COLUMNS]).where(
        TRANSITIONS.c.event_id.in_(list(event_ids))).order_by(TRANSITIONS.c.id)
    return [_record(r, TRANSITION_COLUMNS) for r in conn.execute(stmt)]
