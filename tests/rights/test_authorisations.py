"""授权查询: the subject grants a named organisation access for a purpose until a date, and may revoke it;
every query under it is checked and recorded, and the subject sees who queried it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from disclose.builders import COMPANY, catalog_with_levels
from web.conftest import AGENCY, PURPOSE, Portal, make_portal
from xinyong.codes import make_uscc
from xinyong.runtime import Runtime
from xinyong.security.models import agency_qualifications

UNREGISTERED = make_uscc("9", "1", "420100", "MA4K0999")


@pytest.fixture
def portal(runtime: Runtime, tmp_path: Path) -> Portal:
    # Licences at 授权查询: only the subject, an authorised querier and government bodies see them.
    return make_portal(runtime, tmp_path, catalog=catalog_with_levels({"XZXK": "授权查询"}), authorise=False)


def agency_view(portal: Portal, purpose: str = PURPOSE) -> object:
    return portal.client("authorised").get(
        f"/api/v1/subjects/{COMPANY}", params={"level": "authorised", "purpose": purpose}
    )


def grant(portal: Portal, **overrides: object) -> dict[str, object]:
    body = {"organisation_uscc": AGENCY, "purpose": PURPOSE, "valid_until": "2026-12-31", **overrides}
    response = portal.client("self").post("/api/v1/me/authorisations", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_without_an_authorisation_the_agency_is_refused_and_says_why(portal: Portal) -> None:
    response = agency_view(portal)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "书面授权" in response.json()["detail"]["message_zh"]  # type: ignore[attr-defined]
    public = portal.client("authorised").get(f"/api/v1/subjects/{COMPANY}").json()
    assert {"L1", "L2"}.isdisjoint(portal.timeline.labels([r["id"] for r in public["records"]]))


def test_grant_query_revoke(portal: Portal) -> None:
    granted = grant(portal, document_ref="授权书 2026-001")
    assert granted["in_force"] and granted["organisation"] == {
        "uscc": AGENCY,
        "name": "武汉某信用评级有限公司",
    }
    shown = agency_view(portal)
    assert shown.status_code == 200  # type: ignore[attr-defined]
    body = shown.json()  # type: ignore[attr-defined]
    assert body["audience"] == "authorised"
    assert portal.timeline.labels([r["id"] for r in body["records"]]) == {"P2", "P4", "L1", "L2"}
    assert agency_view(portal, purpose="招投标").status_code == 403  # type: ignore[attr-defined]

    listed = portal.client("self").get("/api/v1/me/authorisations").json()["authorisations"]
    assert [a["id"] for a in listed] == [granted["id"]]
    revoked = portal.client("self").post(f"/api/v1/me/authorisations/{granted['id']}/revoke")
    assert revoked.status_code == 200
    assert agency_view(portal).status_code == 403  # type: ignore[attr-defined]
    again = portal.client("self").post(f"/api/v1/me/authorisations/{granted['id']}/revoke")
    assert again.status_code == 404


def test_an_authorisation_ends_on_its_date(portal: Portal) -> None:
    grant(portal, valid_until="2026-06-30")
    portal.runtime.clock.set("2026-06-30T18:00:00")  # type: ignore[attr-defined]
    assert agency_view(portal).status_code == 200  # type: ignore[attr-defined]
    portal.runtime.clock.set("2026-07-01T09:00:00")  # type: ignore[attr-defined]
    assert agency_view(portal).status_code == 403  # type: ignore[attr-defined]


def test_each_query_is_checked_counted_and_logged_for_the_subject(portal: Portal) -> None:
    grant(portal)
    for _ in range(3):
        assert agency_view(portal).status_code == 200  # type: ignore[attr-defined]
    with portal.runtime.engine.connect() as conn:
        used = conn.execute(sa.select(agency_qualifications.c.quota_used)).scalar_one()
    assert used == 3
    queries = portal.client("self").get("/api/v1/me/queries").json()["queries"]
    assert len(queries) == 3
    first = queries[0]
    assert (first["who"], first["purpose"], first["level"], first["audience"], first["channel"]) == (
        "武汉某信用评级有限公司",
        PURPOSE,
        "authorised",
        "authorised",
        "api",
    )
    assert (
        first["shown"] == 4 and first["authorisation_id"] is not None and first["at"].startswith("2026-06-15")
    )
    # Another subject may not read this subject's query log.
    assert portal.client("authorised").get(f"/api/v1/subjects/{COMPANY}/queries").status_code == 403


def test_a_grant_must_name_a_registered_organisation_and_a_future_date(portal: Portal) -> None:
    client = portal.client("self")
    unknown = client.post(
        "/api/v1/me/authorisations",
        json={"organisation_uscc": UNREGISTERED, "purpose": PURPOSE, "valid_until": "2026-12-31"},
    )
    assert unknown.status_code == 422 and unknown.json()["detail"]["code"] == "rights.organisation"
    past = client.post(
        "/api/v1/me/authorisations",
        json={"organisation_uscc": AGENCY, "purpose": PURPOSE, "valid_until": "2026-01-01"},
    )
    assert past.status_code == 422 and past.json()["detail"]["code"] == "rights.valid_until"
    assert portal.client("public").post("/api/v1/me/authorisations", json={}).status_code == 403
