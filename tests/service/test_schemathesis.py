"""Property-based tests of every documented operation (schemathesis, bounded): no 5xx, answers match the schema.

schemathesis' ``from_fixture`` does not work with the installed pytest, so the operations are driven directly
with hypothesis: ``max_examples`` per operation, all default checks of ``call_and_validate``.
"""

from __future__ import annotations

import pytest
import schemathesis  # a test dependency (setup.cfg extra "test"): a missing install fails, never skips
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: no 5xx, and every response (status, content type, headers, body) as documented. Not included:
#: ``positive_data_acceptance`` (the schema cannot express "exactly one of lon/lat, x/y, district", so some
#: schema-valid combinations are rightly answered 400).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

MAX_EXAMPLES = 25


@pytest.mark.slow
def test_every_operation_conforms(app) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    count = 0
    for item in schema.get_all_operations():
        op = item.ok()
        count += 1

        @given(case=op.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, report all at once
            failures.append(f"{op.label}: {exc}"[:2000])
    assert count >= 15
    assert not failures, "\n\n".join(failures)
