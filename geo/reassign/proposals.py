"""Proposal rows and change-log rows: storing drafts, loading, listing, recording status."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, insert, text

from geo.errors import NotFound
from geo.models import ChangeLog
from geo.reassign.model import Plan, ProposalRequest
from geo.store import as_date

STATUSES = ("draft", "applied", "reverted")


@dataclass
class ProposalRecord:
    """A stored proposal."""

    id: int
    status: str
    level: str
    kind: str
    from_code: str
    to_code: str | None
    child_codes: list[str] | None
    area: BaseGeometry | None  # a move's drawn area; the union of a split's parts
    parts: list[BaseGeometry] | None
    merge_codes: list[str] | None
    effective_date: dt.date
    reason: str | None
    document_ref: str | None
    author: str
    created_at: Any
    base_versions: dict[str, int]
    applied_change_id: int | None
    reverted_change_id: int | None

    def request(self) -> ProposalRequest:
        """The request this proposal was made from (to recompute its plan)."""
        return ProposalRequest(
            kind=self.kind, from_code=self.from_code, to_code=self.to_code, effective_date=self.effective_date,
            author=self.author, child_codes=tuple(self.child_codes) if self.child_codes is not None else None,
            area=self.area if self.kind == "move" else None,
            parts=tuple(self.parts) if self.parts is not None else None,
            merge_codes=tuple(self.merge_codes) if self.merge_codes is not None else None,
            reason=self.reason, document_ref=self.document_ref, allow_non_adjacent=True,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "id": self.id, "status": self.status, "level": self.level, "kind": self.kind,
            "from_code": self.from_code, "to_code": self.to_code, "child_codes": self.child_codes,
            "area": mapping(self.area) if self.area is not None else None,
            "parts": [mapping(p) for p in self.parts] if self.parts is not None else None,
            "merge_codes": self.merge_codes,
            "effective_date": self.effective_date.isoformat(), "reason": self.reason,
            "document_ref": self.document_ref, "author": self.author,
            "created_at": str(self.created_at) if self.created_at is not None else None,
            "base_versions": self.base_versions, "applied_change_id": self.applied_change_id,
            "reverted_change_id": self.reverted_change_id,
        }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_COLUMNS = ("id, status, level, kind, from_code, to_code, child_codes, ST_AsBinary(area), parts, merge_codes, "
            "effective_date, reason, document_ref, author, created_at, base_versions, applied_change_id, "
            "reverted_change_id")


def _record(row: Any) -> ProposalRecord:
    (pid, status, level, kind, from_code, to_code, child_codes, area, parts, merge_codes, day, reason, ref, author,
     created, base, applied, reverted) = row
    parts = _json(parts)
    return ProposalRecord(
        id=int(pid), status=status, level=level, kind=kind, from_code=from_code, to_code=to_code,
        child_codes=_json(child_codes), area=shapely.from_wkb(bytes(area)) if area is not None else None,
        parts=[shape(p) for p in parts] if parts is not None else None, merge_codes=_json(merge_codes),
        effective_date=as_date(day), reason=reason, document_ref=ref, author=author,  # type: ignore[arg-type]
        created_at=created, base_versions=_json(base) or {}, applied_change_id=applied, reverted_change_id=reverted,
    )


def insert_draft(conn: Connection, plan: Plan) -> int:
    """Store a draft pinned to the versions its plan was computed against."""
    req = plan.request
    drawn = req.area if req.kind == "move" else plan.territory if req.kind == "split" else None
    area = shapely.to_wkb(shapely.multipolygons(shapely.get_parts(drawn))) if drawn is not None else None
    geom = "ST_Multi(ST_GeomFromWKB(:area, 4326))" if area is not None else "NULL"
    pid = conn.execute(
        text(
            "INSERT INTO proposals (status, level, kind, from_code, to_code, child_codes, area, parts, merge_codes, "
            f"effective_date, reason, document_ref, author, base_versions) VALUES ('draft', :level, :kind, :a, :b, "
            f":children, {geom}, :parts, :merged, :day, :reason, :ref, :author, :base) RETURNING id"
        ),
        {"level": plan.level, "kind": req.kind, "a": req.from_code, "b": req.to_code,
         "children": json.dumps(list(req.child_codes)) if req.child_codes is not None else None,
         "parts": json.dumps([mapping(p) for p in _split_parts(plan)]) if req.kind == "split" else None,
         "merged": json.dumps(list(req.merge_codes)) if req.merge_codes is not None else None,
         "area": area, "day": req.effective_date, "reason": req.reason, "ref": req.document_ref,
         "author": req.author, "base": json.dumps(plan.base_versions)},
    ).scalar_one()
    return int(pid)


def _split_parts(plan: Plan) -> list[BaseGeometry]:
    """A split's parts as cleaned by its plan (clipped to the grid, crumbs handed over)."""
    return [u.geom_after for u in plan.units if u.created]


def load_proposal(conn: Connection, proposal_id: int) -> ProposalRecord:
    """The proposal, or NotFound."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM proposals WHERE id = :id"), {"id": proposal_id}).first()
    if row is None:
        raise NotFound(f"no proposal {proposal_id}", field="id")
    return _record(row)


def find_proposals(conn: Connection, *, status: str | None = None, unit: str | None = None,
                   limit: int = 200) -> list[ProposalRecord]:
    """Proposals, newest first, optionally of one status or touching one unit (as from or to)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if status:
        where.append("status = :status")
        params["status"] = status
    if unit:  # merge_codes is a JSON list of codes, whose quoted form cannot match a longer code
        where.append("(from_code = :unit OR to_code = :unit OR CAST(merge_codes AS TEXT) LIKE :quoted)")
        params["unit"], params["quoted"] = unit, f'%"{unit}"%'
    sql = f"SELECT {_COLUMNS} FROM proposals" + (" WHERE " + " AND ".join(where) if where else "")
    return [_record(r) for r in conn.execute(text(sql + " ORDER BY id DESC LIMIT :limit"), params)]


def set_base_versions(conn: Connection, proposal_id: int, base_versions: dict[str, int]) -> None:
    """Re-pin a draft to the versions its plan is now computed against."""
    conn.execute(text("UPDATE proposals SET base_versions = :b WHERE id = :id AND status = 'draft'"),
                 {"b": json.dumps(base_versions), "id": proposal_id})


def set_status(conn: Connection, proposal_id: int, status: str, *, change_id: int) -> None:
    """Record that a proposal was applied or reverted by a logged change."""
    column = "applied_change_id" if status == "applied" else "reverted_change_id"
    conn.execute(text(f"UPDATE proposals SET status = :s, {column} = :c WHERE id = :id"),
                 {"s": status, "c": change_id, "id": proposal_id})


def log_change(conn: Connection, *, kind: str, proposal_id: int | None, author: str, day: dt.date,
               reason: str | None, document_ref: str | None, units: list[str], summary: dict[str, Any]) -> int:
    """Append a change-log row; its id ties every version the change writes to it."""
    stmt = insert(ChangeLog).values(
        kind=kind, proposal_id=proposal_id, author=author, effective_date=day, reason=reason,
        document_ref=document_ref, units=sorted(units), summary=summary,
    ).returning(ChangeLog.id)
    return int(conn.execute(stmt).scalar_one())


def lock_for_change(conn: Connection, proposal_id: int, codes: list[str]) -> dict[str, int]:
    """Serialise writers on these units; return the latest version of each code.

    PostGIS: row locks on the proposal and the units' open versions (in code order, so two
    writers cannot deadlock). SpatiaLite: a first write takes the database's write lock, so the
    versions read afterwards cannot change before commit.
    """
    if conn.dialect.name == "sqlite":
        conn.execute(text("UPDATE proposals SET status = status WHERE id = :id"), {"id": proposal_id})
        lock = ""
    else:
        conn.execute(text("SELECT id FROM proposals WHERE id = :id FOR UPDATE"), {"id": proposal_id})
        lock = " FOR UPDATE"
    rows = conn.execute(
        text(f"SELECT code, version FROM units WHERE valid_to IS NULL AND code IN :codes ORDER BY code{lock}")
        .bindparams(bindparam("codes", expanding=True)), {"codes": sorted(codes) or [""]},
    ).all()
    return {code: int(version) for code, version in rows}
