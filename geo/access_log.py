"""The residents'-data access log (table ``data_access_log``, append-only): who saw which household list.

Household lists name buildings with their addresses and counts of residents, elderly, children and
people in special care: personal information under China's PIPL. Every time one is handed out the
caller's key name and role, the time and what was read are recorded.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, text


def log_access(engine: Engine, *, key_name: str, role: str, what: str, proposal_id: int | None = None,
               rows: int | None = None) -> None:
    """Append one access (its own transaction: the log holds even if the answer then fails to send)."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO data_access_log (at, key_name, role, what, proposal_id, rows) "
                          "VALUES (:at, :k, :r, :w, :p, :n)"),
                     {"at": dt.datetime.now(dt.UTC), "k": key_name[:200], "r": role, "w": what[:500],
                      "p": proposal_id, "n": rows})


def read_access_log(engine: Engine, *, limit: int = 1000) -> list[dict[str, object]]:
    """The newest accesses first."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, at, key_name, role, what, proposal_id, rows FROM data_access_log "
                                 "ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings().all()
    return [dict(r) for r in rows]
