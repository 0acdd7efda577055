"""Load balancing: GET /load, POST /balance (+ /balance/apply), POST /staffing, POST /grid-splits (+ /drafts)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api import offload
from api.deps import EngineDep, ReadEngineDep
from api.limits import expensive, run_bounded
from api.params import AsOfDep, parse_datetime
from api.routes.events import EventLoad, event_load_query
from api.security import PlannerDep, ReaderDep
from geo.balance import BalanceOptions, Band, LoadOptions, LoadQuery, allocate, read_grid_plan, read_load, suggest_moves
from geo.balance.load import COMMUNITY_COLUMNS, EVENT_COLUMNS, SUBDISTRICT_COLUMNS, records
from geo.balance.splits import GridPlan, village_band_of
from geo.cells import safe_cell

router = APIRouter(tags=["balance"])
ExpensiveDep = Depends(expensive)  # a few at once, a few a minute per client (429 beyond)

Weight = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Norm = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]
Codes = list[Annotated[str, Field(max_length=32)]]


class LoadSettings(BaseModel):
    """How workload is weighed and judged (defaults: 18 workers per 10,000 residents, ±20 %)."""

    tolerance: float = Field(default=0.2, gt=0, lt=1, description="Band around the target: 0.2 = ±20 %.")
    norm: Norm = Field(default=18.0, description="Workers per 10,000 residents (国办发〔2021〕56号).")
    village_norm: Norm | None = Field(default=None, description="Villages' own norm; default: the same.")
    elderly_weight: Weight = 0.0
    children_weight: Weight = 0.0
    special_care_weight: Weight = 0.0

    def load_options(self) -> LoadOptions:
        return LoadOptions(tolerance=self.tolerance, norm=self.norm, village_norm=self.village_norm,
                           elderly_weight=self.elderly_weight, children_weight=self.children_weight,
                           special_care_weight=self.special_care_weight)


async def load_settings(
    tolerance: Annotated[float, Query(gt=0, lt=1, description="Band around the target (0–1), e.g. 0.2.")] = 0.2,
    norm: Annotated[float, Query(gt=0, le=10_000, allow_inf_nan=False, description="Workers per 10,000.")] = 18.0,
    village_norm: Annotated[float | None, Query(gt=0, le=10_000, allow_inf_nan=False)] = None,
    elderly_weight: Annotated[float, Query(ge=0, le=100, allow_inf_nan=False)] = 0.0,
    children_weight: Annotated[float, Query(ge=0, le=100, allow_inf_nan=False)] = 0.0,
    special_care_weight: Annotated[float, Query(ge=0, le=100, allow_inf_nan=False)] = 0.0,
) -> LoadOptions:
    """The load settings as query parameters."""
    return LoadOptions(norm=norm, village_norm=village_norm, tolerance=tolerance, elderly_weight=elderly_weight,
                       children_weight=children_weight, special_care_weight=special_care_weight)


@router.get("/load", response_model=None, summary="Workload per community or sub-district (JSON or CSV)")
def load(
    engine: ReadEngineDep,
    as_of: AsOfDep,
    _: ReaderDep,
    options: Annotated[LoadOptions, Depends(load_settings)],
    level: Annotated[str, Query(pattern="^(community|subdistrict)$")] = "community",
    subdistrict: Annotated[list[str] | None, Query(description="Sub-district codes (repeatable).")] = None,
    kind: Annotated[str | None, Query(pattern="^(urban|village)$")] = None,
    flag: Annotated[str | None, Query(pattern="^(over|under|ok)$")] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    events: Annotated[EventLoad | None, Depends(event_load_query)] = None,
) -> Response:
    """Residents, households, workers, residents per worker, households per grid, workload, ratio, flag.

    ``events=true`` adds each community's open, overdue and category-weighted events (and with
    ``events_weight`` > 0 counts them in the workload).
    """
    with engine.connect() as conn:
        if events is not None:
            options = dataclasses.replace(options, events_weight=events.weight)
        table = read_load(conn, as_of=as_of, options=options,
                          query=LoadQuery(level=level, subdistricts=tuple(subdistrict or ()), kind=kind, flag=flag),
                          events=events.table(conn) if events is not None else None)
    if format == "csv":
        out = io.StringIO()
        columns = COMMUNITY_COLUMNS if level == "community" else SUBDISTRICT_COLUMNS
        if events is not None and level == "community":
            columns = (*columns, *EVENT_COLUMNS)
        writer = csv.DictWriter(out, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in records(table))
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="load-{as_of.isoformat()}.csv"'})
    return JSONResponse({"as_of": as_of.isoformat(), "level": level, "options": options.__dict__,
                         "count": len(table), "rows": records(table)})


class BalanceRequest(LoadSettings):
    """What the suggestions must respect; by default they are stored as draft proposals."""

    datetime: str | None = Field(default=None, description="As-of date of the data; default today.")
    subdistricts: Codes = Field(default_factory=list, description="Scope; empty = every sub-district.")
    cross_subdistrict: bool = False
    locked_communities: Codes = Field(default_factory=list)
    locked_grids: Codes = Field(default_factory=list)
    required: Codes = Field(default_factory=list, description="Communities that must end within tolerance.")
    max_grids_lost: int | None = Field(default=None, ge=0, description="Most grids one community may lose.")
    allow_worse: bool = Field(default=False, description="May a community outside tolerance get further out?")
    relax: list[str] = Field(default_factory=list, max_length=3, examples=[["no_further"]],
                             description="Guarantees not to enforce, by name: keep_in_band (a community within "
                                         "tolerance stays within), no_further (none ends further from its target), "
                                         "receiver_cap (a receiving community never ends above the band).")
    time_limit: float = Field(default=30.0, gt=0, le=120, description="Seconds for all solves together.")
    workers_per_move: int = Field(default=0, ge=0, le=1000,
                                  description="Most community workers one move may carry from the giving to the "
                                              "receiving community (0: workers stay).")
    new_workers: int = Field(default=0, ge=0, le=100_000,
                             description="New workers to place after the moves (the combined plan).")
    draft: bool = Field(default=True, description="Store the moves as draft proposals.")
    effective_date: dt.date | None = Field(default=None, description="Of the drafts; default today.")
    reason: str | None = Field(default=None, max_length=2000)
    document_ref: str | None = Field(default=None, max_length=200)

    def balance_options(self) -> BalanceOptions:
        return BalanceOptions(
            load=self.load_options(), subdistricts=tuple(self.subdistricts), cross_subdistrict=self.cross_subdistrict,
            locked_communities=tuple(self.locked_communities), locked_grids=tuple(self.locked_grids),
            required=tuple(self.required), max_grids_lost=self.max_grids_lost, allow_worse=self.allow_worse,
            relax=tuple(self.relax), time_limit=self.time_limit,
        )


@router.post("/balance", response_model=None, summary="Suggest whole-grid moves that balance the load",
             dependencies=[ExpensiveDep])
def balance(body: BalanceRequest, engine: EngineDep, role: PlannerDep) -> JSONResponse:
    """Moves between adjacent communities, the solver's status, objective, bound and gap, and drafts.

    Infeasible requirements (e.g. a required community whose neighbours are all locked) are refused
    with 422 and a message naming the constraint that makes them infeasible.
    """
    from geo.balance.drafts import requests_for
    from geo.balance.plan import finish, requests_with_workers, store_drafts

    options = body.balance_options()
    result = suggest_moves(engine, as_of=parse_datetime(body.datetime), options=options)
    finish(result, options.load, workers_per_move=body.workers_per_move, new_workers=body.new_workers,
           subdistricts=body.subdistricts)
    if body.draft and result.moves:
        requests = requests_for(result.moves, effective_date=body.effective_date or dt.date.today(),
                                author=f"均衡建议 / balancing ({role.name})", reason=body.reason,
                                document_ref=body.document_ref)
        result.proposal_ids, result.skipped = store_drafts(engine, requests_with_workers(requests, result.moves),
                                                           actor=role)
    return JSONResponse(result.as_dict())


class ApplyRequest(BaseModel):
    """Drafts made by POST /balance, to apply in order."""

    proposal_ids: list[int] = Field(min_length=1, max_length=1000)
    author: str = Field(default="gridgov balance", max_length=200)
    stop_on_refusal: bool = Field(default=False, description="Stop at the first refused draft (422/409 naming "
                                                             "what was applied) instead of skipping it.")


@router.post("/balance/apply", response_model=None, summary="Apply balancing drafts one after another")
def apply_balance(body: ApplyRequest, engine: EngineDep, actor: PlannerDep) -> JSONResponse:
    """Apply each draft; one made stale by an earlier one is recomputed against the current versions.

    A draft that is refused is skipped with its reason and the others are applied; ``skipped`` lists them.
    """
    from geo.balance.drafts import apply_drafts

    applied, skipped = apply_drafts(engine, body.proposal_ids, author=body.author,
                                    stop_on_refusal=body.stop_on_refusal, actor=actor)
    return JSONResponse({"applied": applied, "skipped": skipped})


class StaffingRequest(LoadSettings):
    """New workers to allocate, and the limits on where they may go."""

    new_workers: int = Field(ge=0, le=100_000, examples=[50])
    datetime: str | None = None
    subdistricts: Codes = Field(default_factory=list)
    kind: str | None = Field(default=None, pattern="^(urban|village)$")
    caps: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict,
                                                         description="Most workers in all, per community code.")
    max_new_per_community: int | None = Field(default=None, ge=0)
    only_allocated: bool = Field(default=False, description="List only communities that get workers.")


@router.post("/staffing", response_model=None, summary="Allocate new workers to lower the worst load",
             dependencies=[ExpensiveDep])
def staffing(body: StaffingRequest, engine: ReadEngineDep, _: ReaderDep) -> JSONResponse:
    """Greedy allocation (optimal for the worst load per worker), with the table before and after."""
    options = body.load_options()
    with engine.connect() as conn:
        table = read_load(conn, as_of=parse_datetime(body.datetime), options=options,
                          query=LoadQuery(subdistricts=tuple(body.subdistricts), kind=body.kind))
    result = allocate(table, body.new_workers, options=options, caps=body.caps, max_new=body.max_new_per_community)
    return JSONResponse(result.as_dict(only_allocated=body.only_allocated))


class GridSplitRequest(BaseModel):
    """The household band and the grids to look at."""

    min_households: int = Field(default=300, ge=0)
    max_households: int = Field(default=500, gt=0)
    village_min_households: int | None = Field(default=None, ge=0, description="Villages' own band, if any.")
    village_max_households: int | None = Field(default=None, gt=0)
    datetime: str | None = None
    subdistricts: Codes = Field(default_factory=list)
    communities: Codes = Field(default_factory=list)

    def grid_plan(self, engine: Any) -> GridPlan:
        band = Band(self.min_households, self.max_households)
        with engine.connect() as conn:
            return read_grid_plan(
                conn, as_of=parse_datetime(self.datetime), band=band, subdistricts=tuple(self.subdistricts),
                communities=tuple(self.communities),
                village_band=village_band_of(band, self.village_min_households, self.village_max_households),
            )


@router.post("/grid-splits", response_model=None, summary="Split grids above the household band, merge tiny ones",
             dependencies=[ExpensiveDep])
async def grid_splits(request: Request, body: GridSplitRequest, _: ReaderDep) -> JSONResponse:
    """Contiguous parts within the band for each big grid (GeoJSON), and groups of tiny neighbours.

    Computed in a child process within ``GRIDGOV_COMPUTE_BUDGET_S`` (422 ``budget_exceeded`` past it).
    """
    settings = request.app.state.settings
    plan = await run_bounded(request, offload.grid_plan, settings.database_url, body.model_dump_json(),
                             budget_s=settings.compute_budget_s)
    return JSONResponse(plan)


class GridDraftRequest(GridSplitRequest):
    """The suggestions to store as drafts, and the drafts' date and grounds."""

    effective_date: dt.date | None = Field(default=None, description="Of the drafts; default today.")
    reason: str | None = Field(default=None, max_length=2000)
    document_ref: str | None = Field(default=None, max_length=200)


@router.post("/grid-splits/drafts", response_model=None, summary="Store grid splits and merges as draft proposals",
             dependencies=[ExpensiveDep])
async def grid_split_drafts(request: Request, body: GridDraftRequest, role: PlannerDep) -> JSONResponse:
    """As POST /grid-splits, storing each split and each merge as a draft proposal.

    A split's first part keeps the grid's code; a merge keeps the first code. Each suggestion
    carries the id of its draft.
    """
    settings = request.app.state.settings
    plan = await run_bounded(request, offload.grid_plan_drafts, settings.database_url, body.model_dump_json(),
                             f"网格规模建议 / grid sizes ({role.name})", role.name, role.role,
                             budget_s=settings.compute_budget_s)
    return JSONResponse(plan)
