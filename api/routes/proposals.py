"""Boundary-change proposals: create (draft), read with preview, list, apply, revert."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape

from api.deps import EngineDep, ReadEngineDep
from api.security import PlannerDep, ReaderDep
from geo.crs import geometries_gcj02_to_wgs84
from geo.errors import InvalidInput
from geo.reassign import (
    ProposalRequest,
    apply_proposal,
    create_proposal,
    list_proposals,
    preview_proposal,
    rebase_proposal,
    revert_proposal,
    what_if,
)

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
    allow_non_adjacent: bool = False


def _geometry(data: dict[str, Any] | None, crs: str, field: str) -> Any:
    if data is None:
        return None
    try:
        geom = shape(data)
    except Exception as exc:  # noqa: BLE001 - any malformed GeoJSON is the caller's to fix
        raise InvalidInput(f"{field} is not a GeoJSON geometry: {exc}", field=field) from None
    return _to_wgs84(geom, crs)


def _to_wgs84(geom: Any, area_crs: str) -> Any:
    crs = area_crs.strip().upper()
    if crs in ("GCJ-02", "GCJ02"):
        return geometries_gcj02_to_wgs84(geom)
    if crs in ("EPSG:4326", "EPSG:4490", "CRS84", "OGC:CRS84"):
        return geom
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(area_crs)
    except CRSError:
        raise InvalidInput(f"unknown CRS {area_crs!r}", field="area_crs") from None
    to_wgs84 = Transformer.from_crs(source, 4326, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))


def _request(body: ProposalBody) -> ProposalRequest:
    """The domain request; a field the kind needs but lacks is named in the error."""
    merge_codes = tuple(body.merge_codes) if body.merge_codes is not None else None
    from_code = body.from_code
    if body.kind == "merge" and merge_codes:
        from_code = from_code or merge_codes[0]
    if not from_code:
        raise InvalidInput(f"a {body.kind} needs from_code", field="from_code")
    parts = None
    if body.parts is not None:
        parts = tuple(_geometry(p, body.area_crs, "parts") for p in body.parts)
    return ProposalRequest(
        kind=body.kind, from_code=from_code, to_code=body.to_code, effective_date=body.effective_date,
        author=body.author, child_codes=tuple(body.child_codes) if body.child_codes is not None else None,
        area=_geometry(body.area, body.area_crs, "area"), parts=parts, merge_codes=merge_codes,
        reason=body.reason, document_ref=body.document_ref, allow_non_adjacent=body.allow_non_adjacent,
    )


@router.post("", status_code=201, summary="Propose a boundary change (draft)")
def create(body: ProposalBody, engine: EngineDep, _: PlannerDep) -> dict[str, Any]:
    """Check the change and store it as a draft pinned to the current versions; answer with its preview."""
    proposal_id = create_proposal(engine, _request(body))
    return preview_proposal(engine, proposal_id)


@router.post("/preview", summary="What-if: preview a change without storing it")
def preview(body: ProposalBody, engine: EngineDep, _: PlannerDep) -> dict[str, Any]:
    """The preview a draft would have (same shape as ``GET /proposals/{id}``'s ``preview``); nothing is stored."""
    return what_if(engine, _request(body))


@router.get("", summary="List proposals")
def index(
    engine: ReadEngineDep,
    _: ReaderDep,
    status: Annotated[Literal["draft", "applied", "reverted"] | None, Query()] = None,
    unit: Annotated[str | None, Query(description="Proposals moving from or to this unit.")] = None,
) -> dict[str, Any]:
    """Proposals, newest first."""
    return {"proposals": list_proposals(engine, status=status, unit=unit)}


@router.get("/{proposal_id}", summary="A proposal and its preview")
def read(proposal_id: ProposalId, engine: EngineDep, _: ReaderDep) -> dict[str, Any]:
    """The proposal; for a draft, what it would do now (and whether its units changed since)."""
    return preview_proposal(engine, proposal_id)


class ApplyBody(BaseModel):
    """Who applies or reverts."""

    author: str = Field(min_length=1, max_length=200)
    effective_date: dt.date | None = Field(default=None, description="For a revert: when it takes effect.")
    reason: str | None = Field(default=None, max_length=2000)


@router.post("/{proposal_id}/apply", summary="Apply a draft (atomic)")
def apply(proposal_id: ProposalId, body: ApplyBody, engine: EngineDep, _: PlannerDep) -> dict[str, Any]:
    """Write the change in one transaction; 409 if it is not a draft or its units changed since."""
    if body.effective_date is not None:
        raise InvalidInput("the effective date of an apply is the proposal's own", field="effective_date")
    return apply_proposal(engine, proposal_id, author=body.author)


@router.post("/{proposal_id}/rebase", summary="Recompute a stale draft against the current map")
def rebase(proposal_id: ProposalId, engine: EngineDep, _: PlannerDep) -> dict[str, Any]:
    """Re-pin a draft whose units changed since it was made (its request is unchanged); the new preview.

    422 when the change no longer makes sense on the current map; 409 when it is not a draft.
    """
    return rebase_proposal(engine, proposal_id)


@router.post("/{proposal_id}/revert", summary="Revert an applied proposal")
def revert(proposal_id: ProposalId, body: ApplyBody, engine: EngineDep, _: PlannerDep) -> dict[str, Any]:
    """Undo the change as a new change (history keeps both); 409 if later changes touched its units."""
    return revert_proposal(engine, proposal_id, author=body.author, effective_date=body.effective_date,
                           reason=body.reason)
