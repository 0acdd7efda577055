"""One table from domain errors to HTTP statuses, and the handlers that render them.

Every error body has the shape ``{"error": {"code", "message", "field"}}``. Only real server
faults are 5xx, and only those are logged with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.ogc_params import BadParameter
from geo.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    GridgovError,
    ImportRejected,
    InvalidInput,
    NotFound,
)

log = logging.getLogger("gridgov.api")

STATUS: dict[type[GridgovError], int] = {
    BadParameter: 400,  # OGC API Features Part 1: invalid query parameters are 400
    ImportRejected: 422,
    InvalidInput: 422,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    DatabaseUnavailable: 503,
}


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON error body every 4xx/5xx response carries."""
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def field_path(loc: Sequence[int | str]) -> str | None:
    """A pydantic error location as a field path: ``("query", "points", 0, "lat")`` -> ``points[0].lat``."""
    path = ""
    for part in loc:
        if part in ("query", "body", "path", "header"):
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


def _status_for(exc: GridgovError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GridgovError)
    extra: dict[str, Any] = {}
    if isinstance(exc, ImportRejected):
        extra["problems"] = [p.__dict__ for p in exc.problems]
    status = _status_for(exc)
    if status >= 500:
        log.error("server fault: %s", exc.message)
    return JSONResponse(error_body(exc.code, exc.message, exc.field, **extra), status_code=status)


# OGC API Features answers 400 to any invalid parameter (Part 1, /req/core/query-param-invalid).
OGC_PATHS = ("/collections",)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    field = field_path(first.get("loc", ()))
    message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
    status = 400 if request.url.path.startswith(OGC_PATHS) else 422
    return JSONResponse(error_body("invalid_input", message, field), status_code=status)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error"
    )
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)


async def _bad_value_for_database(_: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the request carried (a NUL character, an integer out of range):
    # the caller's to fix, so a 422 rather than a fault.
    log.info("value refused by the database: %s", exc)
    return JSONResponse(error_body("invalid_input", "a value in the request cannot be stored or searched "
                                   "(e.g. it contains a NUL character or is out of range)"), status_code=422)


class RefuseNulInUrl:
    """Refuse NUL characters in the path or query up front, naming the parameter.

    PostgreSQL cannot store or compare them. Plain ASGI: a BaseHTTPMiddleware would add about a
    millisecond to every request.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            name = self._offending(scope)
            if name is not None:
                body = error_body("invalid_input", f"{name} contains a NUL character", name)
                await JSONResponse(body, status_code=422)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _offending(scope: Any) -> str | None:
        if "\x00" in scope.get("path", ""):
            return "path"
        raw: bytes = scope.get("query_string", b"")
        if b"%00" not in raw and b"\x00" not in raw:
            return None
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            if "\x00" in value or "\x00" in name:
                return name
        return None


async def _database_unreachable(_: Request, exc: Exception) -> JSONResponse:
    log.error("database unreachable: %s", exc)
    return JSONResponse(error_body("database_unavailable", "the database cannot be reached"), status_code=503)


async def _server_fault(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled server fault", exc_info=exc)
    return JSONResponse(error_body("server_error", "internal server error"), status_code=500)


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``; call once from the app factory."""
    app.add_exception_handler(GridgovError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unreachable)
    app.add_exception_handler(DataError, _bad_value_for_database)
    app.add_exception_handler(OverflowError, _bad_value_for_database)  # an integer the driver cannot bind
    app.add_middleware(RefuseNulInUrl)
    app.add_exception_handler(Exception, _server_fault)
