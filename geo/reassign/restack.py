"""Changes dated after the one being made: set aside, then recomputed on top of it.

A 街道 decides some changes now for next January. Such a scheduled change S has written versions
valid from its date, so the latest versions of its units begin in the future. A change E effective
before S on the same units is computed against the map as it will be on E's date, that is without
S: S (and every change after it on the same units) is cancelled inside E's transaction, E is
written, and S is recomputed from its request on top of E and written again as a new change. Where S
no longer makes sense on the new map, E is refused naming S, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from geo.access import Actor
from geo.reassign.proposals import log_change
from geo.reassign.undo import TABLES, ChangeRow, cancel_change, chain, change_row


@dataclass(frozen=True)
class SetAside:
    """A change cancelled for the time being, to be recomputed on top of the new one."""

    change: ChangeRow
    cancel_id: int


def dated_after(conn: Connection, day: dt.date, codes: dict[str, set[str]] | None = None) -> list[ChangeRow]:
    """Changes whose versions begin after ``day``, with every later change on their units; newest first.

    ``codes`` (per table) limits them to changes of those codes.
    """
    found: set[int] = set()
    for table in TABLES:
        if codes is not None and not codes.get(table):
            continue
        sql = (f"SELECT DISTINCT change_id FROM {table} WHERE valid_from > :d AND cancelled_by IS NULL "
               "AND change_id IS NOT NULL")
        params: dict[str, object] = {"d": day}
        if codes is not None:
            from sqlalchemy import bindparam

            stmt = text(sql + " AND code IN :codes").bindparams(bindparam("codes", expanding=True))
            params["codes"] = sorted(codes[table])
        else:
            stmt = text(sql)
        found |= {int(c) for c in conn.execute(stmt, params).scalars()}
    rows = {c: change_row(conn, c) for c in found}
    for c in list(rows):
        rows.update({r.id: r for r in chain(conn, c, lambda _: True)})
    return [rows[c] for c in sorted(rows, reverse=True) if rows[c].kind in ("apply", "revert")]


def set_aside(conn: Connection, changes: list[ChangeRow], *, day: dt.date, author: str,
              actor: Actor | None) -> list[SetAside]:
    """Cancel ``changes`` (newest first) so that the map is as it will be on ``day`` without them."""
    out = []
    for change in changes:
        cancel_id = log_change(
            conn, kind="cancel", proposal_id=change.proposal_id, author=author, day=change.effective_date,
            reason=f"set aside to be recomputed on top of a change effective {day.isoformat()}",
            document_ref=None, units=[], summary={}, actor=actor, undoes=change.id)
        cancel_change(conn, change.id, cancel_id)
        out.append(SetAside(change, cancel_id))
    return out


@contextmanager
def map_as_of(engine: Engine, day: dt.date) -> Iterator[Connection]:
    """A connection whose latest versions are the map as it will be on ``day`` (later changes set aside).

    For reading only: when changes had to be set aside, that happens in a transaction that is rolled
    back (it takes SpatiaLite's write lock while it lasts, as any writer would).
    """
    with engine.connect() as conn:
        if not dated_after(conn, day):
            yield conn
            return
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin() as transaction:
            set_aside(conn, dated_after(conn, day), day=day, author="gridgov", actor=None)
            yield conn
            transaction.rollback()
