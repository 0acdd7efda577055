"""Low items of issue #12: a 500 keeps the connection, and a bad setting is one line, not a traceback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app


@pytest.mark.parametrize("db_url", ["spatialite"], indirect=True)
def test_a_server_fault_is_answered_without_raising(db_url: str) -> None:
    from conftest import make_client

    with make_client(db_url) as client:
        app = client.app

        def boom() -> None:
            raise RuntimeError("a bug")

        app.add_api_route("/boom", boom)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "path": "/boom", "raw_path": b"/boom", "query_string": b"", "root_path": "", "scheme": "http",
                 "server": ("t", 80), "client": ("127.0.0.1", 1), "headers": []}
        # Before: ServerErrorMiddleware re-raised here, and uvicorn closed the keep-alive connection.
        asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 500
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["error"]["code"] == "server_error" and body["error"]["message_zh"]


def test_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDGOV_API_KEYS", '{"short": "planner"}')
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2
    assert "GRIDGOV_API_KEYS" in result.output and "12 characters" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
