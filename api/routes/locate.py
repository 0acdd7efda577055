"""GET /locate: which district, sub-district, community and grid contain a point."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import ReadEngineDep
from api.params import AsOfDep, PointDep, data_extent
from api.schemas import LocateResponse
from api.security import ReaderDep
from geo.errors import NotFound
from geo.locate import locate

router = APIRouter(tags=["query"])


@router.get(
    "/locate",
    response_model=None,
    responses={200: {"model": LocateResponse}, 404: {"description": "The point is outside every district."}},
    summary="Units containing a point",
)
def locate_point(
    request: Request, engine: ReadEngineDep, point: PointDep, as_of: AsOfDep, _: ReaderDep
) -> Response:
    """The units at every level that contain the point, as of now or of a past date.

    A point on a boundary shared by two units resolves to the one with the lower code.
    """
    with engine.connect() as conn:
        found = locate(conn, point.lon, point.lat, as_of=as_of)
    if not found:
        extent = data_extent(request)
        raise NotFound(
            f"({point.lon}, {point.lat}) is outside every district on {as_of.isoformat()}"
            + (f"; the data covers lon {extent[0]:.3f}–{extent[2]:.3f}, lat {extent[1]:.3f}–{extent[3]:.3f}"
               if extent else ""),
            field="lon",
        )
    refs = [{"code": u.code, "name": u.name, "name_en": u.name_en, "level": u.level} for u in found]
    by_level = {r["level"]: r for r in refs}
    body = {"lon": point.lon, "lat": point.lat, "as_of": as_of.isoformat(), "units": refs, **by_level}
    return Response(orjson.dumps(body), media_type="application/json")
