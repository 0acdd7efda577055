"""Request limits (issue #12 High 2 and 3): the key before the body, body caps, batch sizes, expensive work.

The ASGI app is called directly with a ``receive`` that counts what it hands out, so the tests show
that a refused body was never read, not merely that the answer was a 401 or 413.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from conftest import ADMIN_KEY, PLANNER_KEY, make_client


class Call:
    """One request to the ASGI app: ``chunks`` of body, how many were read, and the answer."""

    def __init__(self, app: Any, method: str, path: str, chunks: list[bytes], headers: dict[str, str]) -> None:
        self.read = 0
        self.status = 0
        self.body = b""
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "scheme": "http", "server": ("test", 80), "client": ("127.0.0.1", 1),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
        pending = list(chunks)

        async def receive() -> dict[str, Any]:
            if not pending:
                return {"type": "http.disconnect"}
            self.read += 1
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")

        asyncio.run(app(scope, receive, send))

    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = json.loads(self.body)["error"]
        return error


MB = b"x" * 1_000_000


@pytest.fixture
def app_client(tiny_db_url: str):  # noqa: ANN201 - (app, client)
    with make_client(tiny_db_url, max_body_bytes=2_000_000) as client:
        yield client.app, client


def test_anonymous_write_is_refused_before_its_body_is_read(app_client: Any) -> None:
    app, _ = app_client
    call = Call(app, "POST", "/proposals", [MB] * 50, {"content-type": "application/json"})
    assert call.status == 401 and call.read == 0
    assert call.error()["code"] == "unauthorized" and call.error()["message_zh"]
    call = Call(app, "POST", "/proposals", [MB] * 50,
                {"content-type": "application/json", "x-api-key": "wrong-key-123456"})
    assert call.status == 401 and call.read == 0
    upload = Call(app, "POST", "/imports", [MB] * 50,
                  {"content-type": "multipart/form-data; boundary=x", "content-length": str(300 * 2**20)})
    assert upload.status == 401 and upload.read == 0  # nothing of an anonymous upload reaches the disk
    planner = Call(app, "POST", "/imports", [MB], {"content-type": "multipart/form-data; boundary=x",
                                                   "x-api-key": PLANNER_KEY})
    assert planner.status == 403 and planner.read == 0


def test_bodies_are_capped_per_route(app_client: Any) -> None:
    app, _ = app_client
    declared = Call(app, "POST", "/proposals", [MB] * 50, {"content-type": "application/json",
                                                          "content-length": str(50_000_000), "x-api-key": PLANNER_KEY})
    assert declared.status == 413 and declared.read == 0
    assert declared.error()["code"] == "payload_too_large"
    chunked = Call(app, "POST", "/proposals", [MB] * 50, {"content-type": "application/json",
                                                         "x-api-key": PLANNER_KEY})
    assert chunked.status == 413 and chunked.read <= 3
    # an admin upload has its own, larger cap: 3 MB of a broken multipart body is read and refused as 4xx
    admin = Call(app, "POST", "/imports", [MB] * 3, {"content-type": "multipart/form-data; boundary=x",
                                                     "x-api-key": ADMIN_KEY})
    assert 400 <= admin.status < 500 and admin.status != 413


def test_batch_points_are_counted_while_streaming(app_client: Any) -> None:
    app, _ = app_client
    point = b'{"lon": 106.01, "lat": 26.01},'
    chunk = point * 1000
    chunks = [b'{"points": [' + chunk] + [chunk] * 99 + [point[:-1] + b"]}"]
    call = Call(app, "POST", "/stations/nearest", chunks, {"content-type": "application/json"})
    assert call.status == 422 and call.error()["field"] == "points"
    assert call.read <= 12  # stopped after 10,000 points, not after 100,000
    rows = [b"lon,lat\n" + b"106.01,26.01\n" * 5000] + [b"106.01,26.01\n" * 5000] * 20
    csv_call = Call(app, "POST", "/stations/nearest", rows, {"content-type": "text/csv"})
    assert csv_call.status == 422 and csv_call.read <= 4


def test_points_times_k_is_capped(app_client: Any) -> None:
    _, client = app_client
    points = [{"lon": 106.01, "lat": 26.01}] * 2000
    answer = client.post("/stations/nearest", json={"points": points, "k": 100})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "k"
    assert client.post("/stations/nearest", json={"points": points[:10], "k": 3}).status_code == 200


def test_expensive_requests_are_rate_limited(tiny_db_url: str) -> None:
    with make_client(tiny_db_url, max_expensive_per_minute=1) as client:
        first = client.post("/grid-splits", json={})
        assert first.status_code == 200, first.text
        assert first.json()  # computed in a child process, on this database
        second = client.post("/grid-splits", json={})
        assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
        assert second.json()["error"]["code"] == "too_many_requests" and second.json()["error"]["message_zh"]


def test_grid_splits_stop_at_their_budget(tiny_db_url: str) -> None:
    with make_client(tiny_db_url, compute_budget_s=0.001) as client:
        answer = client.post("/grid-splits", json={"min_households": 0, "max_households": 1})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "budget_exceeded"
        assert client.get("/locate", params={"lon": 106.01, "lat": 26.01}).status_code == 200
