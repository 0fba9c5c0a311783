"""Fuzzing the JSON API from its own OpenAPI schema (schemathesis, in process over ASGI, on both databases).

Every operation is called with generated input — valid (positive) and invalid (negative) — as the public
and as a credit office system holding a token for everything the API offers, so that requests get past
the permission check into the handlers. Whatever comes in, the answer is never a 5xx, and every refusal is
a bilingual problem. Examples per operation and mode are bounded to keep the suite fast; CI may raise
them with XINYONG_FUZZ_EXAMPLES.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from xinyong.security.tokens import issue_token

from .conftest import CREDIT_OFFICE, Portal

EXAMPLES = int(os.environ.get("XINYONG_FUZZ_EXAMPLES", "6"))


def _token(portal: Portal) -> str:
    runtime = portal.runtime
    with runtime.engine.begin() as conn:
        issued = issue_token(
            conn,
            organisation_uscc=CREDIT_OFFICE,
            role="credit_office",
            name="fuzz",
            days=30,
            created_by="test",
            clock=runtime.clock,
            max_days=366,
        )
    return issued.token


def documented(case: schemathesis.Case) -> set[int]:
    """The statuses the schema describes for this operation (those a response can be held to)."""
    return {int(code) for code in case.operation.definition.raw.get("responses", {}) if code.isdigit()}


def test_no_input_makes_the_api_fail(portal: Portal) -> None:
    callers = ({}, {"Authorization": f"Bearer {_token(portal)}"})
    schema = schemathesis.openapi.from_asgi("/openapi.json", portal.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lists the API's operations"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            def call(case: schemathesis.Case) -> None:
                for headers in callers:
                    response = case.call(headers=headers)
                    where = f"{case.method} {case.formatted_path} {case.query or ''}"
                    assert response.status_code < 500, f"{where}: {response.text[:300]}"
                    if (
                        response.status_code >= 400
                        and "json" in response.headers.get("content-type", [""])[0]
                    ):
                        detail = response.json()["detail"]
                        assert isinstance(detail, dict) and detail.get("code"), (
                            f"{where}: {response.text[:300]}"
                        )
                        assert detail.get("message_zh") and detail.get("message_en"), response.text[:300]
                    if response.status_code in documented(case):
                        case.validate_response(response, checks=[response_schema_conformance])

            call()
