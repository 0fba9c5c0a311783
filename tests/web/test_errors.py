"""Input the API cannot use is a 4xx with a bilingual problem; anything unexpected a 500 problem with a
reference, logged — never a traceback (web/errors.py)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from xinyong.web.deps import permission

from .conftest import PASSWORD, Portal

TOO_BIG = "999999999999999999999"


def problem(response: object) -> dict[str, str]:
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    assert detail["code"] and detail["message_zh"] and detail["message_en"], detail
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return detail


@pytest.mark.parametrize(
    ("path", "audience"),
    [
        ("/api/v1/records/{id}", "public"),
        ("/api/v1/batches/{id}", "platform"),
        ("/api/v1/batches/{id}/errors", "platform"),
        ("/notices/{id}", "public"),
    ],
)
def test_an_id_too_large_for_the_database_is_422(portal: Portal, path: str, audience: str) -> None:
    client = portal.client(audience)
    refused = client.get(path.format(id=TOO_BIG))
    assert refused.status_code == 422
    detail = problem(refused)
    assert detail["code"] == "request.invalid" and detail["field"] in ("record_id", "batch_id")
    assert "9223372036854775807" in detail["message_zh"]
    largest = client.get(path.format(id=2**63 - 1))  # the largest id is a fair question: not found
    assert largest.status_code == 404, largest.text


def test_a_record_id_in_range_is_answered(portal: Portal) -> None:
    shown = portal.client("public").get(f"/api/v1/records/{portal.timeline.ids['P2']}")
    assert shown.status_code == 200 and shown.json()["id"] == portal.timeline.ids["P2"]


def test_json_nested_too_deep_is_400(portal: Portal) -> None:
    client = portal.client("public")
    deep = "[" * 100_000 + "]" * 100_000
    refused = client.post("/api/v1/auth/login", content=deep, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400 and problem(refused)["code"] == "request.too_deep"
    shallow = client.post("/api/v1/auth/login", json={"username": "operator", "password": PASSWORD})
    assert shallow.status_code == 200


@pytest.mark.parametrize("digits", [4300, 4301, 10_000])
def test_a_number_too_long_in_json_is_4xx(portal: Portal, digits: int) -> None:
    body = '{"username": "operator", "password": ' + "7" * digits + "}"
    refused = portal.client("public").post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code in (400, 422)
    detail = problem(refused)
    assert detail["code"] in ("request.number_too_long", "request.invalid")
    assert "7777777" not in refused.text  # the value is never echoed


def test_validation_errors_are_bilingual_and_do_not_echo_what_was_sent(portal: Portal) -> None:
    client = portal.client("public")
    secret = "11010519491231002X" + "p" * 1100
    refused = client.post("/api/v1/auth/login", json={"username": "operator", "password": secret})
    assert refused.status_code == 422
    detail = problem(refused)
    assert detail["field"] == "password" and "1024" in detail["message_zh"] and "1024" in detail["message_en"]
    assert "11010519491231002X" not in refused.text and "ppp" not in refused.text
    both = client.get("/api/v1/records", params={"limit": "0", "format": "pdf"})
    assert both.status_code == 422 and {p["field"] for p in both.json()["detail"]["problems"]} == {
        "limit",
        "format",
    }


def test_unknown_addresses_and_methods_are_problems(portal: Portal) -> None:
    client = portal.client("public")
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and problem(missing)["code"] == "request.not_found"
    wrong = client.delete("/api/v1/records")
    assert wrong.status_code == 405 and problem(wrong)["code"] == "request.method"


def test_an_unexpected_error_is_a_500_problem_with_a_reference_in_the_log(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    @portal.app.get("/api/v1/test-fault", include_in_schema=False)
    def fault(_: object = permission("ops.health")) -> None:
        raise RuntimeError("lookup of 11010519491231002X failed")

    client = TestClient(portal.app)
    with caplog.at_level(logging.ERROR, logger="xinyong.web.errors"):
        broken = client.get("/api/v1/test-fault")
    assert broken.status_code == 500
    detail = problem(broken)
    assert detail["code"] == "server.error" and detail["reference"] in detail["message_zh"]
    assert "RuntimeError" not in broken.text and "11010519491231002X" not in broken.text
    logged = [r for r in caplog.records if detail["reference"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "11010519491231002X" not in caplog.text  # the log is masked like every log
    assert client.get("/healthz").status_code == 200  # the app carries on


def test_a_value_the_database_cannot_store_is_4xx_not_500(portal: Portal) -> None:
    """PostgreSQL refuses a NUL in text (a DataError no validator caught): the caller hears a 4xx problem."""
    client = portal.client("platform")
    body = {"item": "XZCF", "source": "11420100Q01002015R", "key": "武环罚\x00〔2026〕1号"}
    refused = client.post("/api/v1/records/revocations", json=body)
    assert 400 <= refused.status_code < 500, refused.text
    detail = problem(refused)
    assert "\x00" not in refused.text and detail["code"] in ("request.unstorable_value", "record.not_found")
    plain = client.post("/api/v1/records/revocations", json={**body, "key": "武环罚〔2026〕1号"})
    assert plain.status_code in (200, 201, 404), plain.text  # the same request without the NUL is heard


def test_a_record_number_too_large_in_a_form_is_422(portal: Portal) -> None:
    """Found by the schemathesis fuzz: an application naming record 2**63 crashed SQLite's integer."""
    client = portal.client("platform")
    for route in ("/api/v1/repairs", "/api/v1/objections"):
        refused = client.post(route, data={"record_id": str(2**63), "reason": "x"})
        assert refused.status_code == 422 and problem(refused)["field"] == "record_id", refused.text
        unknown = client.post(route, data={"record_id": str(2**63 - 1), "reason": "x"})
        assert unknown.status_code == 404, unknown.text  # the largest number is a fair question
