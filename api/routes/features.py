"""OGC API Features (Part 1 core and GeoJSON, Part 3 queryables): landing, conformance, collections, items.

QGIS, GDAL/OGR, OWSLib and browser clients page through every layer with ``next`` links built from
the request (every parameter kept and URL-encoded). Bodies are encoded with orjson: geometries
arrive pre-encoded from :mod:`geo.features`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import ReadEngineDep
from api.ogc_params import CRS84, check_crs, parse_boxes, parse_filters, parse_period
from api.viewer import ViewerDep
from geo.feature_schema import json_schema
from geo.features import COLLECTIONS, Collection, first_valid_day, get_collection, get_item, query_items
from geo.features import Query as FeatureQuery

router = APIRouter(tags=["OGC API Features"])

GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
DATETIME_DOC = ("An instant (YYYY-MM-DD or RFC 3339 date-time) or an interval start/end with `..` for an open end "
                "(e.g. `2024-01-01/..`). Features whose validity [valid_from, valid_to) meets it; default today.")
BBOX_DOC = ("minLon,minLat,maxLon,maxLat (or with minZ/maxZ: 6 numbers), CRS84. minLon > maxLon crosses the "
            "antimeridian.")


def _json(body: Any, media_type: str = JSON) -> Response:
    return Response(orjson.dumps(body), media_type=media_type)


def _url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _page_url(request: Request, **overrides: int) -> str:
    """The request's URL with some parameters replaced, every value URL-encoded."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in overrides]
    items += [(k, str(v)) for k, v in overrides.items()]
    return _url(request, request.url.path) + "?" + urlencode(items, quote_via=quote)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@router.get("/", summary="Landing page")
def landing(request: Request, _: ViewerDep) -> Response:
    """Links to the API definition, conformance and collections."""
    return _json({
        "title": "gridgov",
        "description": "Districts, sub-districts, communities, grids, buildings and service stations (网格化治理).",
        "links": [
            {"href": _url(request, "/"), "rel": "self", "type": JSON, "title": "this document"},
            {"href": _url(request, "/openapi.json"), "rel": "service-desc", "type": OPENAPI_JSON,
             "title": "the API definition (OpenAPI 3.0)"},
            {"href": _url(request, "/docs"), "rel": "service-doc", "type": "text/html", "title": "API docs"},
            {"href": _url(request, "/conformance"), "rel": "conformance", "type": JSON,
             "title": "conformance classes"},
            {"href": _url(request, "/collections"), "rel": "data", "type": JSON, "title": "collections"},
        ],
    })


@router.get("/conformance", summary="Conformance classes")
def conformance(_: ViewerDep) -> Response:
    """The OGC conformance classes this server implements."""
    return _json({"conformsTo": CONFORMANCE})


def _describe(request: Request, conn: Any, coll: Collection) -> dict[str, Any]:
    extent = request.app.state.extent or (-180.0, -90.0, 180.0, 90.0)
    first = first_valid_day(conn, coll)
    base = f"/collections/{coll.id}"
    return {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {
            "spatial": {"bbox": [list(extent)], "crs": CRS84},
            "temporal": {"interval": [[first.isoformat() + "T00:00:00Z" if first else None, None]],
                         "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
        },
        "links": [
            {"href": _url(request, base), "rel": "self", "type": JSON, "title": coll.title},
            {"href": _url(request, base + "/items"), "rel": "items", "type": GEOJSON, "title": "features"},
            {"href": _url(request, base + "/queryables"), "rel": QUERYABLES_REL, "type": SCHEMA_JSON,
             "title": "queryable properties"},
            {"href": _url(request, base + "/schema"), "rel": "describedby", "type": SCHEMA_JSON,
             "title": "schema of the features' properties"},
            # GDAL's OAPIF driver (3.x) looks for this spelling to type fields (dates, integers).
            {"href": _url(request, base + "/schema"), "rel": "describedBy", "type": SCHEMA_JSON,
             "title": "schema of the features' properties"},
        ],
    }


@router.get("/collections", summary="Feature collections")
def collections(request: Request, engine: ReadEngineDep, _: ViewerDep) -> Response:
    """Every collection with its extent."""
    with engine.connect() as conn:
        described = [_describe(request, conn, c) for c in COLLECTIONS.values()]
    return _json({
        "links": [{"href": _url(request, "/collections"), "rel": "self", "type": JSON, "title": "collections"}],
        "collections": described,
    })


@router.get("/collections/{collectionId}", summary="One collection")
def collection(request: Request, engine: ReadEngineDep, collectionId: str, _: ViewerDep) -> Response:  # noqa: N803
    """Metadata of one collection."""
    coll = get_collection(collectionId)
    with engine.connect() as conn:
        return _json(_describe(request, conn, coll))


@router.get("/collections/{collectionId}/queryables", summary="Queryable properties (JSON Schema)",
            response_class=Response, responses={200: {"content": {SCHEMA_JSON: {}}}})
def queryables(request: Request, collectionId: str, role: ViewerDep) -> Response:  # noqa: N803
    """Properties usable as ``?name=value`` filters on the items, as the caller may see them."""
    coll = get_collection(collectionId)
    return _json(json_schema(coll, role, schema_id=_url(request, request.url.path), queryables=True), SCHEMA_JSON)


@router.get("/collections/{collectionId}/schema", summary="Schema of the features (JSON Schema)",
            response_class=Response, responses={200: {"content": {SCHEMA_JSON: {}}}})
def schema(request: Request, collectionId: str, role: ViewerDep) -> Response:  # noqa: N803
    """Every property of the features with its type, as the caller may see them."""
    coll = get_collection(collectionId)
    return _json(json_schema(coll, role, schema_id=_url(request, request.url.path), queryables=False), SCHEMA_JSON)


@router.get("/collections/{collectionId}/items", summary="Features of a collection",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def items(
    request: Request,
    engine: ReadEngineDep,
    collectionId: str,  # noqa: N803
    role: ViewerDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Page size (1–10000).")] = 100,
    offset: Annotated[int, Query(ge=0, description="Features to skip.")] = 0,
    bbox: Annotated[str | None, Query(description=BBOX_DOC, examples=["105.93,26.24,105.95,26.26"])] = None,
    datetime: Annotated[str | None, Query(description=DATETIME_DOC, examples=["2024-01-01/.."])] = None,
) -> Response:
    """A page of features meeting ``datetime``, ``bbox`` and property filters, with ``next``/``prev`` links.

    Property filters: any queryable of the collection (``/collections/{id}/queryables``), e.g.
    ``?kind=village``; repeat a parameter for any of several values.
    """
    coll = get_collection(collectionId)
    params = request.query_params
    check_crs(dict(params))
    query = FeatureQuery(parse_period(datetime, today=dt.date.today()), parse_boxes(bbox),
                         parse_filters(coll, role, params.multi_items()))
    with engine.connect() as conn:
        page = query_items(conn, coll, query=query, role=role, limit=limit, offset=offset,
                           totals=request.app.state.totals)
    links = [
        {"href": _page_url(request, limit=limit, offset=offset), "rel": "self", "type": GEOJSON,
         "title": "this page"},
        {"href": _url(request, f"/collections/{coll.id}"), "rel": "collection", "type": JSON,
         "title": coll.title},
    ]
    if offset + len(page.features) < page.number_matched:
        links.append({"href": _page_url(request, limit=limit, offset=offset + limit), "rel": "next",
                      "type": GEOJSON, "title": "next page"})
    if offset > 0:
        links.append({"href": _page_url(request, limit=limit, offset=max(0, offset - limit)), "rel": "prev",
                      "type": GEOJSON, "title": "previous page"})
    return _json({
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": _now(),
        "links": links,
        "features": page.features,
    }, GEOJSON)


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def item(
    request: Request,
    engine: ReadEngineDep,
    collectionId: str,  # noqa: N803
    featureId: str,  # noqa: N803
    role: ViewerDep,
    datetime: Annotated[str | None, Query(description=DATETIME_DOC)] = None,
) -> Response:
    """One feature by its code: the version valid on ``datetime`` (the newest one meeting an interval)."""
    coll = get_collection(collectionId)
    with engine.connect() as conn:
        feature = get_item(conn, coll, featureId, period=parse_period(datetime, today=dt.date.today()), role=role,
                           totals=request.app.state.totals)
    feature["links"] = [
        {"href": _url(request, f"/collections/{coll.id}/items/{quote(featureId, safe='')}"), "rel": "self",
         "type": GEOJSON, "title": "this feature"},
        {"href": _url(request, f"/collections/{coll.id}"), "rel": "collection", "type": JSON, "title": coll.title},
    ]
    return _json(feature, GEOJSON)
