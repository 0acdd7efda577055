"""Proposal rows and change-log rows: storing drafts, loading, listing, recording status and the audit trail."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, insert, text

from geo.access import Actor
from geo.errors import Conflict, Forbidden, NotFound
from geo.models import ChangeLog
from geo.reassign.model import Plan, ProposalRequest
from geo.store import as_date

# A draft is applied (in force, or "scheduled" while its effective date is ahead), then possibly
# reverted (reversed, 恢复: a new decision) or cancelled (撤销: erased from the as-of history); a draft
# may also be withdrawn. "scheduled" is a filter, not a stored status: it turns into "in force" by date.
STATUSES = ("draft", "applied", "reverted", "cancelled", "withdrawn")
LIST_STATUSES = (*STATUSES, "scheduled", "reversed")


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
    cancelled_change_id: int | None = None
    workers_moved: int = 0
    allow_non_adjacent: bool = True
    key_name: str | None = None
    key_role: str | None = None

    @property
    def scheduled(self) -> bool:
        """Applied, but not yet in effect."""
        return self.status == "applied" and self.effective_date > dt.date.today()

    def request(self) -> ProposalRequest:
        """The request this proposal was made from (to recompute its plan)."""
        return ProposalRequest(
            kind=self.kind, from_code=self.from_code, to_code=self.to_code, effective_date=self.effective_date,
            author=self.author, child_codes=tuple(self.child_codes) if self.child_codes is not None else None,
            area=self.area if self.kind == "move" else None,
            parts=tuple(self.parts) if self.parts is not None else None,
            merge_codes=tuple(self.merge_codes) if self.merge_codes is not None else None,
            reason=self.reason, document_ref=self.document_ref, allow_non_adjacent=self.allow_non_adjacent,
            workers_moved=self.workers_moved,
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
            "reverted_change_id": self.reverted_change_id, "cancelled_change_id": self.cancelled_change_id,
            "scheduled": self.scheduled, "workers_moved": self.workers_moved,
            "allow_non_adjacent": self.allow_non_adjacent, "key_name": self.key_name, "key_role": self.key_role,
        }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_COLUMNS = ("id, status, level, kind, from_code, to_code, child_codes, ST_AsBinary(area), parts, merge_codes, "
            "effective_date, reason, document_ref, author, created_at, base_versions, applied_change_id, "
            "reverted_change_id, cancelled_change_id, workers_moved, allow_non_adjacent, key_name, key_role")


def _record(row: Any) -> ProposalRecord:
    (pid, status, level, kind, from_code, to_code, child_codes, area, parts, merge_codes, day, reason, ref, author,
     created, base, applied, reverted, cancelled, workers, non_adjacent, key_name, key_role) = row
    parts = _json(parts)
    return ProposalRecord(
        id=int(pid), status=status, level=level, kind=kind, from_code=from_code, to_code=to_code,
        child_codes=_json(child_codes), area=shapely.from_wkb(bytes(area)) if area is not None else None,
        parts=[shape(p) for p in parts] if parts is not None else None, merge_codes=_json(merge_codes),
        effective_date=as_date(day), reason=reason, document_ref=ref, author=author,  # type: ignore[arg-type]
        created_at=created, base_versions=_json(base) or {}, applied_change_id=applied, reverted_change_id=reverted,
        cancelled_change_id=cancelled, workers_moved=int(workers or 0),
        # Drafts stored before the flag was kept were checked when made; recomputing them does not re-ask.
        allow_non_adjacent=True if non_adjacent is None else bool(non_adjacent), key_name=key_name, key_role=key_role,
    )


def _draft_values(plan: Plan) -> tuple[dict[str, Any], str]:
    """Column values of a draft computed as ``plan``, and the SQL for its area."""
    req = plan.request
    drawn = req.area if req.kind == "move" else plan.territory if req.kind == "split" else None
    area = shapely.to_wkb(shapely.multipolygons(shapely.get_parts(drawn))) if drawn is not None else None
    geom = "ST_Multi(ST_GeomFromWKB(:area, 4326))" if area is not None else "NULL"
    values = {
        "level": plan.level, "kind": req.kind, "a": req.from_code, "b": req.to_code,
        "children": json.dumps(list(req.child_codes)) if req.child_codes is not None else None,
        "parts": json.dumps([mapping(p) for p in _split_parts(plan)]) if req.kind == "split" else None,
        "merged": json.dumps(list(req.merge_codes)) if req.merge_codes is not None else None,
        "area": area, "day": req.effective_date, "reason": req.reason, "ref": req.document_ref,
        "author": req.author, "base": json.dumps(plan.base_versions), "workers": req.workers_moved or None,
        "non_adjacent": req.allow_non_adjacent,
    }
    return values, geom


def insert_draft(conn: Connection, plan: Plan, actor: Actor | None = None) -> int:
    """Store a draft pinned to the versions its plan was computed against, owned by ``actor``'s key."""
    values, geom = _draft_values(plan)
    pid = conn.execute(
        text(
            "INSERT INTO proposals (status, level, kind, from_code, to_code, child_codes, area, parts, merge_codes, "
            "effective_date, reason, document_ref, author, base_versions, workers_moved, allow_non_adjacent, "
            f"key_name, key_role) VALUES ('draft', :level, :kind, :a, :b, :children, {geom}, :parts, :merged, "
            ":day, :reason, :ref, :author, :base, :workers, :non_adjacent, :key_name, :key_role) RETURNING id"
        ),
        {**values, "key_name": actor.name if actor else None, "key_role": actor.role if actor else None},
    ).scalar_one()
    record_event(conn, int(pid), "create", author=plan.request.author, actor=actor)
    return int(pid)


def update_draft(conn: Connection, proposal_id: int, plan: Plan) -> None:
    """Replace a draft's request and pins by an edited plan (the proposal keeps its id and owner)."""
    values, geom = _draft_values(plan)
    conn.execute(text(
        "UPDATE proposals SET level = :level, kind = :kind, from_code = :a, to_code = :b, child_codes = :children, "
        f"area = {geom}, parts = :parts, merge_codes = :merged, effective_date = :day, reason = :reason, "
        "document_ref = :ref, base_versions = :base, workers_moved = :workers, allow_non_adjacent = :non_adjacent "
        "WHERE id = :id AND status = 'draft'"), {**values, "id": proposal_id})


def record_event(conn: Connection, proposal_id: int, action: str, *, author: str, actor: Actor | None,
                 note: str | None = None, change_id: int | None = None) -> None:
    """Append to a proposal's audit trail (created, edited, withdrawn, applied, reverted, cancelled, …)."""
    conn.execute(text("INSERT INTO proposal_events (proposal_id, action, author, key_name, key_role, note, change_id) "
                      "VALUES (:p, :a, :author, :kn, :kr, :note, :c)"),
                 {"p": proposal_id, "a": action, "author": author, "kn": actor.name if actor else None,
                  "kr": actor.role if actor else None, "note": note, "c": change_id})


def proposal_events(conn: Connection, proposal_id: int) -> list[dict[str, Any]]:
    """A proposal's audit trail, oldest first."""
    rows = conn.execute(text("SELECT action, author, key_name, key_role, recorded_at, note, change_id "
                             "FROM proposal_events WHERE proposal_id = :p ORDER BY id"), {"p": proposal_id})
    return [{"action": a, "author": au, "key_name": kn, "key_role": kr, "recorded_at": str(at), "note": note,
             "change_id": c} for a, au, kn, kr, at, note, c in rows]


def _split_parts(plan: Plan) -> list[BaseGeometry]:
    """A split's parts as cleaned by its plan (clipped to the grid, crumbs handed over)."""
    return [u.geom_after for u in plan.units if u.created]


def load_proposal(conn: Connection, proposal_id: int) -> ProposalRecord:
    """The proposal, or NotFound."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM proposals WHERE id = :id"), {"id": proposal_id}).first()
    if row is None:
        raise NotFound(f"no proposal {proposal_id}", field="id")
    return _record(row)


def like_escaped(value: str) -> str:
    r"""``value`` for a LIKE pattern with ``ESCAPE '\'``: its own % and _ match only themselves."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _proposal_filter(status: str | None, unit: str | None) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if status == "scheduled":
        where.append("status = 'applied' AND effective_date > :today")
        params["today"] = dt.date.today()
    elif status:
        where.append("status = :status")
        params["status"] = "reverted" if status == "reversed" else status
    if unit:  # merge_codes is a JSON list of codes, whose quoted form cannot match a longer code
        where.append("(from_code = :unit OR to_code = :unit OR CAST(merge_codes AS TEXT) LIKE :quoted ESCAPE '\\')")
        params["unit"], params["quoted"] = unit, f'%"{like_escaped(unit)}"%'
    return (" WHERE " + " AND ".join(where) if where else ""), params


def find_proposals(conn: Connection, *, status: str | None = None, unit: str | None = None,
                   limit: int = 200, offset: int = 0) -> list[ProposalRecord]:
    """Proposals, newest first, optionally of one status (or "scheduled") or touching one unit."""
    where, params = _proposal_filter(status, unit)
    sql = f"SELECT {_COLUMNS} FROM proposals{where} ORDER BY id DESC LIMIT :limit OFFSET :offset"
    return [_record(r) for r in conn.execute(text(sql), {**params, "limit": limit, "offset": offset})]


def count_proposals(conn: Connection, *, status: str | None = None, unit: str | None = None) -> int:
    """How many proposals :func:`find_proposals` pages through."""
    where, params = _proposal_filter(status, unit)
    return int(conn.execute(text(f"SELECT count(*) FROM proposals{where}"), params).scalar_one())


def set_base_versions(conn: Connection, proposal_id: int, base_versions: dict[str, int]) -> None:
    """Re-pin a draft to the versions its plan is now computed against."""
    conn.execute(text("UPDATE proposals SET base_versions = :b WHERE id = :id AND status = 'draft'"),
                 {"b": json.dumps(base_versions), "id": proposal_id})


_STATUS_COLUMN = {"applied": "applied_change_id", "reverted": "reverted_change_id",
                  "cancelled": "cancelled_change_id"}


def set_status(conn: Connection, proposal_id: int, status: str, *, change_id: int | None) -> None:
    """Record a proposal's new status and the logged change that gave it (none for a withdrawal)."""
    column = _STATUS_COLUMN.get(status)
    extra = f", {column} = :c" if column else ""
    conn.execute(text(f"UPDATE proposals SET status = :s{extra} WHERE id = :id"),
                 {"s": status, "c": change_id, "id": proposal_id})


def reinstate(conn: Connection, proposal_id: int) -> None:
    """A cancelled reversal: the proposal is applied again, as before it was reversed."""
    conn.execute(text("UPDATE proposals SET status = 'applied', reverted_change_id = NULL WHERE id = :id"),
                 {"id": proposal_id})


def log_change(conn: Connection, *, kind: str, proposal_id: int | None, author: str, day: dt.date,
               reason: str | None, document_ref: str | None, units: list[str], summary: dict[str, Any],
               actor: Actor | None = None, undoes: int | None = None) -> int:
    """Append a change-log row; its id ties every version the change writes to it."""
    stmt = insert(ChangeLog).values(
        kind=kind, proposal_id=proposal_id, author=author, effective_date=day, reason=reason,
        document_ref=document_ref, units=sorted(units), summary=summary, undoes=undoes,
        key_name=actor.name if actor else None, key_role=actor.role if actor else None,
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


def check_owner(record: ProposalRecord, actor: Actor | None, action: str) -> None:
    """A planner acts on their own proposals; an approver (or admin) on anyone's (see Actor.may_act_for)."""
    if actor is not None and not actor.may_act_for(record.key_name):
        raise Forbidden(f"proposal {record.id} was proposed by key {record.key_name}; only its proposer or an "
                        f"approver may act on it ({action})", field="id",
                        zh=f"方案 {record.id} 由密钥 {record.key_name} 提出；只有提出者或审核人可以操作（{action}）")


def locked_proposal(conn: Connection, proposal_id: int, *, expect: tuple[str, ...], action: str,
            actor: Actor | None) -> tuple[ProposalRecord, dict[str, int]]:
    """The proposal re-read under the writers' lock, checked to be in one of ``expect`` and the actor's to act on."""
    record = load_proposal(conn, proposal_id)
    latest = lock_for_change(conn, proposal_id, list(record.base_versions))
    record = load_proposal(conn, proposal_id)
    if record.status not in expect:
        wanted = " or ".join(expect)
        article = "an" if wanted[0] in "aeiou" else "a"
        already = "already " if record.status != "draft" else ""
        raise Conflict(f"proposal {proposal_id} is {already}{record.status}: only {article} {wanted} proposal can be "
                       f"{action}", field="id")
    check_owner(record, actor, action)
    return record, latest
