"""Nearest stations: GET for one point, POST for up to ``max_batch_points`` (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.deps import ReadEngineDep
from api.errors import field_path
from api.limits import check_answer_size, read_batch_body
from api.params import AsOfDep, PointDep, check_point, data_extent, parse_datetime
from api.schemas import BatchAnswer, BatchPoint, BatchRequest, BatchResponse, NearestResponse
from api.security import ReaderDep
from geo.cells import safe_row
from geo.domain import STATION_KINDS
from geo.errors import InvalidInput
from geo.nearest import NearStation, nearest_batch, nearest_stations, read_station_rows

router = APIRouter(prefix="/stations", tags=["query"])

KIND_DOC = f"Station kind, repeatable: {', '.join(sorted(STATION_KINDS))}."


def check_kinds(kinds: Sequence[str] | None) -> list[str] | None:
    """Known station kinds, or InvalidInput listing the valid ones."""
    if not kinds:
        return None
    unknown = sorted(set(kinds) - STATION_KINDS)
    if unknown:
        raise InvalidInput(
            f"unknown station kind(s) {', '.join(unknown)}; valid kinds: {', '.join(sorted(STATION_KINDS))}",
            field="kind",
        )
    return list(kinds)


def _properties(station: NearStation, rank: int) -> dict[str, Any]:
    return {
        "code": station.code, "name": station.name, "name_en": station.name_en, "kind": station.kind,
        "capacity": station.capacity, "community_code": station.community_code,
        "community_name": station.community_name, "distance_m": round(station.distance_m, 3),
        "rank": rank,
    }


@router.get("/nearest", response_model=None, responses={200: {"model": NearestResponse}},
            summary="Nearest stations to a point")
def nearest(
    engine: ReadEngineDep,
    point: PointDep,
    as_of: AsOfDep,
    _: ReaderDep,
    k: Annotated[int, Query(ge=1, le=100, description="How many stations (1–100).")] = 3,
    kind: Annotated[list[str] | None, Query(description=KIND_DOC)] = None,
    max_distance_m: Annotated[
        float | None, Query(gt=0, allow_inf_nan=False, description="Only stations within this distance (m).")
    ] = None,
) -> JSONResponse:
    """The k stations nearest to the point by geodesic distance (WGS84 ellipsoid), nearest first."""
    kinds = check_kinds(kind)
    with engine.connect() as conn:
        found = nearest_stations(conn, point.lon, point.lat, as_of=as_of, k=k, kinds=kinds,
                                 max_distance_m=max_distance_m)
    return JSONResponse({
        "type": "FeatureCollection",
        "query": {"lon": point.lon, "lat": point.lat, "k": k, "kind": kinds, "max_distance_m": max_distance_m,
                  "as_of": as_of.isoformat()},
        "features": [
            {"type": "Feature", "id": s.code, "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
             "properties": _properties(s, i + 1)}
            for i, s in enumerate(found)
        ],
    })


def _points_from_csv(body: bytes) -> list[BatchPoint]:
    try:
        reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
        fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
        if "lon" not in fields or "lat" not in fields:
            raise InvalidInput("the CSV needs a header with lon and lat columns", field="body")
        points = []
        for line, row in enumerate(reader, start=2):
            try:
                points.append(BatchPoint(lon=float(row[fields["lon"]]), lat=float(row[fields["lat"]]),
                                         id=row.get(fields.get("id", ""), None)))
            except (TypeError, ValueError):
                raise InvalidInput(f"CSV line {line}: lon/lat are not numbers", field=f"body.line{line}") from None
        return points
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is not UTF-8 text", field="body") from None


async def _batch_request(request: Request) -> BatchRequest:
    try:
        return await _parse_batch(request)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = field_path(first["loc"]) or "body"
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None
    except ValueError as exc:  # k or max_distance_m in the query of a CSV request
        raise InvalidInput(f"bad query parameter: {exc}", field="query") from None


async def _parse_batch(request: Request) -> BatchRequest:
    content_type = request.headers.get("content-type", "")
    settings = request.app.state.settings
    body = await read_batch_body(request, settings.max_batch_points, settings.max_batch_answers)
    if "csv" in content_type:
        q = request.query_params
        return BatchRequest(
            points=_points_from_csv(body), k=int(q.get("k", 3)), kind=q.getlist("kind") or None,
            max_distance_m=float(q["max_distance_m"]) if "max_distance_m" in q else None,
            datetime=q.get("datetime"),
        )
    if "multipart/form-data" in content_type:
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("upload the CSV as a form field named 'file'", field="file")
        q = request.query_params
        return BatchRequest(points=_points_from_csv(await upload.read()), k=int(q.get("k", 3)),
                            kind=q.getlist("kind") or None, datetime=q.get("datetime"))
    return await run_in_threadpool(BatchRequest.model_validate_json, body or b"{}")  # off the event loop


@router.post(
    "/nearest",
    response_model=BatchResponse,
    summary="Nearest stations to many points",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}},
                "text/csv": {"schema": {"type": "string"}, "example": "id,lon,lat\na,105.9437,26.2455\n"},
            },
            "required": True,
        }
    },
)
async def nearest_many(
    request: Request,
    _: ReaderDep,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json (default) or csv.")] = "json",
) -> Any:
    """Answer each point like GET /stations/nearest. JSON body, or CSV with lon,lat[,id] columns."""
    batch = await _batch_request(request)
    limit = request.app.state.settings.max_batch_points
    if len(batch.points) > limit:
        raise InvalidInput(f"{len(batch.points)} points is more than the {limit} allowed per request",
                           field="points")
    check_answer_size(len(batch.points), batch.k, request.app.state.settings.max_batch_answers)
    extent = data_extent(request)
    for i, p in enumerate(batch.points):
        check_point(p.lon, p.lat, extent, prefix=f"points[{i}].")
    kinds = check_kinds(batch.kind)
    as_of = parse_datetime(batch.datetime)

    def answer() -> list[list[NearStation]]:
        with request.app.state.engine.connect() as conn:
            rows = read_station_rows(conn, as_of=as_of, kinds=kinds)
        return nearest_batch(rows, [p.lon for p in batch.points], [p.lat for p in batch.points], k=batch.k,
                             max_distance_m=batch.max_distance_m)

    answers = await run_in_threadpool(answer)
    if format == "csv":
        return _csv_response(batch.points, answers)
    return BatchResponse(results=[
        BatchAnswer(index=i, id=p.id, lon=p.lon, lat=p.lat,
                    stations=[_properties(s, r + 1) for r, s in enumerate(a)])  # type: ignore[misc]
        for i, (p, a) in enumerate(zip(batch.points, answers, strict=True))
    ])


def _csv_response(points: list[BatchPoint], answers: list[list[NearStation]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["index", "id", "lon", "lat", "rank", "station_code", "station_name", "kind",
                     "community_code", "community_name", "distance_m"])
    for i, (p, found) in enumerate(zip(points, answers, strict=True)):
        for rank, s in enumerate(found, start=1):
            writer.writerow(safe_row([i, p.id or "", p.lon, p.lat, rank, s.code, s.name, s.kind,
                                      s.community_code, s.community_name or "", f"{s.distance_m:.3f}"]))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
