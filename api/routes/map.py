"""The planner's web map: ``GET /map``, its static files, and the layers it loads by viewport.

``/map/layers/{layer}`` answers the units (simplified as coverages for the zoom) or buildings (heat
grid or points) meeting a box; the page takes stations and unit details from the OGC API Features
routes and the query routes. Answers are gzip-compressed here (the app has no compression
middleware) and the page and its scripts are cached with ETags.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import threading
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Match

from api.deps import ReadEngineDep
from api.params import AsOfDep, BBoxDep, parse_datetime
from api.security import ReaderDep
from geo.errors import NotFound
from maps.assets import STATIC_DIR, folium_heat_script
from maps.csp import map_policy
from maps.i18n import normalize_language
from maps.layers import LAYER_IDS, UNIT_LAYERS, LayerCache
from maps.page import PageOptions, build_page
from maps.search import search_buildings, search_stations, search_units

router = APIRouter(tags=["map"])
log = logging.getLogger("gridgov.api.map")

GEOJSON = "application/geo+json"
_cache_lock = threading.Lock()
# Optional endpoints the page uses when they exist: a sample request of each, matched against the app's routes.
_OPTIONAL = {
    "proposals": "GET /proposals",
    "history": "GET /units/0/history",
    "impact": "GET /proposals/0/impact",
    "report": "GET /proposals/0/report.html",
    "load": "GET /load",
    "balance": "POST /balance",
    "grid_splits": "POST /grid-splits",
    "preview": "POST /proposals/preview",
    "change_geojson": "GET /proposals/0/change.geojson",
    "withdraw": "POST /proposals/0/withdraw",
    "cancel": "POST /proposals/0/cancel",
    "reverse": "POST /proposals/0/reverse",
}


def _layer_cache(app: FastAPI) -> LayerCache:
    with _cache_lock:
        cache: LayerCache | None = getattr(app.state, "map_layers", None)
        if cache is None:
            cache = app.state.map_layers = LayerCache()
        return cache


def _prewarm(request: Request) -> None:
    """Prepare today's unit layers in the background: the page asks for them a few hundred ms later."""
    app = request.app
    cache = _layer_cache(app)
    engine = app.state.read_engine
    today = parse_datetime(None)

    def build() -> None:
        try:
            with engine.connect() as conn:
                for layer in ("subdistricts", "communities", "grids"):
                    cache.units(conn, layer, today, lambda: app.state.totals.get(conn, today)).geometries(10)
        except Exception:  # noqa: BLE001 - only a warm-up: the layer requests themselves report any fault
            log.warning("map layer warm-up failed", exc_info=True)

    threading.Thread(target=build, name="gridgov-map-warmup", daemon=True).start()


def _features(app: FastAPI) -> frozenset[str]:
    """Which optional endpoints the app has (routes do not change once it is built: computed once)."""
    found: frozenset[str] | None = getattr(app.state, "map_features", None)
    if found is None:
        def routed(request: str) -> bool:
            method, path = request.split(" ", 1)
            scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": [],
                     "query_string": b""}
            return any(route.matches(scope)[0] == Match.FULL for route in app.routes)

        found = app.state.map_features = frozenset(name for name, request in _OPTIONAL.items() if routed(request))
    return found


def _compressible(request: Request, body: bytes) -> bool:
    return len(body) > 1024 and "gzip" in request.headers.get("accept-encoding", "")


def _send(request: Request, body: bytes, media_type: str, *, etag: str | None = None,
          cache: str = "no-cache", gz: bytes | None = None, compress: bool = True,
          extra: dict[str, str] | None = None) -> Response:
    """``body`` gzipped when the client accepts it (``gz`` = its precompressed form), 304 on a matching ETag."""
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding", **(extra or {})}
    if etag is not None:
        headers["ETag"] = etag
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
    if compress and _compressible(request, body):
        headers["Content-Encoding"] = "gzip"
        return Response(gz if gz is not None else gzip.compress(body, 6), media_type=media_type, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@lru_cache(maxsize=16)
def _page(options: PageOptions) -> tuple[bytes, bytes, str, str]:
    text = build_page(options)
    html = text.encode("utf-8")
    return html, gzip.compress(html, 9), '"' + hashlib.sha256(html).hexdigest()[:20] + '"', map_policy(text)


@router.get("/map", response_class=Response, responses={200: {"content": {"text/html": {}}}},
            summary="The planner's web map (Chinese; ?lang=en for English)")
def planner_map(
    request: Request,
    lang: Annotated[str | None, Query(description="zh-CN (default) or en.", examples=["zh-CN"])] = None,
    simplify: Annotated[bool, Query(description="false: load stored geometries (to measure the gain).")] = True,
) -> Response:
    """An HTML page (Leaflet via folium) that loads every layer from this API by viewport.

    The page holds no data, so it is open even when reads need a key; its script sends the key the
    planner enters with every call.
    """
    settings = request.app.state.settings
    extent = request.app.state.extent
    options = PageOptions(
        lang=normalize_language(lang), extent=tuple(extent) if extent else None, tianditu_key=settings.tianditu_key,
        features=_features(request.app), api_base=request.scope.get("root_path", ""), simplify=simplify,
    )
    html, gz, etag, policy = _page(options)
    _prewarm(request)
    return _send(request, html, "text/html; charset=utf-8", etag=etag, gz=gz,
                 extra={"Content-Security-Policy": policy})


@lru_cache(maxsize=64)
def _static(path: Path, mtime_ns: int) -> tuple[bytes, bytes, str]:
    body = path.read_bytes()
    return body, gzip.compress(body, 9), '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


@router.get("/map/static/{path:path}", include_in_schema=False)
def static_file(request: Request, path: str) -> Response:
    """Leaflet, its plugins and the page's own script and styles (no CDN is involved)."""
    if path == "folium/leaflet_heat.min.js":
        file = folium_heat_script()
    else:
        file = (STATIC_DIR / path).resolve()
        if not file.is_relative_to(STATIC_DIR) or not file.is_file():
            raise NotFound(f"no static file {path!r}", field="path")
    body, gz, etag = _static(file, file.stat().st_mtime_ns)
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    text_like = media_type.startswith("text/") or media_type.endswith(("javascript", "json", "svg+xml"))
    if text_like and not media_type.endswith("svg+xml"):
        media_type += "; charset=utf-8"
    # Vendored files are pinned versions; the page's own files are linked with ?v=<content hash>.
    cache = "public, max-age=604800" if "vendor" in file.parts or request.query_params.get("v") else "no-cache"
    return _send(request, body, media_type, etag=etag, cache=cache, gz=gz if text_like else None,
                 compress=text_like)


@router.get("/map/layers/{layer}", response_class=Response, responses={200: {"content": {GEOJSON: {}}}},
            summary="A map layer for one view: simplified units, or buildings as heat or points")
def map_layer(
    request: Request,
    engine: ReadEngineDep,
    layer: str,
    as_of: AsOfDep,
    bbox: BBoxDep,
    _: ReaderDep,
    zoom: Annotated[int, Query(ge=0, le=24, description="The map's zoom level (sets the simplification).")] = 10,
    simplify: Annotated[bool, Query(description="Coverage-simplify below zoom 16 (false: stored geometry).")] = True,
    weight: Annotated[Literal["residents", "elderly", "children", "special_care"],
                      Query(description="buildings: what the heat grid counts (residents, or a group).")] = "residents",
) -> Response:
    """The features of ``layer`` meeting ``bbox`` on ``datetime``, prepared for display at ``zoom``.

    Layers: subdistricts, communities, grids (GeoJSON with totals and ``load`` = residents per
    worker; neighbours stay edge-matched after simplification), buildings (``mode: heat`` with
    ``heat.points`` = [lat, lon, residents] per cell below zoom 15, else ``mode: points``).
    """
    if layer not in LAYER_IDS:
        raise NotFound(f"unknown map layer {layer!r}; layers are {', '.join(LAYER_IDS)}", field="layer")
    cache = _layer_cache(request.app)
    with engine.connect() as conn:
        if layer == "buildings":
            body = cache.buildings(conn, as_of).query(bbox, zoom, weight)
        else:
            prepared = cache.units(conn, layer, as_of, lambda: request.app.state.totals.get(conn, as_of))
            body = prepared.query(bbox, zoom, simplify=simplify)
    return _send(request, body, GEOJSON)


@router.get("/map/search", summary="Search units, stations and building addresses by name or code")
def map_search(
    request: Request,
    engine: ReadEngineDep,
    as_of: AsOfDep,
    _: ReaderDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="Name (Chinese or English) or code.")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JSONResponse:
    """Sub-districts, communities, grids, stations, then building addresses matching ``q``, each with its box.

    ``numberMatched`` counts what was found before the cut to ``limit`` (at most ``limit`` of each kind).
    """
    cache = _layer_cache(request.app)
    with engine.connect() as conn:
        layers = {lid: cache.units(conn, lid, as_of, lambda: request.app.state.totals.get(conn, as_of))
                  for lid in UNIT_LAYERS}
        units = search_units(layers, q, limit=limit)
        stations = search_stations(conn, q, as_of=as_of, limit=limit)
        buildings = search_buildings(conn, q, as_of=as_of, limit=limit)
    found = units + stations + buildings
    return JSONResponse({"query": q, "as_of": as_of.isoformat(), "numberMatched": len(found), "results": found[:limit]})
