"""The application factory: wires settings, the engine, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from api import openapi30
from api.errors import register_error_handlers
from api.headers import NoSniff
from api.limits import KeyThenBodyLimit, warm_up
from api.routes import balance, features, groups, health, history, imports, locate, map, proposals, reports, stations
from api.routes import events as events_routes
from api.settings import ApiSettings
from geo.db import make_engine, schema_problem
from geo.errors import DatabaseUnavailable
from geo.locate import data_extent
from geo.totals import TotalsCache


def create_app(settings: ApiSettings) -> FastAPI:
    """Build the gridgov API for ``settings``; the engine lives for the app's lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        problem = schema_problem(engine)
        if problem:
            engine.dispose()
            raise DatabaseUnavailable(problem)
        app.state.engine = engine
        app.state.read_engine = make_engine(settings.database_url, autocommit=True)
        app.state.settings = settings
        app.state.totals = TotalsCache()
        with engine.connect() as conn:
            app.state.extent = data_extent(conn)
        warm_up()  # the fork server for bounded computations (api/limits.py), started in the background
        yield
        engine.dispose()
        app.state.read_engine.dispose()

    app = FastAPI(
        title="gridgov",
        summary="Spatial base for grid-based community governance (网格化治理)",
        version="0.1.0",
        lifespan=lifespan,
    )
    register_error_handlers(app)
    # Layers and OGC pages are JSON of hundreds of KB; compressed they are ~85 % smaller. Level 6 keeps
    # 99 % of level 9's saving at about 40 % of its time (bench/RESULTS.md, OGC items).
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=6)
    if settings.cors_origins:  # browser apps on other origins (GRIDGOV_CORS_ORIGINS); none by default
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["X-API-Key", "Content-Type", "Accept", "Accept-Language"],
                           expose_headers=["Content-Disposition"], max_age=600)
    app.add_middleware(NoSniff)
    app.add_middleware(KeyThenBodyLimit)  # the key of a write, then the body's size, before the body is read
    openapi30.install(app)
    for module in (health, features, locate, stations, imports, proposals, history, map, balance, reports,
                   groups):
        app.include_router(module.router)
    app.include_router(events_routes.router)
    return app
