"""Boundary-change proposals: draft (create, what-if, edit, withdraw), apply, reverse (恢复), cancel (撤销), rebase."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape

from api.deps import EngineDep, ReadEngineDep
from api.drawn import check_area, check_vertices
from api.paging import page_links
from api.security import PlannerDep, ReaderDep
from geo.crs import to_wgs84
from geo.errors import Conflict, InvalidInput
from geo.reassign import (
    ProposalRequest,
    apply_proposal,
    cancel_proposal,
    count_all_proposals,
    create_proposal,
    edit_proposal,
    list_proposals,
    preview_proposal,
    rebase_proposal,
    revert_proposal,
    what_if,
    withdraw_proposal,
)
from geo.reassign.territory import losing_unit_for

router = APIRouter(prefix="/proposals", tags=["proposals"])

ProposalId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The proposal's id.")]

NANJIAO_EXAMPLE: dict[str, Any] = {
    "from_code": "520402006006", "to_code": "520402006009", "child_codes": ["520402006006001"],
    "effective_date": "2025-03-01", "reason": "缓解南郊社区管理压力", "document_ref": "西华办〔2025〕7号",
    "author": "华西街道规划员",
}


SPLIT_EXAMPLE: dict[str, Any] = {
    "kind": "split", "from_code": "520402006006001",
    "parts": [{"type": "Polygon", "coordinates": [[[105.93, 26.24], [105.94, 26.24], [105.94, 26.25],
                                                   [105.93, 26.24]]]}],
    "effective_date": "2025-03-01", "author": "华西街道规划员",
}
MERGE_EXAMPLE: dict[str, Any] = {
    "kind": "merge", "to_code": "520402006006001", "merge_codes": ["520402006006002"],
    "effective_date": "2025-03-01", "author": "华西街道规划员",
}


class ProposalBody(BaseModel):
    """A boundary change: a move to a neighbour, a split of a grid into new grids, or a merge."""

    model_config = ConfigDict(json_schema_extra={"examples": [NANJIAO_EXAMPLE, SPLIT_EXAMPLE, MERGE_EXAMPLE]})

    kind: Literal["move", "split", "merge"] = Field(
        default="move", description="move: A's territory to B; split: parts of grid A become new grids; "
        "merge: the units of merge_codes join B and are retired.")
    from_code: str | None = Field(default=None, min_length=1, max_length=32,
                                  description="move: the unit that gives territory (A); split: the grid split.")
    to_code: str | None = Field(default=None, min_length=1, max_length=32,
                                description="move: the unit that receives it (B); merge: the unit that stays.")
    child_codes: list[str] | None = Field(default=None, description="move: units one level below A to move whole.")
    area: dict[str, Any] | None = Field(default=None, description="move: a drawn GeoJSON Polygon/MultiPolygon.")
    parts: list[dict[str, Any]] | None = Field(
        default=None, min_length=1, max_length=50,
        description="split: GeoJSON polygons within the grid, each to become a new grid; the rest keeps the code.")
    merge_codes: list[str] | None = Field(default=None, min_length=1, max_length=50,
                                          description="merge: units of one parent to join to_code and retire.")
    area_crs: str = Field(default="EPSG:4326",
                          description="CRS of `area` and `parts`: any EPSG code, or GCJ-02 (AMap).")
    effective_date: dt.date
    reason: str | None = Field(default=None, max_length=2000)
    document_ref: str | None = Field(default=None, max_length=200, description="文件号 of the decision.")
    author: str = Field(min_length=1, max_length=200)
    allow_non_adjacent: bool = Field(
        default=False, description="Allow a change that leaves a unit in several parts, encloses one, or moves "
        "ground to a unit it does not touch.")
    workers_moved: int = Field(default=0, ge=0, le=10_000,
                               description="move between communities: community workers who move with the ground.")


def _geometry(data: dict[str, Any] | None, crs: str, field: str) -> Any:
    if data is None:
        return None
    check_vertices([data], field)  # before parsing: a huge drawing is refused cheaply (422)
    try:
        geom = shape(data)
    except Exception as exc:  # noqa: BLE001 - any malformed GeoJSON is the caller's to fix
        raise InvalidInput(f"{field} is not a GeoJSON geometry: {exc}", field=field) from None
    return check_area(_to_wgs84(geom, crs), field)


def _to_wgs84(geom: Any, area_crs: str) -> Any:
    return to_wgs84(geom, area_crs, field="area_crs")


def _request(body: ProposalBody, engine: Any) -> ProposalRequest:
    """The domain request; a field the kind needs but lacks is named in the error.

    A drawn move without from_code takes the one unit the drawing lies in; over several, the error names them.
    """
    merge_codes = tuple(body.merge_codes) if body.merge_codes is not None else None
    from_code = body.from_code
    if body.kind == "merge" and merge_codes:
        from_code = from_code or merge_codes[0]
    area = _geometry(body.area, body.area_crs, "area")
    if not from_code and body.kind == "move" and area is not None and body.to_code:
        with engine.connect() as conn:
            from_code = losing_unit_for(conn, area, body.to_code)
    if not from_code:
        raise InvalidInput(f"a {body.kind} needs from_code", field="from_code")
    parts = None
    if body.parts is not None:
        check_vertices(body.parts, "parts")
        parts = tuple(_geometry(p, body.area_crs, "parts") for p in body.parts)
    return ProposalRequest(
        kind=body.kind, from_code=from_code, to_code=body.to_code, effective_date=body.effective_date,
        author=body.author, child_codes=tuple(body.child_codes) if body.child_codes is not None else None,
        area=area, parts=parts, merge_codes=merge_codes, reason=body.reason, document_ref=body.document_ref,
        allow_non_adjacent=body.allow_non_adjacent, workers_moved=body.workers_moved,
    )


@router.post("", status_code=201, summary="Propose a boundary change (draft)")
def create(body: ProposalBody, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """Check the change and store it as a draft pinned to the current versions; answer with its preview."""
    proposal_id = create_proposal(engine, _request(body, engine), actor=actor)
    return preview_proposal(engine, proposal_id)


@router.post("/preview", summary="What-if: preview a change without storing it")
def preview(body: ProposalBody, engine: EngineDep, _: PlannerDep) -> dict[str, Any]:
    """The preview a draft would have (same shape as ``GET /proposals/{id}``'s ``preview``); nothing is stored.

    A what-if is a question: a change that would be refused is answered 200 with ``preview`` null and
    ``refused`` (the error a draft would get: code, message, message_zh, field), so a live counter can
    say why while the planner is still picking. A request that cannot be read at all is still a 4xx.
    """
    request = _request(body, engine)
    try:
        return what_if(engine, request)
    except (InvalidInput, Conflict) as exc:
        from api.errors import error_body

        refused = error_body(exc.code, exc.message, exc.field, message_zh=getattr(exc, "zh", None))["error"]
        return {"preview": None, "refused": refused}


ListStatus = Literal["draft", "scheduled", "applied", "reverted", "reversed", "cancelled", "withdrawn"]


@router.get("", summary="List proposals")
def index(
    request: Request,
    engine: ReadEngineDep,
    _: ReaderDep,
    status: Annotated[ListStatus | None, Query(
        description="scheduled: applied with an effective date still ahead; reversed is reverted.")] = None,
    unit: Annotated[str | None, Query(max_length=32, description="Proposals moving from or to this unit.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Proposals, newest first, a page at a time (``next`` link)."""
    rows = list_proposals(engine, status=status, unit=unit, limit=limit, offset=offset)
    matched = count_all_proposals(engine, status=status, unit=unit)
    return {"proposals": rows, "numberMatched": matched, "numberReturned": len(rows),
            "links": page_links(request, offset=offset, limit=limit, matched=matched)}


@router.get("/{proposal_id}", summary="A proposal and its preview")
def read(proposal_id: ProposalId, engine: EngineDep, _: ReaderDep) -> dict[str, Any]:
    """The proposal, its audit trail (events); for a draft, what it would do now (and whether its units changed)."""
    return preview_proposal(engine, proposal_id)


class EditBody(BaseModel):
    """Fields of a draft to change; the others stay. The draft is recomputed and re-pinned."""

    author: str = Field(min_length=1, max_length=200, description="Who edits (kept in the audit trail).")
    effective_date: dt.date | None = None
    to_code: str | None = Field(default=None, min_length=1, max_length=32)
    child_codes: list[str] | None = Field(default=None, max_length=500)
    area: dict[str, Any] | None = None
    parts: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=50)
    merge_codes: list[str] | None = Field(default=None, min_length=1, max_length=50)
    area_crs: str = "EPSG:4326"
    reason: str | None = Field(default=None, max_length=2000)
    document_ref: str | None = Field(default=None, max_length=200)
    allow_non_adjacent: bool | None = None
    workers_moved: int | None = Field(default=None, ge=0, le=10_000)


@router.patch("/{proposal_id}", summary="Edit a draft")
def edit(proposal_id: ProposalId, body: EditBody, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """Change a draft's date, receiving unit, grids or area, parts, reason or 文件号; answer with the new preview."""
    changes = body.model_dump(exclude_unset=True, exclude={"author", "area_crs"})
    if "area" in changes:
        changes["area"] = _geometry(body.area, body.area_crs, "area")
    if "parts" in changes and body.parts is not None:
        changes["parts"] = [_geometry(p, body.area_crs, "parts") for p in body.parts]
    if not changes:
        raise InvalidInput("nothing to edit: give at least one field to change", field="body")
    return edit_proposal(engine, proposal_id, changes, author=body.author, actor=actor)


class ApplyBody(BaseModel):
    """Who applies, reverses or withdraws."""

    author: str = Field(min_length=1, max_length=200)
    effective_date: dt.date | None = Field(default=None, description="For a reversal: when it takes effect.")
    reason: str | None = Field(default=None, max_length=2000)


class UndoBody(BaseModel):
    """Who reverses or cancels, why, and whether later changes to the same units are undone with it."""

    author: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)
    effective_date: dt.date | None = Field(default=None, description="Reversal only: its date (default today).")
    cascade: bool = Field(default=False, description="Also undo the later changes to the same units, newest first.")


@router.post("/{proposal_id}/apply", summary="Apply a draft (atomic); a future date schedules it")
def apply(proposal_id: ProposalId, body: ApplyBody, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """Write the change in one transaction; 409 if it is not a draft or its units changed since.

    A planner applies their own proposals; an approver anyone's.
    """
    if body.effective_date is not None:
        raise InvalidInput("the effective date of an apply is the proposal's own", field="effective_date")
    result = apply_proposal(engine, proposal_id, author=body.author, actor=actor)
    return {**result, "groups": _regroup(engine, result["change_id"], result["proposal"]["effective_date"])}


def _regroup(engine: Any, change_id: int, day: str | dt.date) -> dict[str, Any]:
    """Residents' groups of the communities a change touched, re-proposed (those that had stored groups)."""
    from geo.groups.service import repropose_after_change

    when = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
    return repropose_after_change(engine, change_id, when)


@router.post("/{proposal_id}/rebase", summary="Recompute a stale draft against the current map")
def rebase(proposal_id: ProposalId, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """Re-pin a draft whose units changed since it was made (its request is unchanged); the new preview.

    422 when the change no longer makes sense on the current map; 409 when it is not a draft.
    """
    return rebase_proposal(engine, proposal_id, actor=actor)


@router.post("/{proposal_id}/withdraw", summary="Withdraw a draft")
def withdraw(proposal_id: ProposalId, body: ApplyBody, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """The draft stays in the list and the audit trail as withdrawn, and can no longer be applied."""
    return withdraw_proposal(engine, proposal_id, author=body.author, reason=body.reason, actor=actor)


@router.delete("/{proposal_id}", summary="Withdraw a draft (same as POST …/withdraw)")
def delete(proposal_id: ProposalId, engine: EngineDep, actor: PlannerDep,
           author: Annotated[str, Query(min_length=1, max_length=200)] = "api") -> dict[str, Any]:
    """Nothing is deleted: a draft is withdrawn (kept in the log); anything else is refused with 409."""
    return withdraw_proposal(engine, proposal_id, author=author, actor=actor)


@router.post("/{proposal_id}/reverse", summary="Reverse (恢复) an applied change as a new decision")
def reverse(proposal_id: ProposalId, body: UndoBody, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """Restore the map as it was before the change, effective on ``effective_date`` (default today).

    History keeps both. 409 naming the later changes to the same units that still stand, unless
    ``cascade`` reverses them too (newest first, one transaction). A change not yet in effect is cancelled.
    """
    result = revert_proposal(engine, proposal_id, author=body.author, effective_date=body.effective_date,
                             reason=body.reason, actor=actor, cascade=body.cascade)
    day = body.effective_date or dt.date.today()
    return {**result, "groups": _regroup(engine, result["change_id"], day)}


@router.post("/{proposal_id}/revert", summary="Reverse an applied change (old name of /reverse)")
def revert(proposal_id: ProposalId, body: UndoBody, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """Same as ``POST /proposals/{id}/reverse``."""
    return reverse(proposal_id, body, engine, actor)


@router.post("/{proposal_id}/cancel", summary="Cancel (撤销) a change entered by mistake or not yet in effect")
def cancel(proposal_id: ProposalId, body: UndoBody, engine: EngineDep, actor: PlannerDep) -> dict[str, Any]:
    """Erase the change (and its reversal, if any) from the as-of history; the audit log keeps who, when and why.

    ``reason`` is required. 409 naming the later changes to the same units, unless ``cascade`` cancels them too.
    """
    if body.effective_date is not None:
        raise InvalidInput("a cancellation has no date: the change is erased from the history", field="effective_date")
    return cancel_proposal(engine, proposal_id, author=body.author, reason=body.reason or "", actor=actor,
                           cascade=body.cascade)
