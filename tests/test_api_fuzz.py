"""Schemathesis against the app's own OpenAPI schema: no generated input may cause a 5xx.

Bounded: a fixed number of examples per operation, derandomized so CI runs are repeatable.
"""

from __future__ import annotations

import schemathesis
from conftest import ADMIN_KEY, make_client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

EXAMPLES_PER_OPERATION = 25


def _fuzz(operation) -> None:  # noqa: ANN001 - a schemathesis APIOperation
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # noqa: ANN001
        response = case.call(headers={"X-API-Key": ADMIN_KEY})
        case.validate_response(response, checks=[not_a_server_error])
        if 400 <= response.status_code < 500:
            error = response.json()["error"]
            assert error["code"] and error["message"], response.text

    run()


def test_no_generated_input_causes_a_server_error(tiny_db_url: str) -> None:
    with make_client(tiny_db_url) as client:  # runs the lifespan: engine and caches on app.state
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10
        for operation in operations:
            _fuzz(operation)
