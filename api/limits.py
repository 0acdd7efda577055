"""Request limits: the key before the body, body caps per route, batch sizes, and expensive work.

What an anonymous caller could do before (issue #12): stall the server with a 92 MB body parsed
before its 401, 2,000,000 points parsed before the 10,000-point check, a 0.7 MB request asking
for a 266 MB answer, and grid splits that never finished. Here:

* :class:`KeyThenBodyLimit` (ASGI) answers 401/403 for a write without a valid key before a byte
  of the body is read, then refuses bodies larger than the route's cap (413) by their
  ``Content-Length`` or, for chunked bodies, as soon as the count passes the cap;
* :func:`read_batch_body` counts points while the body streams in and stops at the limit;
* :func:`check_answer_size` caps ``points × k``;
* :class:`ExpensiveGate` admits a few expensive computations at once and a number per client
  per minute (429 with ``Retry-After`` otherwise); :func:`run_bounded` runs one in a child
  process with its own database connection, killed when its time budget ends or the client leaves.
"""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import re
import threading
import time
import typing
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.routing import Match

from api.errors import error_body
from geo.errors import BudgetExceeded, InvalidInput, TooLarge, TooManyRequests

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def body_cap(settings: Any, path: str) -> int:
    """The largest body ``path`` accepts, in bytes (uploads and point batches have their own caps)."""
    if path.rstrip("/").endswith("/imports"):
        return int(settings.max_upload_bytes)
    if path.rstrip("/").endswith("/stations/nearest"):
        return int(settings.max_batch_body_bytes)
    return int(settings.max_body_bytes)


def _role_of_dependency(call: Any) -> str | None:
    """The minimum role a ``require_role`` dependency admits (read from its closure), else None."""
    if getattr(call, "__qualname__", "").startswith("require_role."):
        minimum = inspect.getclosurevars(call).nonlocals.get("minimum")
        return minimum if isinstance(minimum, str) else None
    return None


def _dependants(routes: Any, scope: dict[str, Any]) -> Any:
    """The dependant of the endpoint ``scope`` goes to, through included routers, or None."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)  # FastAPI ≥ 0.16x: an included router
        if candidates is not None:
            for candidate in (candidates() if callable(candidates) else candidates):
                regex, methods = getattr(candidate, "path_regex", None), getattr(candidate, "methods", None)
                if regex is not None and regex.match(scope["path"]) and (not methods
                                                                         or scope["method"] in methods):
                    return candidate.dependant
            continue
        if route.matches(scope)[0] == Match.FULL:
            return getattr(route, "dependant", None)
    return None


def route_role(app: Any, scope: dict[str, Any]) -> str | None:
    """The minimum role of the endpoint ``scope`` goes to (None: no key check)."""
    found: str | None = None
    stack = [_dependants(app.routes, scope)]
    while stack:
        dependant = stack.pop()
        if dependant is None:
            continue
        found = found or _role_of_dependency(dependant.call)
        stack.extend(dependant.dependencies)
    return found


class KeyThenBodyLimit:
    """Check the key of a write before its body is read, then hold the body to the route's cap."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        settings = app.state.settings
        refusal = await self._key_refusal(app, scope, settings)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        cap = body_cap(settings, scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            await _too_large(cap)(scope, receive, send)
            return
        seen, exceeded, answered = 0, False, False

        async def counted() -> Any:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    exceeded = True
                    raise TooLarge(f"the request body is larger than the {cap:,} bytes this endpoint accepts",
                                   field="body")
            return message

        async def guarded(message: Any) -> None:
            # Whatever the app makes of the interrupted body (FastAPI calls it a parse error, 400), the
            # answer is 413.
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:
                answered = True
                await _too_large(cap)(scope, receive, send)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded:
                raise
            if not answered:
                answered = True
                await _too_large(cap)(scope, receive, send)

    @staticmethod
    async def _key_refusal(app: Any, scope: Any, settings: Any) -> JSONResponse | None:
        minimum = route_role(app, scope)
        if minimum is None or (minimum == "reader" and not settings.read_requires_key):
            return None
        from geo.access import ROLES, role_of

        key = dict(scope["headers"]).get(b"x-api-key", b"").decode("latin-1")
        if not key:
            return JSONResponse(error_body("unauthorized", "this endpoint needs an API key in the X-API-Key header",
                                           message_zh="该接口需要在请求头 X-API-Key 中提供 API 密钥"), status_code=401)

        def lookup() -> str | None:
            with app.state.engine.connect() as conn:
                return role_of(key, configured=settings.api_keys, conn=conn)

        role = await run_in_threadpool(lookup)
        if role is None:
            return JSONResponse(error_body("unauthorized", "the API key is not valid",
                                           message_zh="API 密钥无效"), status_code=401)
        if role in ROLES and minimum in ROLES and ROLES.index(role) < ROLES.index(minimum):
            return JSONResponse(error_body("forbidden", f"this needs the {minimum} role; the key has the {role} role",
                                           message_zh=f"此操作需要 {minimum} 角色，该密钥的角色是 {role}"),
                                status_code=403)
        return None


def _too_large(cap: int) -> JSONResponse:
    body = error_body("payload_too_large", f"the request body is larger than the {cap:,} bytes this endpoint "
                      "accepts", "body", message_zh=f"请求内容超过该接口允许的 {cap:,} 字节")
    return JSONResponse(body, status_code=413)


_K = re.compile(rb'"k"\s*:\s*(\d{1,9})')


async def read_batch_body(request: Request, max_points: int, max_answers: int | None = None) -> bytes:
    """The body of a batch of points, refused (422, ``points``) as soon as it holds more than ``max_points``.

    Counts rows of a CSV (newlines) or ``"lon"`` keys of JSON while the body streams in, so a
    huge batch is stopped before it is parsed. The body is kept on the request for ``form()``.
    """
    csv_like = "csv" in request.headers.get("content-type", "") or "multipart" in request.headers.get(
        "content-type", "")
    token = b"\n" if csv_like else b'"lon"'
    allowed = max_points + (1 if csv_like else 0) + 1  # the CSV header, and a last line without newline
    chunks: list[bytes] = []
    count, tail = 0, b""
    async for chunk in request.stream():
        window = tail + chunk
        count += window.count(token) - tail.count(token)
        tail = window[-(len(token) - 1):] if len(token) > 1 else b""
        chunks.append(chunk)
        if count > allowed:
            raise InvalidInput(f"more than the {max_points} points allowed per request", field="points",
                               zh=f"每次请求最多 {max_points} 个点")
    body = b"".join(chunks)
    if max_answers is not None:  # points × k before the JSON is parsed: parsing 10,000 points costs 0.1 s
        ks = [] if csv_like else [int(m) for m in _K.findall(body)]
        query_k = request.query_params.get("k", "")
        k = max(ks) if ks else (int(query_k) if query_k.isdigit() else 3)
        check_answer_size(max(count - (1 if csv_like else 0), 0), k, max_answers)
    request._body = body  # noqa: SLF001 - Starlette's own cache, read by request.body() and form()
    return body


def check_answer_size(points: int, k: int, limit: int) -> None:
    """Refuse a batch whose answer would list more than ``limit`` stations (``points × k``)."""
    if points * k > limit:
        raise InvalidInput(f"{points} points × k={k} is {points * k:,} answers, more than the {limit:,} allowed; "
                           "send fewer points or a smaller k", field="k",
                           zh=f"{points} 个点 × k={k} 共 {points * k:,} 条结果，超过上限 {limit:,}；请减少点数或 k")


class ExpensiveGate:
    """At most ``concurrent`` expensive computations at once, and ``per_minute`` per client."""

    def __init__(self, concurrent: int, per_minute: int) -> None:
        self.concurrent, self.per_minute = concurrent, per_minute
        self._running = 0
        self._recent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def enter(self, client: str) -> None:
        """Take a slot for ``client`` or raise TooManyRequests (429)."""
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(client, deque())
            while recent and now - recent[0] > 60:
                recent.popleft()
            if len(recent) >= self.per_minute:
                wait = int(61 - (now - recent[0]))
                raise TooManyRequests(f"more than {self.per_minute} expensive requests a minute from this client",
                                      retry_after=wait,
                                      zh=f"该客户端每分钟的高开销请求超过 {self.per_minute} 次，请 {wait} 秒后再试")
            if self._running >= self.concurrent:
                raise TooManyRequests(f"{self.concurrent} expensive computations are already running; try again "
                                      "shortly", retry_after=2,
                                      zh=f"已有 {self.concurrent} 个高开销计算在运行，请稍后再试")
            self._running += 1
            recent.append(now)
            if len(self._recent) > 10_000:  # forget idle clients so the table stays small
                self._recent = {c: q for c, q in self._recent.items() if q and now - q[-1] < 60}

    def leave(self) -> None:
        with self._lock:
            self._running -= 1


def client_of(request: Request) -> str:
    """Who to count a request against: its key if it has one, else its address."""
    key = request.headers.get("x-api-key")
    if key:
        import hashlib

        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return "ip:" + (request.client.host if request.client else "?")


def gate_of(request: Request) -> ExpensiveGate:
    """The app's gate for expensive computations, made on first use from the settings."""
    state = request.app.state
    gate: ExpensiveGate | None = getattr(state, "expensive_gate", None)
    if gate is None:
        settings = state.settings
        gate = state.expensive_gate = ExpensiveGate(settings.max_expensive_concurrent,
                                                    settings.max_expensive_per_minute)
    return gate


async def expensive(request: Request) -> typing.AsyncIterator[None]:
    """A dependency for expensive endpoints: holds a gate slot while the request runs."""
    gate = gate_of(request)
    gate.enter(client_of(request))
    try:
        yield
    finally:
        gate.leave()


def _child(target: Callable[..., Any], args: tuple[Any, ...], conn: Any) -> None:
    import os

    try:
        os.nice(10)  # below the server's own requests: on two cores, /locate must not wait for a plan
    except OSError:  # pragma: no cover - not permitted here: run at the same priority
        pass
    try:
        conn.send(("ok", target(*args)))
    except BaseException as exc:  # noqa: BLE001 - every outcome goes back to the parent
        try:
            conn.send(("error", exc))
        except Exception:  # noqa: BLE001 - an unpicklable exception
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


_context: Any = None


def warm_up() -> None:
    """Start the fork server (it imports the heavy modules once) so the first request need not wait."""

    def start() -> None:
        from multiprocessing import forkserver

        _process_context()
        forkserver.ensure_running()

    threading.Thread(target=start, name="gridgov-forkserver", daemon=True).start()


def _process_context() -> Any:
    """A forkserver context: children start from a clean process, not a copy of the threaded server."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["geo.balance.splits", "geo.impact", "maps.report.render"])
    return _context


async def run_bounded(request: Request | None, target: Callable[..., Any], *args: Any, budget_s: float) -> Any:
    """``target(*args)`` in a child process; killed after ``budget_s`` or when the client disconnects.

    ``target`` must be a module-level function that opens its own engine from a URL: the child
    holds no connection of the server's pool. Raises BudgetExceeded when the budget runs out.
    """
    context = _process_context()
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(target, args, child), daemon=True)
    await run_in_threadpool(process.start)  # the first start waits for the fork server: not on the event loop
    child.close()
    deadline = time.monotonic() + budget_s
    try:
        while not parent.poll():
            if not process.is_alive() and not parent.poll():
                raise RuntimeError(f"the worker process ended without an answer (exit code {process.exitcode})")
            if time.monotonic() > deadline:
                raise BudgetExceeded(
                    f"the computation needs more than its {budget_s:g} s budget; narrow the request "
                    "(fewer sub-districts or communities, a wider household band)", field="body",
                    zh=f"计算超过 {budget_s:g} 秒的时限；请缩小请求范围（更少的街道或社区、更宽的户数区间）")
            if request is not None and await request.is_disconnected():
                raise asyncio.CancelledError("the client left")
            await asyncio.sleep(0.05)
        status, value = parent.recv()
    finally:
        if process.is_alive():
            process.kill()
        await run_in_threadpool(process.join, 5)
        parent.close()
    if status == "error":
        raise value
    return value
