"""Undo that follows the history: reversing (恢复) and cancelling (撤销) a change, alone or as a chain.

Every version records the change that made it (``change_id``) and the change that closed it
(``closed_by``). What a change did is therefore exactly: the versions it made, and the versions it
closed. Undo works from that footprint, never from version numbers:

- **reverse** X on day d: close whatever is current for X's codes on d, and open copies of the versions
  X closed. Correct when no later change to those codes is still standing (every later apply has
  itself been reversed), so the current state is the state X produced.
- **cancel** X: X's versions get an empty interval and ``cancelled_by`` (no as-of read sees them), and
  the versions X closed are reopened, as if X never happened. Correct when every later change to those
  codes has itself been cancelled first.

Both refuse with the later changes still standing, or undo the whole chain newest first (``cascade``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, text

from geo.errors import Conflict, InvalidInput
from geo.reassign.writer import replace_versions, versioned
from geo.store import as_date, read_latest, read_table

TABLES = ("units", "buildings", "stations")


@dataclass
class Footprint:
    """Codes of the versions a change made and of those it closed, per table (cancelled versions excluded)."""

    made: dict[str, set[str]] = field(default_factory=dict)
    closed: dict[str, set[str]] = field(default_factory=dict)

    def codes(self, table: str) -> set[str]:
        return self.made.get(table, set()) | self.closed.get(table, set())


@dataclass(frozen=True)
class ChangeRow:
    """A change-log row, as much as undo needs of it."""

    id: int
    kind: str
    proposal_id: int | None
    effective_date: dt.date


def footprint(conn: Connection, change_id: int) -> Footprint:
    """What ``change_id`` wrote: the versions it made and the versions it closed."""
    fp = Footprint()
    for table in TABLES:
        for column, into in (("change_id", fp.made), ("closed_by", fp.closed)):
            rows = conn.execute(text(f"SELECT DISTINCT code FROM {table} WHERE {column} = :c AND cancelled_by IS NULL"),
                                {"c": change_id}).scalars()
            into[table] = set(rows)
    return fp


def change_row(conn: Connection, change_id: int) -> ChangeRow:
    """The change-log row of ``change_id``."""
    row = conn.execute(text("SELECT id, kind, proposal_id, effective_date FROM change_log WHERE id = :i"),
                       {"i": change_id}).one()
    return ChangeRow(int(row[0]), row[1], row[2], as_date(row[3]))  # type: ignore[arg-type]


def later_changes(conn: Connection, change_id: int) -> list[ChangeRow]:
    """Changes after ``change_id`` (by log order) that made or closed versions of the codes it touched."""
    fp = footprint(conn, change_id)
    found: set[int] = set()
    for table in TABLES:
        codes = sorted(fp.codes(table))
        if not codes:
            continue
        for column in ("change_id", "closed_by"):
            stmt = text(f"SELECT DISTINCT {column} FROM {table} WHERE code IN :codes AND {column} > :c "
                        "AND cancelled_by IS NULL").bindparams(bindparam("codes", expanding=True))
            found |= {int(v) for v in conn.execute(stmt, {"codes": codes, "c": change_id}).scalars()}
    return [change_row(conn, c) for c in sorted(found)]


def standing(conn: Connection, change: ChangeRow) -> bool:
    """A change whose effect is still in force: an apply whose proposal has not been reversed since."""
    if change.kind != "apply" or change.proposal_id is None:
        return False
    row = conn.execute(text("SELECT status, applied_change_id FROM proposals WHERE id = :p"),
                       {"p": change.proposal_id}).one()
    return bool(row[0] == "applied" and row[1] == change.id)


def chain(conn: Connection, change_id: int, keep: Callable[[ChangeRow], bool]) -> list[ChangeRow]:
    """Later changes (transitively) that ``keep`` says must be undone before ``change_id``; newest first."""
    todo, seen = [change_id], {change_id}
    out: dict[int, ChangeRow] = {}
    while todo:
        for later in later_changes(conn, todo.pop()):
            if later.id not in seen and keep(later):
                seen.add(later.id)
                out[later.id] = later
                todo.append(later.id)
    return [out[i] for i in sorted(out, reverse=True)]


def blockers_message(blocking: list[ChangeRow], action: str) -> str:
    """'… proposal 7 (change 9), …' naming what stands in the way, and how to go on."""
    shown = ", ".join(f"proposal {c.proposal_id} (change {c.id}, {c.kind}, effective {c.effective_date})"
                      if c.proposal_id is not None else f"change {c.id} ({c.kind})" for c in blocking[:8])
    more = f" and {len(blocking) - 8} more" if len(blocking) > 8 else ""
    return (f"later changes to the same units still stand: {shown}{more}; {action} them first (newest first), "
            f"or ask for the whole chain with cascade=true")


def reverse_change(conn: Connection, change_id: int, reversal_id: int, day: dt.date) -> dict[str, set[str]]:
    """Write the reversal of ``change_id`` as change ``reversal_id`` on ``day``; the codes it touched per table."""
    fp = footprint(conn, change_id)
    touched: dict[str, set[str]] = {}
    for table in TABLES:
        codes = sorted(fp.codes(table))
        touched[table] = set(codes)
        if not codes:
            continue
        current = read_latest(conn, table, where_in={"code": codes})
        late = current[current["valid_from"].map(lambda d: d > day)]
        if len(late):
            first = late.iloc[0]
            raise InvalidInput(f"effective_date {day.isoformat()} is before {table[:-1]} {first['code']}'s current "
                               f"version began ({first['valid_from'].isoformat()})", field="effective_date",
                               zh=f"生效日期 {day.isoformat()} 早于 {first['code']} 当前版本的起始日期"
                                  f"（{first['valid_from'].isoformat()}）")
        before = read_table(conn, table, as_of=None, where=["closed_by = :c", "cancelled_by IS NULL"],
                            params={"c": change_id})
        restored = versioned(conn, table, before, day, reversal_id)
        replace_versions(conn, table, restored, list(current["code"]), day, reversal_id)
    return touched


def closed_rows(conn: Connection, change_id: int) -> dict[str, list[list[Any]]]:
    """[code, version, valid_to] of every version ``change_id`` closed, per table (what a cancellation reopens)."""
    out: dict[str, list[list[Any]]] = {}
    for table in TABLES:
        rows = conn.execute(text(f"SELECT code, version, valid_to FROM {table} WHERE closed_by = :c "
                                 "AND cancelled_by IS NULL ORDER BY code"), {"c": change_id}).all()
        out[table] = [[code, int(version), str(as_date(until))] for code, version, until in rows]
    return out


def cancel_change(conn: Connection, change_id: int, cancel_id: int) -> dict[str, Any]:
    """Erase ``change_id`` from the as-of history (as change ``cancel_id``); what it reopened, for the audit."""
    fp = footprint(conn, change_id)
    reopened = closed_rows(conn, change_id)
    touched: dict[str, set[str]] = {}
    for table in TABLES:
        touched[table] = fp.codes(table)
        still_closed = conn.execute(
            text(f"SELECT code, closed_by FROM {table} WHERE change_id = :c AND cancelled_by IS NULL "
                 "AND valid_to IS NOT NULL"), {"c": change_id}).all()
        if still_closed:
            code, by = still_closed[0]
            raise Conflict(f"{table[:-1]} {code} was changed again by change {by}; cancel that first", field="id")
        conn.execute(text(f"UPDATE {table} SET valid_to = valid_from, cancelled_by = :k "
                          "WHERE change_id = :c AND cancelled_by IS NULL"), {"k": cancel_id, "c": change_id})
        conn.execute(text(f"UPDATE {table} SET valid_to = NULL, closed_by = NULL "
                          "WHERE closed_by = :c AND cancelled_by IS NULL"), {"c": change_id})
    conn.execute(text("UPDATE unit_lineage SET cancelled_by = :k WHERE change_id = :c AND cancelled_by IS NULL"),
                 {"k": cancel_id, "c": change_id})
    return {"touched": touched, "reopened": reopened}


def previous_parents(conn: Connection, codes: set[str]) -> set[str]:
    """Parent codes of every version of ``codes`` (the families an undo touches)."""
    stmt = text("SELECT DISTINCT parent_code FROM units WHERE code IN :codes AND parent_code IS NOT NULL").bindparams(
        bindparam("codes", expanding=True))
    return set(conn.execute(stmt, {"codes": sorted(codes) or [""]}).scalars())
