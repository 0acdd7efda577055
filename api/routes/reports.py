"""Impact reports of proposals: the JSON model, a self-contained HTML page, an A4 PDF, the households CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine

from api import offload
from api.deps import EngineDep
from api.identity import CallerDep, Identity
from api.limits import expensive, run_bounded
from api.security import ReaderDep
from geo.access_log import log_access
from geo.errors import InvalidInput
from geo.impact import ImpactReport, Norms, compute_impact

router = APIRouter(prefix="/proposals", tags=["reports"])

Lang = Literal["zh", "en"]
Format = Literal["html", "pdf", "json", "csv"]


@dataclass(frozen=True)
class ReportOptions:
    """Language and norms of a report."""

    lang: str
    norms: Norms


def _numbers(value: str, field: str, cast: type[int]) -> list[int]:
    try:
        return [cast(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"{field} must be comma-separated numbers, not {value!r}", field=field) from None


async def report_options(
    lang: Annotated[Lang, Query(description="Language of the labels: zh (default) or en.")] = "zh",
    workers_per_10k: Annotated[float | None, Query(gt=0, le=1000, description="Norm: community workers per "
                                                                             "10,000 residents (default 18).")] = None,
    grid_band: Annotated[str | None, Query(description="Households per grid, min,max (default 300,500).",
                                           examples=["300,500"])] = None,
    life_circles: Annotated[str | None, Query(description="Life-circle radii in metres (default 300,500,1000).",
                                              examples=["300,500,1000"])] = None,
) -> ReportOptions:
    """The ``lang`` and norm query parameters, checked (422 naming the field)."""
    values: dict[str, object] = {}
    if workers_per_10k is not None:
        values["workers_per_10k"] = workers_per_10k
    if grid_band is not None:
        band = _numbers(grid_band, "grid_band", int)
        if len(band) != 2:
            raise InvalidInput("grid_band needs two numbers: min,max households per grid", field="grid_band")
        values["grid_households_min"], values["grid_households_max"] = band
    if life_circles is not None:
        values["life_circles_m"] = tuple(_numbers(life_circles, "life_circles", int))
    try:
        norms = Norms(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = str(error["loc"][0]) if error["loc"] else ""
        field = {"life_circles_m": "life_circles", "grid_households_min": "grid_band",
                 "grid_households_max": "grid_band"}.get(loc, loc or "grid_band")
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{field}: {message}", field=field) from None
    return ReportOptions(lang=lang, norms=norms)


OptionsDep = Annotated[ReportOptions, Depends(report_options)]


def _attachment(body: bytes, media_type: str, filename: str, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"'}
    if media_type.startswith("text/html"):
        headers.update(_page_headers(body.decode("utf-8")))
    return Response(body, media_type=media_type, headers=headers)


def _page_headers(page: str) -> dict[str, str]:
    """The report's own Content-Security-Policy (its map's scripts by hash) as a header as well."""
    from maps.csp import policy_in

    policy = policy_in(page)
    return {"Content-Security-Policy": f"{policy}; frame-ancestors 'self'"} if policy else {}


def _need_planner(who: Identity) -> None:
    if not who.has("planner"):
        raise HTTPException(403 if who.role != "anonymous" else 401,
                            "the household list is residents' personal data: it needs a key with the planner role")


def _for(who: Identity, report: ImpactReport, engine: Engine, what: str) -> ImpactReport:
    """The report as ``who`` may see it: the household list (residents' data) for planners, logged.

    Readers and anonymous callers get the aggregated figures only (grid, community and totals).
    """
    if not who.has("planner"):
        return report.model_copy(update={"households": []})
    log_access(engine, key_name=who.name, role=who.role, what=what, proposal_id=report.proposal.id,
               rows=len(report.households))
    return report


@router.get("/{proposal_id}/impact", response_model=ImpactReport, summary="Impact of a proposal (JSON)")
def impact(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep, who: CallerDep) -> ImpactReport:
    """What the change does, as the documented JSON model (texts in both languages).

    Figures moved, units before and after against the norms, access to services, affected buildings,
    the new boundary in words, warnings.
    """
    return _for(who, compute_impact(engine, proposal_id, norms=options.norms), engine, "impact json")


@router.get("/{proposal_id}/report.html", response_class=HTMLResponse, summary="Impact report (HTML page)")
def report_html(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep,
                who: CallerDep) -> HTMLResponse:
    """One self-contained page (works offline): tables, static and interactive maps, the households list.

    The households list only for the planner role (logged); others see the aggregated figures.
    """
    from maps.report import render_html

    report = _for(who, compute_impact(engine, proposal_id, norms=options.norms), engine, "report.html")
    page = render_html(report, options.lang)
    return HTMLResponse(page, headers=_page_headers(page))


@router.get("/{proposal_id}/report.pdf", summary="Impact report (A4 PDF)",
            responses={200: {"content": {"application/pdf": {}}}}, dependencies=[Depends(expensive)])
async def report_pdf(request: Request, proposal_id: int, _: ReaderDep, options: OptionsDep,
                     who: CallerDep) -> Response:
    """The report laid out for A4 (WeasyPrint), Chinese text in a CJK font.

    Seconds of work: a few at once and a few a minute per client (429), in a child process within
    ``GRIDGOV_COMPUTE_BUDGET_S``.
    """
    settings = request.app.state.settings
    full = who.has("planner")
    body, media, name = await run_bounded(request, offload.report, settings.database_url, proposal_id,
                                          options.norms, "pdf", options.lang, full, budget_s=settings.compute_budget_s)
    if full:
        await run_in_threadpool(log_access, request.app.state.engine, key_name=who.name, role=who.role,
                                what="report.pdf", proposal_id=proposal_id)
    return _attachment(body, media, name, inline=True)


@router.get("/{proposal_id}/households.csv", summary="Affected buildings (CSV for Excel)",
            responses={200: {"content": {"text/csv": {}}}})
def households_csv(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep,
                   who: CallerDep) -> Response:
    """One row per moved building, UTF-8 with a byte-order mark so that Excel reads the Chinese.

    Residents' data: planner role only, and every access is logged (``data_access_log``).
    """
    from maps.report import render

    _need_planner(who)
    report = _for(who, compute_impact(engine, proposal_id, norms=options.norms), engine, "households.csv")
    body, media, name = render(report, "csv", options.lang)
    return _attachment(body, media, name, inline=False)


@router.get("/{proposal_id}/report", summary="Impact report in any form",
            responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {},
                                         "text/csv": {}}}})
def report(
    proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep, who: CallerDep,
    format: Annotated[Format, Query(description="html, pdf, json or csv.")] = "html",
) -> Response:
    """The same report as the four endpoints above, chosen by ``format`` (the same roles apply)."""
    from maps.report import render

    if format == "csv":
        _need_planner(who)
    report = _for(who, compute_impact(engine, proposal_id, norms=options.norms), engine, f"report?format={format}")
    body, media, name = render(report, format, options.lang)
    return _attachment(body, media, name, inline=format != "csv")


@router.get("/{proposal_id}/change.geojson", summary="The change as GeoJSON (for QGIS, ArcGIS)",
            responses={200: {"content": {"application/geo+json": {}}}})
def change_geojson(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep) -> Response:
    """One FeatureCollection: the moved territory, then every changed unit before and after the change.

    Each feature has ``state`` (territory, before, after) and ``role`` (from, to, new, retired, …), and the
    proposal's id, kind, status and effective date, so that one layer styled by ``state`` shows the change.
    """
    import json

    report = compute_impact(engine, proposal_id, norms=options.norms)
    p = report.proposal
    common = {"proposal_id": p.id, "kind": p.kind, "status": p.status, "effective_date": p.effective_date.isoformat(),
              "document_ref": p.document_ref}
    moved = report.summary.moved.model_dump()
    features: list[dict[str, object]] = [{"type": "Feature", "geometry": report.map.territory,
                                          "properties": {**common, "state": "territory", "role": "territory", **moved}}]
    for state in ("before", "after"):
        for feature in getattr(report.map, state).get("features", []):
            props = {**common, **(feature.get("properties") or {}), "state": state}
            features.append({"type": "Feature", "id": f"{state}-{feature.get('id', len(features))}",
                             "geometry": feature.get("geometry"), "properties": props})
    body = json.dumps({"type": "FeatureCollection", "name": f"proposal-{p.id}", "features": features},
                      ensure_ascii=False).encode("utf-8")
    return _attachment(body, "application/geo+json", f"proposal-{p.id}-change.geojson", inline=False)
