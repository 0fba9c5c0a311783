"""A report says exactly what the API says to the same audience on the same day: read the PDF back (text
extraction) and the JSON of the same report, and compare them with GET /api/v1/subjects/{code}."""

from __future__ import annotations

from typing import Any

import pytest

from disclose.builders import COMPANY
from web.conftest import Portal

from .conftest import pdf_text, squeeze

# audience -> (the report kind it may have, the level the API is asked at)
KINDS = {
    "public": ("public", "public"),
    "self": ("full", "authorised"),
    "authorised": ("authorised", "authorised"),
}
PURPOSE = "贷款审批"


def issue(portal: Portal, audience: str, fmt: str) -> Any:
    kind, _ = KINDS[audience]
    body: dict[str, Any] = {"subject": COMPANY, "kind": kind}
    if audience == "authorised":
        body["purpose"] = PURPOSE
    response = portal.client(audience).post(f"/api/v1/reports?format={fmt}", json=body)
    assert response.status_code == 200, response.text
    return response


def api_view(portal: Portal, audience: str) -> dict[str, Any]:
    _, level = KINDS[audience]
    params = {"level": level, **({"purpose": PURPOSE} if audience == "authorised" else {})}
    response = portal.client(audience).get(f"/api/v1/subjects/{COMPANY}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("audience", ["public", "self", "authorised"])
def test_the_pdf_and_the_json_say_what_the_api_says(portal: Portal, audience: str) -> None:
    portal.timeline.set_state("P2", "disputed")  # 异议处理中: marked in every channel
    api = api_view(portal, audience)
    answer = issue(portal, audience, "pdf")
    pdf = pdf_text(answer.content)
    report = issue(portal, audience, "json").json()["report"]  # the same content, another number

    shown = {r["source_key"] for r in api["records"]}
    in_pdf = {key for key in portal.timeline.keys.values() if squeeze(key) in pdf}
    assert in_pdf == shown
    reported = {r["source_key"]: r for s in report["sections"] for r in s["records"]}
    assert set(reported) == shown
    for record in api["records"]:
        mine = reported[record["source_key"]]
        assert {k: v for k, v in mine.items() if k != "fields"} == record  # the API's own shape
        assert squeeze(record["title"]) in pdf
        for mark in record["marks"]:
            assert mark["zh"] in pdf
    assert "异议处理中" in pdf  # P2 is shown to every audience here, disputed
    assert report["audience"]["code"] == api["audience"]
    assert report["subject"]["name"] in pdf and answer.headers["X-Report-Number"] in pdf
    assert report["issuer"]["verify_url"].endswith(f"/verify/{report['number']}")


def test_the_full_version_shows_what_only_the_subject_sees(portal: Portal) -> None:
    public = pdf_text(issue(portal, "public", "pdf").content)
    full = pdf_text(issue(portal, "self", "pdf").content)
    p3 = squeeze(portal.timeline.keys["P3"])  # 轻微, not published: the subject and government only
    assert p3 in full and "未公示" in full
    assert p3 not in public


@pytest.mark.parametrize("state", ["repaired", "expired"])
def test_a_repaired_or_expired_record_is_absent_from_report_and_api(portal: Portal, state: str) -> None:
    portal.timeline.set_state("P2", state)
    key = portal.timeline.keys["P2"]
    api = api_view(portal, "public")
    assert key not in {r["source_key"] for r in api["records"]}
    assert squeeze(key) not in pdf_text(issue(portal, "public", "pdf").content)
    report = issue(portal, "public", "json").json()["report"]
    assert key not in {r["source_key"] for s in report["sections"] for r in s["records"]}
    # the sibling: an active record of the same report is there
    assert squeeze(portal.timeline.keys["P4"]) in pdf_text(issue(portal, "public", "pdf").content)


def test_the_full_version_is_for_the_subject_itself(portal: Portal) -> None:
    refused = portal.client("public").post("/api/v1/reports", json={"subject": COMPANY, "kind": "full"})
    assert refused.status_code == 403
    accepted = portal.client("self").post("/api/v1/reports", json={"subject": COMPANY, "kind": "full"})
    assert accepted.status_code == 200


def test_the_free_quota_of_full_reports_is_policy(portal: Portal) -> None:
    client = portal.client("self")
    for _ in range(2):  # policy self_query.free_reports_per_year: 2
        assert client.post("/api/v1/reports", json={"subject": COMPANY, "kind": "full"}).status_code == 200
    third = client.post("/api/v1/reports", json={"subject": COMPANY, "kind": "full"})
    assert third.status_code == 429
    assert third.json()["detail"]["code"] == "report.quota_exhausted"
    # public versions are not counted against it
    assert client.post("/api/v1/reports", json={"subject": COMPANY, "kind": "public"}).status_code == 200


def test_every_report_is_audited_stored_and_counted(portal: Portal) -> None:
    import sqlalchemy as sa

    from xinyong.reports.models import reports
    from xinyong.reports.service import counts
    from xinyong.security.models import audit_log

    number = issue(portal, "authorised", "json").json()["number"]
    issue(portal, "public", "json")
    engine = portal.runtime.engine
    with engine.connect() as conn:
        entry = conn.execute(
            sa.select(audit_log).where(audit_log.c.action == "report.issue", audit_log.c.object_id == number)
        ).one()
        row = conn.execute(sa.select(reports).where(reports.c.number == number)).one()
        assert counts(conn) == {"authorised": 1, "public": 1}
        logged = conn.execute(sa.text("SELECT count(*) FROM query_log WHERE purpose = :p"), {"p": PURPOSE})
        assert logged.scalar_one() >= 1  # the authorised look-up is in the subject's query log
    assert entry.purpose == PURPOSE and entry.level == "authorised"
    stored = portal.runtime.protector.decrypt(row.content_sealed)
    import hashlib

    assert hashlib.sha256(stored.encode()).hexdigest() == row.digest
