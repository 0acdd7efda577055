"""History: every version of a unit with the change that made it, and the change log by filters."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, bindparam, text

from geo.errors import NotFound
from geo.reassign.geometry import area_m2
from geo.store import as_date, read_table


def _change(row: Any) -> dict[str, Any]:
    cid, kind, pid, author, recorded, day, reason, ref, units, key_name, key_role, undoes = row
    return {"id": int(cid), "kind": kind, "proposal_id": pid, "author": author, "recorded_at": str(recorded),
            "effective_date": as_date(day).isoformat(), "reason": reason,  # type: ignore[union-attr]
            "document_ref": ref, "units": json.loads(units) if isinstance(units, str) else units,
            "key_name": key_name, "key_role": key_role, "undoes": undoes}


_CHANGE_COLUMNS = ("id, kind, proposal_id, author, recorded_at, effective_date, reason, document_ref, units, "
                   "key_name, key_role, undoes")


def unit_history(conn: Connection, code: str) -> list[dict[str, Any]]:
    """All versions of a unit, oldest first, each with the change that created it."""
    versions = read_table(conn, "units", as_of=None, where=["code = :code"], params={"code": code})
    if versions.empty:
        raise NotFound(f"no unit with code {code!r}", field="code")
    rows = conn.execute(text("SELECT version, cancelled_by FROM units WHERE code = :code"), {"code": code}).all()
    undone: dict[int, int | None] = {int(v): c for v, c in rows}
    ids = [int(c) for c in versions["change_id"].dropna()] + [int(c) for c in undone.values() if c is not None]
    changes = {}
    if ids:
        stmt = text(f"SELECT {_CHANGE_COLUMNS} FROM change_log WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True))
        changes = {r[0]: _change(r) for r in conn.execute(stmt, {"ids": ids})}
    return [{
        "version": int(v.version), "name": v.name, "level": v.level, "parent_code": v.parent_code,
        "workers": None if v.workers is None or v.workers != v.workers else int(v.workers),
        "valid_from": v.valid_from.isoformat(), "valid_to": v.valid_to.isoformat() if v.valid_to else None,
        "area_km2": round(area_m2(v.geometry) / 1e6, 6),
        "change": changes.get(int(v.change_id)) if v.change_id == v.change_id and v.change_id is not None else None,
        # A version whose change was cancelled (撤销) is in no as-of view; it stays here for the audit.
        "cancelled": changes.get(undone[int(v.version)]) if undone.get(int(v.version)) is not None else None,
    } for v in versions.itertuples()]


def _change_filter(unit: str | None, since: dt.date | None, until: dt.date | None,
                   author: str | None) -> tuple[str, dict[str, Any]]:
    from geo.reassign.proposals import like_escaped

    where: list[str] = []
    params: dict[str, Any] = {}
    if unit:
        # units is a JSON list of codes; a quoted match on its text works on both databases.
        where.append("CAST(units AS TEXT) LIKE :unit ESCAPE '\\'")
        params["unit"] = f'%"{like_escaped(unit)}"%'
    if since:
        where.append("effective_date >= :since")
        params["since"] = since
    if until:
        where.append("effective_date <= :until")
        params["until"] = until
    if author:
        where.append("author = :author")
        params["author"] = author
    return (" WHERE " + " AND ".join(where) if where else ""), params


def find_changes(conn: Connection, *, unit: str | None = None, since: dt.date | None = None,
                 until: dt.date | None = None, author: str | None = None, limit: int = 500,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Change-log rows, newest first, filtered by a unit they touched, effective dates and author; one page."""
    where, params = _change_filter(unit, since, until, author)
    sql = f"SELECT {_CHANGE_COLUMNS} FROM change_log{where} ORDER BY id DESC LIMIT :limit OFFSET :offset"
    return [_change(r) for r in conn.execute(text(sql), {**params, "limit": limit, "offset": offset})]


def count_changes(conn: Connection, *, unit: str | None = None, since: dt.date | None = None,
                  until: dt.date | None = None, author: str | None = None) -> int:
    """How many change-log rows :func:`find_changes` pages through."""
    where, params = _change_filter(unit, since, until, author)
    return int(conn.execute(text(f"SELECT count(*) FROM change_log{where}"), params).scalar_one())
