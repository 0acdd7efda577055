"""Identity over time: what each unit version came from, and the old codes it is still known by.

A change records, for every unit it creates, its predecessor: the unit it was cut from (``move``), the
grid it was split from (``split``), the code it had before it was moved whole under another parent
(``recode``); and for a merge, the units the one that stays absorbed (``merge``). A re-coded unit's
old code is an alias: look-ups by it find the unit under its new code.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geo.errors import NotFound
from geo.reassign.model import Plan


def write_lineage(conn: Connection, plan: Plan, change_id: int) -> None:
    """Record the predecessors of every unit ``plan`` creates or absorbs, as change ``change_id``."""
    rows = []
    for unit in plan.units:
        if unit.created and unit.source_code:
            relation = "recode" if unit.recoded else "split" if plan.request.kind == "split" else "move"
            rows.append({"code": unit.code, "predecessor": unit.source_code, "relation": relation})
    if plan.request.kind == "merge" and plan.request.to_code:
        rows += [{"code": plan.request.to_code, "predecessor": code, "relation": "merge"}
                 for code in plan.request.merge_codes or ()]
    if rows:
        conn.execute(text("INSERT INTO unit_lineage (code, predecessor, relation, change_id) "
                          "VALUES (:code, :predecessor, :relation, :c)"), [{**r, "c": change_id} for r in rows])


def _links(conn: Connection, column: str, code: str) -> list[dict[str, Any]]:
    other = "predecessor" if column == "code" else "code"
    rows = conn.execute(text(
        f"SELECT l.{other}, l.relation, l.change_id, c.effective_date FROM unit_lineage l "
        f"JOIN change_log c ON c.id = l.change_id WHERE l.{column} = :code AND l.cancelled_by IS NULL "
        "ORDER BY l.change_id"), {"code": code}).all()
    return [{"code": o, "relation": r, "change_id": int(c), "effective_date": str(d)[:10]} for o, r, c, d in rows]


def current_code(conn: Connection, code: str) -> str:
    """The code a unit is known by now: ``code`` itself, or the code it was re-coded to (following aliases)."""
    seen = {code}
    while True:
        if conn.execute(text("SELECT 1 FROM units WHERE code = :c AND valid_to IS NULL"), {"c": code}).first():
            return code
        nxt = conn.execute(text("SELECT code FROM unit_lineage WHERE predecessor = :c AND relation = 'recode' "
                                "AND cancelled_by IS NULL ORDER BY change_id DESC"), {"c": code}).scalar()
        if nxt is None or nxt in seen:
            return code
        seen.add(nxt)
        code = nxt


def unit_lineage(conn: Connection, code: str) -> dict[str, Any]:
    """A unit's predecessors and successors (each with the change and its date), and its aliases."""
    if not conn.execute(text("SELECT 1 FROM units WHERE code = :c"), {"c": code}).first():
        raise NotFound(f"no unit with code {code!r}", field="code")
    predecessors = _links(conn, "code", code)
    successors = _links(conn, "predecessor", code)
    aliases, todo = [], [code]
    while todo:  # old codes, transitively
        here = todo.pop()
        for link in _links(conn, "code", here):
            if link["relation"] == "recode" and link["code"] not in aliases:
                aliases.append(link["code"])
                todo.append(link["code"])
    return {"code": code, "current_code": current_code(conn, code), "aliases": aliases,
            "predecessors": predecessors, "successors": successors}
