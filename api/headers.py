"""``X-Content-Type-Options: nosniff`` on every response (the policies themselves: :mod:`maps.csp`).

Plain ASGI middleware: a BaseHTTPMiddleware would add about a millisecond to every request.
"""

from __future__ import annotations

from typing import Any


class NoSniff:
    """Add ``X-Content-Type-Options: nosniff`` to every HTTP response (reports, map files, JSON)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-content-type-options" for name, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)
