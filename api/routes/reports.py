"""Impact reports of proposals: the JSON model, a self-contained HTML page, an A4 PDF, the households CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import EngineDep
from api.security import ReaderDep
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
    return Response(body, media_type=media_type, headers=headers)


@router.get("/{proposal_id}/impact", response_model=ImpactReport, summary="Impact of a proposal (JSON)")
def impact(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep) -> ImpactReport:
    """What the change does, as the documented JSON model (texts in both languages).

    Figures moved, units before and after against the norms, access to services, affected buildings,
    the new boundary in words, warnings.
    """
    return compute_impact(engine, proposal_id, norms=options.norms)


@router.get("/{proposal_id}/report.html", response_class=HTMLResponse, summary="Impact report (HTML page)")
def report_html(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep) -> HTMLResponse:
    """One self-contained page (works offline): tables, static and interactive maps, the households list."""
    from maps.report import render_html

    return HTMLResponse(render_html(compute_impact(engine, proposal_id, norms=options.norms), options.lang))


@router.get("/{proposal_id}/report.pdf", summary="Impact report (A4 PDF)",
            responses={200: {"content": {"application/pdf": {}}}})
def report_pdf(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep) -> Response:
    """The report laid out for A4 (WeasyPrint), Chinese text in a CJK font."""
    from maps.report import render

    body, media, name = render(compute_impact(engine, proposal_id, norms=options.norms), "pdf", options.lang)
    return _attachment(body, media, name, inline=True)


@router.get("/{proposal_id}/households.csv", summary="Affected buildings (CSV for Excel)",
            responses={200: {"content": {"text/csv": {}}}})
def households_csv(proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep) -> Response:
    """One row per moved building, UTF-8 with a byte-order mark so that Excel reads the Chinese."""
    from maps.report import render

    body, media, name = render(compute_impact(engine, proposal_id, norms=options.norms), "csv", options.lang)
    return _attachment(body, media, name, inline=False)


@router.get("/{proposal_id}/report", summary="Impact report in any form",
            responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {},
                                         "text/csv": {}}}})
def report(
    proposal_id: int, engine: EngineDep, _: ReaderDep, options: OptionsDep,
    format: Annotated[Format, Query(description="html, pdf, json or csv.")] = "html",
) -> Response:
    """The same report as the four endpoints above, chosen by ``format``."""
    from maps.report import render

    body, media, name = render(compute_impact(engine, proposal_id, norms=options.norms), format, options.lang)
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
