"""OGC API Features (Part 1, read): landing page, conformance, collections, items.

QGIS and other OGC clients can add the server as an "OGC API - Features" connection and page
through every layer with ``next`` links.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import ReadEngineDep
from api.params import AsOfDep, BBoxDep
from api.security import ReaderDep
from geo.features import COLLECTIONS, Collection, first_valid_day, get_collection, get_item, query_items

router = APIRouter(tags=["OGC API Features"])

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _url(request: Request, path: str, **params: Any) -> str:
    url = str(request.base_url).rstrip("/") + path
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{url}?{query}" if query else url


@router.get("/", summary="Landing page")
def landing(request: Request, _: ReaderDep) -> dict[str, Any]:
    """Links to the API definition, conformance and collections."""
    return {
        "title": "gridgov",
        "description": "Districts, sub-districts, communities, grids, buildings and service stations (网格化治理).",
        "links": [
            {"href": _url(request, "/"), "rel": "self", "type": "application/json", "title": "this document"},
            {"href": _url(request, "/openapi.json"), "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the API definition"},
            {"href": _url(request, "/docs"), "rel": "service-doc", "type": "text/html", "title": "API docs"},
            {"href": _url(request, "/conformance"), "rel": "conformance", "type": "application/json"},
            {"href": _url(request, "/collections"), "rel": "data", "type": "application/json"},
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance(_: ReaderDep) -> dict[str, list[str]]:
    """The OGC conformance classes this server implements."""
    return {"conformsTo": CONFORMANCE}


def _describe(request: Request, conn: Any, coll: Collection) -> dict[str, Any]:
    extent = request.app.state.extent or (-180.0, -90.0, 180.0, 90.0)
    first = first_valid_day(conn, coll)
    return {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {"bbox": [list(extent)], "crs": CRS84},
            "temporal": {"interval": [[first.isoformat() + "T00:00:00Z" if first else None, None]]},
        },
        "links": [
            {"href": _url(request, f"/collections/{coll.id}"), "rel": "self", "type": "application/json"},
            {"href": _url(request, f"/collections/{coll.id}/items"), "rel": "items", "type": GEOJSON},
        ],
    }


@router.get("/collections", summary="Feature collections")
def collections(request: Request, engine: ReadEngineDep, _: ReaderDep) -> dict[str, Any]:
    """Every collection with its extent."""
    with engine.connect() as conn:
        described = [_describe(request, conn, c) for c in COLLECTIONS.values()]
    return {
        "links": [{"href": _url(request, "/collections"), "rel": "self", "type": "application/json"}],
        "collections": described,
    }


@router.get("/collections/{collectionId}", summary="One collection")
def collection(request: Request, engine: ReadEngineDep, collectionId: str, _: ReaderDep) -> dict[str, Any]:  # noqa: N803
    """Metadata of one collection."""
    coll = get_collection(collectionId)
    with engine.connect() as conn:
        return _describe(request, conn, coll)


@router.get("/collections/{collectionId}/items", summary="Features of a collection",
            response_class=JSONResponse, responses={200: {"content": {GEOJSON: {}}}})
def items(
    request: Request,
    engine: ReadEngineDep,
    collectionId: str,  # noqa: N803
    as_of: AsOfDep,
    bbox: BBoxDep,
    _: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Page size (1–10000).")] = 100,
    offset: Annotated[int, Query(ge=0, description="Features to skip.")] = 0,
) -> JSONResponse:
    """A page of features valid on ``datetime`` meeting ``bbox``, with ``next``/``prev`` links."""
    coll = get_collection(collectionId)
    with engine.connect() as conn:
        page = query_items(conn, coll, as_of=as_of, bbox=bbox, limit=limit, offset=offset,
                           totals=request.app.state.totals)
    base = f"/collections/{coll.id}/items"
    common = {"bbox": request.query_params.get("bbox"), "datetime": request.query_params.get("datetime")}
    links = [{"href": _url(request, base, limit=limit, offset=offset, **common), "rel": "self", "type": GEOJSON}]
    if offset + len(page.features) < page.number_matched:
        links.append({"href": _url(request, base, limit=limit, offset=offset + limit, **common), "rel": "next",
                      "type": GEOJSON})
    if offset > 0:
        links.append({"href": _url(request, base, limit=limit, offset=max(0, offset - limit), **common),
                      "rel": "prev", "type": GEOJSON})
    body = {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": as_of.isoformat() + "T00:00:00Z",
        "links": links,
        "features": page.features,
    }
    return JSONResponse(body, media_type=GEOJSON)


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature",
            response_class=JSONResponse, responses={200: {"content": {GEOJSON: {}}}})
def item(
    request: Request, engine: ReadEngineDep, collectionId: str, featureId: str, as_of: AsOfDep, _: ReaderDep,  # noqa: N803
) -> JSONResponse:
    """One feature by its code, as of ``datetime``."""
    coll = get_collection(collectionId)
    with engine.connect() as conn:
        feature = get_item(conn, coll, featureId, as_of=as_of, totals=request.app.state.totals)
    feature["links"] = [
        {"href": _url(request, f"/collections/{coll.id}/items/{featureId}"), "rel": "self", "type": GEOJSON},
        {"href": _url(request, f"/collections/{coll.id}"), "rel": "collection", "type": "application/json"},
    ]
    return JSONResponse(feature, media_type=GEOJSON)
