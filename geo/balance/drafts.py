"""Suggested moves as draft proposals (:mod:`geo.reassign`), and applying them one after another.

Each move (grids from one community to another) is one proposal. The moves obey the ordering-free
contiguity rules of :mod:`.problem`, so they can be applied in any order. A draft is pinned to the
versions of the units it was computed against; once an earlier move has changed a community that a
later draft also touches, that draft is stale (409). :func:`apply_drafts` therefore recomputes a
stale draft against the current versions (a new draft, noted in the answer) and applies that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from geo.balance.moves import Move
from geo.errors import Conflict
from geo.reassign import ProposalRequest, apply_proposal, create_proposal
from geo.reassign.proposals import load_proposal

REASON = "load balancing: {from_name} → {to_name}, {n} grid(s), {residents} residents"


def requests_for(moves: Sequence[Move], *, effective_date: dt.date, author: str, reason: str | None = None,
                 document_ref: str | None = None) -> list[ProposalRequest]:
    """One proposal request per move: its grids, whole, from one community to the other."""
    return [
        ProposalRequest(
            from_code=m.from_code, to_code=m.to_code, effective_date=effective_date, author=author,
            child_codes=m.grid_codes, document_ref=document_ref,
            reason=reason or REASON.format(from_name=m.from_name, to_name=m.to_name, n=len(m.grid_codes),
                                           residents=m.residents),
        )
        for m in moves
    ]


def create_drafts(engine: Engine, requests: Sequence[ProposalRequest]) -> list[int]:
    """Store every request as a draft; their ids, in order."""
    return [create_proposal(engine, request) for request in requests]


def apply_drafts(engine: Engine, proposal_ids: Sequence[int], *, author: str) -> list[dict[str, Any]]:
    """Apply drafts in order; a draft made stale by an earlier one is recomputed and the new one applied."""
    out = []
    for pid in proposal_ids:
        try:
            applied = apply_proposal(engine, pid, author=author)
            out.append({"proposal_id": pid, "applied_id": pid, "change_id": applied["change_id"]})
        except Conflict:
            with engine.connect() as conn:
                record = load_proposal(conn, pid)
            if record.status != "draft":
                raise
            request = record.request()
            fresh = create_proposal(engine, ProposalRequest(
                from_code=request.from_code, to_code=request.to_code, effective_date=request.effective_date,
                author=request.author, child_codes=request.child_codes, reason=request.reason,
                document_ref=request.document_ref,
            ))
            applied = apply_proposal(engine, fresh, author=author)
            out.append({"proposal_id": pid, "applied_id": fresh, "change_id": applied["change_id"],
                        "note": f"proposal {pid} was stale after the moves before it; recomputed as {fresh}"})
    return out
