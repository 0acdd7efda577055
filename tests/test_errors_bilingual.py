"""Every JSON error carries a Chinese ``message_zh`` beside the English ``message``; old keys stay."""

from __future__ import annotations

import re

import pytest

from api.errors import chinese, error_body
from geo.errors import InvalidInput, TooLarge

HAN = re.compile(r"[\u4e00-\u9fff]")


def _check(body: dict[str, object], code: str) -> dict[str, object]:
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) >= {"code", "message", "message_zh", "field"}
    assert error["code"] == code
    assert HAN.search(str(error["message_zh"])), error
    return error


def test_domain_error_keeps_its_own_chinese_text() -> None:
    exc = InvalidInput("effective_date is not a date", field="effective_date", zh="生效日期不是日期")
    assert exc.zh == "生效日期不是日期"
    assert InvalidInput("x").zh is None  # raise sites without zh still work


def test_chinese_text_is_worded_from_code_and_field() -> None:
    assert chinese("invalid_input", "bad", "effective_date") == "参数 effective_date 无效：bad"
    for code in ("unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict",
                 "payload_too_large", "too_many_requests", "invalid_input"):
        assert HAN.search(chinese(code, "x"))
    body = error_body("conflict", "unit changed")
    assert body["error"]["message"] == "unit changed" and "unit changed" in body["error"]["message_zh"]
    assert TooLarge("big").code == "payload_too_large"


@pytest.mark.parametrize("db_url", ["spatialite"], indirect=True)
def test_http_errors_are_bilingual(client) -> None:  # noqa: ANN001 - TestClient
    _check(client.get("/no/such/route").json(), "not_found")
    _check(client.delete("/locate").json(), "method_not_allowed")
    error = _check(client.get("/locate", params={"lon": "x", "lat": 1}).json(), "invalid_input")
    assert error["field"] == "lon" and "lon" in str(error["message_zh"])
    _check(client.post("/proposals", json={}).json(), "unauthorized")
    forbidden = client.post("/proposals", json={}, headers={"X-API-Key": "reader-key-0123456789"})
    assert forbidden.status_code == 403
    _check(forbidden.json(), "forbidden")
    _check(client.get("/proposals/99999/impact").json(), "not_found")
