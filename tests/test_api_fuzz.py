"""Schemathesis against the app's own OpenAPI schema: no generated input may cause a 5xx.

Bounded: a fixed number of examples per operation (a budget: a quick run in ``make test``, a long one marked
slow for ``make test-slow``), derandomized so CI runs are repeatable. No timing is judged: a request may take
as long as a busy machine needs (``REQUEST_TIMEOUT``), only its answer counts.
"""

from __future__ import annotations

import pytest
import schemathesis
from conftest import ADMIN_KEY, make_client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

EXAMPLES_PER_OPERATION = 10
LONG_EXAMPLES_PER_OPERATION = 60
REQUEST_TIMEOUT = 300  # seconds; schemathesis' default (10 s) fails a slow PDF on a loaded machine


def _fuzz(operation, examples: int) -> None:  # noqa: ANN001 - a schemathesis APIOperation
    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # noqa: ANN001
        response = case.call(headers={"X-API-Key": ADMIN_KEY}, timeout=REQUEST_TIMEOUT)
        case.validate_response(response, checks=[not_a_server_error])
        if 400 <= response.status_code < 500:
            error = response.json()["error"]
            assert error["code"] and error["message"], response.text

    run()


@pytest.mark.parametrize("examples", [
    pytest.param(EXAMPLES_PER_OPERATION, id="quick"),
    pytest.param(LONG_EXAMPLES_PER_OPERATION, id="long", marks=pytest.mark.slow),
])
def test_no_generated_input_causes_a_server_error(tiny_db_url: str, examples: int) -> None:
    with make_client(tiny_db_url) as client:  # runs the lifespan: engine and caches on app.state
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10
        for operation in operations:
            _fuzz(operation, examples)


def test_a_csv_the_fuzzing_found_is_refused_with_a_message(client) -> None:  # noqa: ANN001 - a TestClient
    # Once a 500: the csv module refuses a bare carriage return in an unquoted field.
    response = client.post("/stations/nearest", content=b"\r0", headers={"content-type": "text/csv"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "body"
