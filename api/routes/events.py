"""Events (事件): report, route, handle, count. Personal information only for the planner role.

Reporting is open like reads (a 随手拍 portal), unless ``read_requires_key``. Point-level reads,
handling and hotline imports need the planner key; the reporter's name and contact appear only in
``GET /events/{id}`` for that role, never in lists, exports or OGC collections. Public reads are
aggregated to the grid.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import EngineDep, ReadEngineDep
from api.params import AsOfDep, BBoxDep
from api.security import PlannerDep, ReaderDep
from geo.errors import InvalidInput, NotFound
from geo.events import lifecycle, store
from geo.events.catalogue import SOURCES, STATUS_NAMES, STATUSES, Catalogue, parse_catalogue
from geo.events.hotline import read_hotline_file
from geo.events.ingest import IngestResult, ingest
from geo.events.summary import monthly_summary
from geo.events.workload import community_event_load, event_counts

router = APIRouter(tags=["events"])

LIST_COLUMNS = tuple(c for c in store.COLUMNS if c not in store.PRIVATE_FIELDS)


def catalogue_of(request: Request) -> Catalogue:
    """The catalogue configured for this app (``GRIDGOV_EVENT_CATEGORIES``), parsed once."""
    state = request.app.state
    if not hasattr(state, "event_catalogue"):
        state.event_catalogue = parse_catalogue(getattr(state.settings, "event_categories", None))
    cat: Catalogue = state.event_catalogue
    return cat


class EventIn(BaseModel):
    """One report. A place is a point (lon/lat, EPSG:4326) or an address matching a building."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "client_id": "app-20250601-0001", "category": "环境卫生", "description": "垃圾桶满溢",
        "source": "volunteer", "lon": 105.9437, "lat": 26.2455, "reported_at": "2025-06-01T09:30:00+08:00"}]})

    client_id: str | None = Field(None, description="The sender's id; a repeat returns the stored event.")
    category: str = Field(description="Category code or Chinese name (GET /events/categories).")
    description: str | None = None
    source: str | None = Field(None, description=f"Who reported: {', '.join(SOURCES)}.")
    reporter_name: str | None = Field(None, description="Personal information: planner role only.")
    reporter_contact: str | None = Field(None, description="Personal information: planner role only.")
    photo_ref: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    reported_at: str | None = Field(None, description="ISO 8601; naive times are China Standard Time.")


class EventsBody(EventIn):
    """One report, or many in ``events`` (all or nothing)."""

    category: str | None = Field(  # type: ignore[assignment] # optional here: a batch has none of its own
        None, description="Category code or Chinese name (GET /events/categories).")
    events: list[EventIn] | None = Field(None, description="A batch of reports (then give nothing else).")


class TransitionIn(BaseModel):
    """A step in the lifecycle."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["assigned", "handling", "feedback", "closed"]
    actor: str = Field(min_length=1, max_length=200, description="Who acted (网格员, 社区, 中心).")
    note: str | None = Field(None, max_length=4000)


def _result_body(result: IngestResult) -> dict[str, Any]:
    return {"created": result.count("created"), "duplicates": result.count("duplicate"),
            "unmatched": result.count("unmatched"),
            "results": [o.__dict__ for o in result.outcomes]}


@router.get("/report-event", response_class=HTMLResponse, include_in_schema=False)
def report_page() -> HTMLResponse:
    """The mobile report page (随手拍): a phone browser, a tap or geolocation, a category, a text."""
    from maps.assets import STATIC_DIR

    return HTMLResponse((STATIC_DIR / "report-event.html").read_text(encoding="utf-8"))


@router.get("/events/categories", summary="The event categories, statuses and sources")
def categories(request: Request) -> dict[str, Any]:
    """The configured catalogue (code, names, due hours, workload weight) and the lifecycle."""
    return {"categories": catalogue_of(request).as_list(),
            "statuses": [{"code": s, "name": STATUS_NAMES[s][0], "name_en": STATUS_NAMES[s][1]} for s in STATUSES],
            "sources": [{"code": k, "name": v[0], "name_en": v[1]} for k, v in SOURCES.items()]}


@router.post("/events", response_model=None, status_code=201, summary="Report one event or a batch")
def report_events(body: EventsBody, request: Request, engine: EngineDep, _: ReaderDep) -> JSONResponse:
    """Place, route (grid worker, or the community when the grid has none) and store events.

    Idempotent by ``client_id``: a repeat answers with the stored event (``duplicate``). A batch
    with any bad row stores nothing and lists every problem (row and field).
    """
    if body.events is not None:
        extra = sorted(body.model_fields_set - {"events"})
        if extra:
            raise InvalidInput(f"give one event or a batch in events, not both ({extra[0]})", field=extra[0])
        rows = [e.model_dump() for e in body.events]
    else:
        rows = [body.model_dump(exclude={"events"})]
    limit = request.app.state.settings.max_batch_points
    if len(rows) > limit:
        raise InvalidInput(f"at most {limit} events per batch; split the batch", field="events")
    if not rows:
        raise InvalidInput("the batch is empty", field="events")
    with engine.begin() as conn:
        result = ingest(conn, rows, catalogue=catalogue_of(request))
    status = 201 if result.count("created") else 200
    return JSONResponse(_result_body(result), status_code=status)


def _filter(category: list[str] | None, status: list[str] | None, since: dt.date | None, until: dt.date | None,
            unit: str | None, bbox: Any, overdue: bool, request: Request) -> store.EventFilter:
    cat = catalogue_of(request)
    codes = tuple(cat.get(c).code for c in category or [])
    for s in status or []:
        if s not in STATUSES:
            raise InvalidInput(f"unknown status {s!r}; use one of {', '.join(STATUSES)}", field="status")
    if since and until and since > until:
        raise InvalidInput("since is after until", field="since")
    return store.EventFilter(categories=codes, statuses=tuple(status or ()), since=since, until=until,
                             unit_code=unit, bbox=bbox, overdue_at=lifecycle.now_utc() if overdue else None)


CategoryQ = Annotated[list[str] | None, Query(description="Category codes or names (repeatable).")]
StatusQ = Annotated[list[str] | None, Query(description=f"Statuses (repeatable): {', '.join(STATUSES)}.")]
SinceQ = Annotated[dt.date | None, Query(description="Reported on or after (YYYY-MM-DD).")]
UntilQ = Annotated[dt.date | None, Query(description="Reported on or before (YYYY-MM-DD).")]
UnitQ = Annotated[str | None, Query(description="A grid, community or sub-district code (as held on the day).")]


@router.get("/events", response_model=None, summary="Events (planner): JSON, GeoJSON or CSV")
def list_events(
    request: Request, engine: ReadEngineDep, _: PlannerDep, bbox: BBoxDep, category: CategoryQ = None,
    status: StatusQ = None, since: SinceQ = None, until: UntilQ = None, unit: UnitQ = None,
    overdue: bool = False, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0, format: Literal["json", "geojson", "csv"] = "json",
) -> Response:
    """Events matching the filters, newest first, with overdue flags and who answers for them today.

    Lists and exports never carry the reporter's name or contact (``GET /events/{id}`` does).
    """
    flt = _filter(category, status, since, until, unit, bbox, overdue, request)
    now = lifecycle.now_utc()
    with engine.connect() as conn:
        total = store.count_events(conn, flt)
        records = lifecycle.annotate(conn, store.read_events(conn, flt, limit=limit, offset=offset,
                                                             columns=LIST_COLUMNS), now=now)
    if format == "csv":
        return _csv(records)
    items = [_jsonable(r) for r in records]
    if format == "geojson":
        return JSONResponse({"type": "FeatureCollection", "numberMatched": total, "numberReturned": len(items),
                             "features": [{"type": "Feature", "id": r["id"],
                                           "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                                           "properties": r} for r in items]})
    return JSONResponse({"total": total, "limit": limit, "offset": offset, "events": items})


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(record, default=lambda v: v.isoformat() if hasattr(v, "isoformat")
                                                   else str(v)))
    return plain


def _csv(records: list[dict[str, Any]]) -> Response:
    buf = io.StringIO()
    columns = [*LIST_COLUMNS, "overdue", "closed_late", "responsible_grid", "responsible_assignee"]
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        resp = r.get("responsible") or {}
        writer.writerow({**r, "responsible_grid": resp.get("grid_code"),
                         "responsible_assignee": resp.get("assignee_code")})
    return Response(("\ufeff" + buf.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="events.csv"'})


@router.get("/events/grids", response_model=None, summary="Event counts per grid (public, aggregated)")
def grid_counts(
    request: Request, engine: ReadEngineDep, _: ReaderDep, as_of: AsOfDep, category: CategoryQ = None,
    since: SinceQ = None, until: UntilQ = None, level: Literal["grid", "community", "subdistrict"] = "grid",
    format: Literal["json", "geojson"] = "json", bbox: BBoxDep = None,
    geometry: Literal["polygon", "point"] = "polygon",
) -> JSONResponse:
    """Per unit: events reported (by the unit of their day), open, overdue and weighted open (today).

    ``format=geojson`` joins the counts to the units as of ``datetime`` (polygons, or with
    ``geometry=point`` one point inside each unit: the map's density layer), within ``bbox``.
    """
    cat = catalogue_of(request)
    codes = tuple(cat.get(c).code for c in category or [])
    with engine.connect() as conn:
        counts = event_counts(conn, catalogue=cat, since=since, until=until, categories=codes,
                              now=lifecycle.now_utc())[level]
        if format == "json":
            return JSONResponse({"level": level, "units": counts})
        from geo.store import read_filtered

        units = read_filtered(conn, "units", as_of=as_of, where_in={"level": [level]}, bbox=bbox)
    if bbox is not None:
        units = units[units.intersects(shapely.box(*bbox))]
    if geometry == "point":
        units = units.set_geometry(shapely.point_on_surface(units.geometry.values))
    features = []
    empty = {"events": 0, "open": 0, "overdue": 0, "weighted_open": 0.0, "by_category": {}}
    for code, name, geom in zip(units["code"], units["name"], units.geometry, strict=True):
        props = counts.get(code, empty)
        if geometry == "point" and not props["events"] and not props["open"]:
            continue
        features.append({"type": "Feature", "id": code, "geometry": geom.__geo_interface__,
                         "properties": {"code": code, "name": name, **props}})
    return JSONResponse({"type": "FeatureCollection", "features": features})


@router.get("/events/summary", response_model=None, summary="Monthly summary of a sub-district (CSV, PDF, JSON)")
def summary(
    request: Request, engine: ReadEngineDep, _: ReaderDep,
    subdistrict: Annotated[str, Query(description="Sub-district code (9 digits).")],
    month: Annotated[str, Query(description="YYYY-MM.")], format: Literal["json", "csv", "pdf"] = "json",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """Received, closed (on time), open and overdue at month end, by community and category."""
    with engine.connect() as conn:
        header, table = monthly_summary(conn, subdistrict=subdistrict, month=month, catalogue=catalogue_of(request))
    name = f"events-{subdistrict}-{month}"
    if format == "csv":
        body = "\ufeff" + table.rename(columns=header["categories"]).to_csv(index=False)
        return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{name}.csv"'})
    if format == "pdf":
        from maps.events_summary import render_summary_pdf

        return Response(render_summary_pdf(header, table, lang=lang), media_type="application/pdf",
                        headers={"content-disposition": f'inline; filename="{name}.pdf"'})
    return JSONResponse({**header, "rows": _jsonable({"r": table.astype(object).where(table.notna(), None)
                                                      .to_dict("records")})["r"]})


@router.get("/events/{event_id}", response_model=None, summary="One event with its audit (planner)")
def get_event(event_id: int, engine: ReadEngineDep, _: PlannerDep) -> JSONResponse:
    """The event with its reporter (personal information: this role only) and every transition.

    ``responsible`` says who answers for it today ("reported in grid X; now grid Y since change N").
    """
    with engine.connect() as conn:
        record = store.read_event(conn, event_id)
        if record is None:
            raise NotFound(f"no event with id {event_id} / 事件不存在", field="event_id")
        lifecycle.annotate(conn, [record], now=lifecycle.now_utc())
        record["transitions"] = store.read_transitions(conn, [event_id])
    return JSONResponse(_jsonable(record))


@router.post("/events/{event_id}/transitions", response_model=None, summary="Advance an event (planner)")
def transition(event_id: int, body: TransitionIn, engine: EngineDep, _: PlannerDep) -> JSONResponse:
    """分拨 → 处置 → 反馈 → 办结 (or 反馈 → 处置 to rework), audited; 409 for a step out of order."""
    with engine.begin() as conn:
        record = lifecycle.advance(conn, event_id, body.status, actor=body.actor, note=body.note)
    return JSONResponse(_jsonable(store.without_private(record)))


@router.post("/events/reconcile", response_model=None, summary="Hand open events to their grid after boundary changes")
def reconcile(engine: EngineDep, _: PlannerDep) -> dict[str, int]:
    """Record a reassignment for every open event whose point now lies in another grid."""
    with engine.begin() as conn:
        return {"reassigned": lifecycle.reconcile(conn)}


@router.post("/events/hotline", response_model=None, summary="Import hotline records (CSV or GeoJSON, planner)")
async def hotline(request: Request, file: UploadFile, engine: EngineDep, _: PlannerDep,
                  format: Literal["json", "csv"] = "json") -> Response:
    """Import rows with lon/lat or an address matching a building; report the rest.

    Unmatched rows come back in the report (``format=csv`` for the report alone), never dropped silently.
    """
    data = await file.read()
    rows = read_hotline_file(data, file.filename or "upload.csv")
    from fastapi.concurrency import run_in_threadpool

    def run() -> IngestResult:
        with engine.begin() as conn:
            return ingest(conn, rows, catalogue=catalogue_of(request), partial=True, default_source="hotline")

    result = await run_in_threadpool(run)
    if format == "csv":
        from geo.events.hotline import unmatched_csv

        return Response(unmatched_csv(rows, result).encode("utf-8"), media_type="text/csv; charset=utf-8")
    return JSONResponse(_result_body(result))


@dataclass(frozen=True)
class EventLoad:
    """How ``/load`` weighs events: residents-equivalent per weighted event, weights by category."""

    weight: float
    catalogue: Catalogue

    def table(self, conn: Any) -> Any:
        """Open, overdue and weighted events per community (index: community code)."""
        return community_event_load(conn, catalogue=self.catalogue, now=lifecycle.now_utc())


async def event_load_query(
    request: Request,
    events: Annotated[bool, Query(description="Add open, overdue and weighted events per community.")] = False,
    events_weight: Annotated[float, Query(ge=0, le=10_000, allow_inf_nan=False, description=(
        "Residents-equivalent of one weighted open event in the workload (0: shown, not counted)."))] = 0.0,
    event_weights: Annotated[str | None, Query(description=(
        "Weights by category, e.g. petition:5,environment:0.5 (default: the catalogue's)."))] = None,
) -> EventLoad | None:
    """The ``/load`` options about events; None when events are not asked for."""
    if not events:
        if events_weight or event_weights:
            raise InvalidInput("events_weight and event_weights need events=true", field="events")
        return None
    weights: dict[str, float] = {}
    for part in (event_weights or "").split(","):
        if not part.strip():
            continue
        code, _, value = part.partition(":")
        try:
            weights[code.strip()] = float(value)
        except ValueError:
            raise InvalidInput(f"event_weights needs code:number pairs, not {part!r}", field="event_weights") from None
    try:
        catalogue = catalogue_of(request).with_weights(weights)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="event_weights") from None
    return EventLoad(events_weight, catalogue)
