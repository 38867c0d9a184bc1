"""schemathesis over the running server's /openapi.json: valid and invalid requests on every
route (with an admin key of its own tenant) never get a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration

schemathesis = pytest.importorskip("schemathesis")
GenerationMode = pytest.importorskip("schemathesis.generation").GenerationMode

EXAMPLES = 8
"""Per operation and mode (positive, negative): about 35 operations x 16 requests, under a minute."""


def test_no_response_is_a_server_error(server: MemlaneServer) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    headers = server.headers("fuzz")
    failures: list[str] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                response = case.call(base_url=server.url, headers=headers, timeout=30)
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(
                        f"{response.status_code} {case.method} {case.path}: {response.text[:300]}"
                    )

            try:
                call()
            except Unsatisfiable:  # no invalid request exists (an operation without parameters)
                continue
    assert failures == [], "\n".join(failures[:20])
    assert len(statuses) >= 200 and {200, 400, 404, 422} <= set(statuses)
    assert "Traceback" not in server.log()
