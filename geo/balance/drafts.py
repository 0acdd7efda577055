"""Suggestions as draft proposals (:mod:`geo.reassign`), and applying them one after another.

Grid moves between communities become moves; big grids become splits and groups of tiny grids merges.

Each move (grids from one community to another) is one proposal. The moves obey the ordering-free
contiguity rules of :mod:`.problem`, so they can be applied in any order. A draft is pinned to the
versions of the units it was computed against; once an earlier move has changed a community that a
later draft also touches, that draft is stale (409). :func:`apply_drafts` therefore recomputes a
stale draft against the current versions (re-pins it, noted in the answer) and applies it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from geo.access import Actor
from geo.balance.moves import Move
from geo.balance.splits import GridMerge, GridPlan, GridSplit
from geo.errors import Conflict, InvalidInput
from geo.reassign import ProposalRequest, apply_proposal, rebase_proposal
from geo.reassign.proposals import load_proposal

REASON = "load balancing: {from_name} → {to_name}, {n} grid(s), {residents} residents"
SPLIT_REASON = "grid size: split {code} ({households} households) into {parts}"
MERGE_REASON = "grid size: merge {codes} ({households} households together)"


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


def grid_requests(plan: GridPlan, *, effective_date: dt.date, author: str, reason: str | None = None,
                  document_ref: str | None = None) -> list[tuple[GridSplit | GridMerge, ProposalRequest]]:
    """Each suggestion with its request: a split per big grid, a merge per group of tiny grids.

    A split's first part keeps the grid's code; a merge keeps the group's first code. Splits that
    found no contiguous cut are left out (they are listed with a note for a planner to draw).
    """
    out: list[tuple[GridSplit | GridMerge, ProposalRequest]] = []
    for split in plan.splits:
        if len(split.parts) < 2:
            continue
        out.append((split, ProposalRequest(
            kind="split", from_code=split.grid_code, to_code=None, effective_date=effective_date, author=author,
            parts=tuple(p.geometry for p in split.parts[1:]), document_ref=document_ref,
            reason=reason or SPLIT_REASON.format(code=split.grid_code, households=split.households,
                                                 parts=" + ".join(str(p.households) for p in split.parts)),
        )))
    for merge in plan.merges:
        keep, *merged = merge.grid_codes
        out.append((merge, ProposalRequest(
            kind="merge", from_code=merged[0], to_code=keep, merge_codes=tuple(merged), effective_date=effective_date,
            author=author, document_ref=document_ref,
            reason=reason or MERGE_REASON.format(codes=", ".join(merge.grid_codes), households=merge.households),
        )))
    return out


def draft_grid_plan(engine: Engine, plan: GridPlan, *, effective_date: dt.date, author: str,
                    reason: str | None = None, document_ref: str | None = None,
                    actor: Actor | None = None) -> tuple[list[int], list[dict[str, Any]]]:
    """Store the plan's splits and merges as drafts, each on its own, noting each draft's id on its suggestion.

    A suggestion whose draft is refused is skipped with its reason; the others stand.
    """
    from geo.balance.plan import store_drafts

    pairs = grid_requests(plan, effective_date=effective_date, author=author, reason=reason,
                          document_ref=document_ref)
    ids, skipped = store_drafts(engine, [request for _, request in pairs], actor=actor)
    for (suggestion, _), pid in zip(pairs, ids, strict=True):
        suggestion.proposal_id = pid
    for item in skipped:
        item["suggestion"] = getattr(pairs[item["index"]][0], "grid_code", None) or list(
            getattr(pairs[item["index"]][0], "grid_codes", ()))
    return [pid for pid in ids if pid is not None], skipped


def apply_drafts(engine: Engine, proposal_ids: Sequence[int], *, author: str, stop_on_refusal: bool = False,
                 actor: Actor | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Apply drafts in order; a draft made stale by an earlier one is re-pinned to the current map and applied.

    Every id is checked before any is applied: drafts are applied, members already applied (a batch
    sent again after a crash part-way) are reported as such and passed over, anything else refuses
    the batch. Each draft applies atomically. A draft that is refused is skipped with its reason and
    the rest are tried (the answer lists both); with ``stop_on_refusal`` the first refusal raises
    instead, saying what was applied before it. Returns (applied, skipped).
    """
    if len(set(proposal_ids)) != len(proposal_ids):
        raise InvalidInput("proposal_ids names a proposal twice", field="proposal_ids")
    with engine.connect() as conn:
        status = {pid: load_proposal(conn, pid).status for pid in proposal_ids}
    wrong = [f"{pid} is {s}" for pid, s in status.items() if s not in ("draft", "applied")]
    if wrong:
        raise Conflict(f"proposal {'; '.join(wrong)}, neither a draft nor applied; nothing was applied",
                       field="proposal_ids")
    out: list[dict[str, Any]] = [{"proposal_id": pid, "already_applied": True}
                                 for pid in proposal_ids if status[pid] == "applied"]
    skipped: list[dict[str, Any]] = []
    for pid in [p for p in proposal_ids if status[p] == "draft"]:
        try:
            out.append(_apply_one(engine, pid, author=author, actor=actor))
        except (Conflict, InvalidInput) as exc:  # the same kind of error, saying what was applied
            if not stop_on_refusal:
                skipped.append({"proposal_id": pid, "reason": exc.message, "field": exc.field})
                continue
            done = ", ".join(str(step["proposal_id"]) for step in out) or "none"
            kind = Conflict if isinstance(exc, Conflict) else InvalidInput
            raise kind(f"proposal {pid} was refused: {exc.message}. Applied before it: {done}; "
                       "the rest were not applied", field="proposal_ids") from None
    return out, skipped


def _apply_one(engine: Engine, pid: int, *, author: str, actor: Actor | None) -> dict[str, Any]:
    step = _apply_or_rebase(engine, pid, author=author, actor=actor)
    from geo.groups.service import repropose_after_change

    with engine.connect() as conn:
        day = load_proposal(conn, pid).effective_date
    groups = repropose_after_change(engine, step["change_id"], day)
    return {**step, "groups": groups} if groups else step


def _apply_or_rebase(engine: Engine, pid: int, *, author: str, actor: Actor | None) -> dict[str, Any]:
    try:
        applied = apply_proposal(engine, pid, author=author, actor=actor)
        return {"proposal_id": pid, "change_id": applied["change_id"]}
    except Conflict:
        with engine.connect() as conn:
            if load_proposal(conn, pid).status != "draft":
                raise
    rebase_proposal(engine, pid, actor=actor)  # an earlier change touched its units (or their parents)
    applied = apply_proposal(engine, pid, author=author, actor=actor)
    return {"proposal_id": pid, "change_id": applied["change_id"],
            "note": f"proposal {pid} was stale after the changes before it; recomputed against the current map"}
