"""One table from domain errors to HTTP statuses, and the handlers that render them.

Every error body has the shape ``{"error": {"code", "message", "message_zh", "field"}}``:
``message`` is English, ``message_zh`` Chinese (the error's own text, or one worded here from its
code and field). Only real server faults are 5xx, and only those are logged with a traceback.
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
    TooLarge,
    TooManyRequests,
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
    TooLarge: 413,
    TooManyRequests: 429,
}

# The code of an HTTP error raised without a domain class, by status.
HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
              413: "payload_too_large", 422: "invalid_input", 429: "too_many_requests"}

# Chinese lead-ins by error code; the English message follows after the colon (names, codes and
# numbers in it are the same in both languages).
ZH_LEAD = {
    "unauthorized": "需要有效的 API 密钥（请求头 X-API-Key）",
    "forbidden": "该密钥的角色无权执行此操作",
    "not_found": "未找到所请求的对象",
    "method_not_allowed": "该地址不支持此请求方法",
    "conflict": "与当前数据冲突，未做任何更改",
    "payload_too_large": "请求内容超过允许的大小",
    "too_many_requests": "请求过于频繁或并发过多，请稍后再试",
    "invalid_input": "请求无效",
    "import_rejected": "数据集未通过校验，未写入任何内容",
    "invariant_violation": "该变更会破坏地图的不变量，未写入任何内容",
    "budget_exceeded": "该请求所需的计算量超过上限，未做任何更改",
    "database_unavailable": "数据库暂时无法访问",
    "server_error": "服务器内部错误",
}


def chinese(code: str, message: str, field: str | None = None) -> str:
    """A Chinese sentence for an error that has none of its own: a lead-in by code, then the original."""
    if code in ("invalid_input", "budget_exceeded", "payload_too_large") and field:
        lead = f"参数 {field} 无效" if code == "invalid_input" else f"{ZH_LEAD[code]}（{field}）"
    else:
        lead = ZH_LEAD.get(code, "请求失败")
    return f"{lead}：{message}" if message else lead


def error_body(code: str, message: str, field: str | None = None, *, message_zh: str | None = None,
               **extra: Any) -> dict[str, Any]:
    """The JSON error body every 4xx/5xx response carries (English ``message``, Chinese ``message_zh``)."""
    zh = message_zh if message_zh is not None else chinese(code, message, field)
    return {"error": {"code": code, "message": message, "message_zh": zh, "field": field, **extra}}


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
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    body = error_body(exc.code, exc.message, exc.field, message_zh=getattr(exc, "zh", None), **extra)
    return JSONResponse(body, status_code=status, headers=headers)


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
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _bad_value_for_database(_: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the request carried (a NUL character, an integer out of range):
    # the caller's to fix, so a 422 rather than a fault.
    log.info("value refused by the database: %s", exc)
    return JSONResponse(error_body("invalid_input", "a value in the request cannot be stored or searched "
                                   "(e.g. it contains a NUL character or is out of range)",
                                   message_zh="请求中的某个值无法存储或查询（例如含有 NUL 字符或超出范围）"),
                        status_code=422)


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
                body = error_body("invalid_input", f"{name} contains a NUL character", name,
                                  message_zh=f"参数 {name} 含有 NUL 字符")
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


class CatchFaults:
    """Answer an unhandled exception with the JSON 500 here, inside Starlette's ServerErrorMiddleware.

    That middleware re-raises after answering, and uvicorn then drops the keep-alive connection:
    every other request the client had queued on it failed too. Plain ASGI, like RefuseNulInUrl.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001 - the last line of defence, logged with its traceback
            log.exception("unhandled server fault", exc_info=exc)
            if started:
                raise
            body = error_body("server_error", "internal server error", message_zh="服务器内部错误")
            await JSONResponse(body, status_code=500)(scope, receive, send)


async def _database_unreachable(_: Request, exc: Exception) -> JSONResponse:
    log.error("database unreachable: %s", exc)
    return JSONResponse(error_body("database_unavailable", "the database cannot be reached",
                                   message_zh="数据库暂时无法访问"), status_code=503)


async def _server_fault(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled server fault", exc_info=exc)
    return JSONResponse(error_body("server_error", "internal server error", message_zh="服务器内部错误"),
                        status_code=500)


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``; call once from the app factory."""
    app.add_exception_handler(GridgovError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unreachable)
    app.add_exception_handler(DataError, _bad_value_for_database)
    app.add_exception_handler(OverflowError, _bad_value_for_database)  # an integer the driver cannot bind
    app.add_middleware(RefuseNulInUrl)
    app.add_middleware(CatchFaults)
    app.add_exception_handler(Exception, _server_fault)
