"""Every access to non-public information is on the audit trail: found or not, allowed or refused, at the
route check or after it, through the API or the portal."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from disclose.builders import COMPANY
from xinyong.codes import make_uscc
from xinyong.security.audit import entries
from xinyong.security.models import audit_log
from xinyong.store.tables import batches

from .conftest import Portal

UNKNOWN_COMPANY = make_uscc("9", "1", "420106", "MA4KQQ99")
UNKNOWN_PERSON = "420106199001011231"  # valid, and nobody the platform knows


def newest(portal: Portal, **match: Any) -> dict[str, Any]:
    with portal.runtime.engine.connect() as conn:
        found = [e for e in entries(conn, limit=200) if all(e.get(k) == v for k, v in match.items())]
    assert found, f"no audit entry with {match}"
    return found[0]


def count(portal: Portal) -> int:
    with portal.runtime.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()


def test_a_level_refused_after_the_route_check_is_recorded_with_the_subject(portal: Portal) -> None:
    agency = portal.client("authorised")
    refused = agency.get(f"/api/v1/subjects/{COMPANY}", params={"level": "government", "purpose": "贷款审批"})
    assert refused.status_code == 403
    entry = newest(portal, action="access.denied", actor="user:rating")
    assert entry["outcome"] == "denied" and entry["subject_id"] == portal.timeline.company_id
    assert entry["subject_key"] == COMPANY and entry["detail"]["level"] == "government"
    assert entry["detail"]["code"] == "security.forbidden" and entry["detail"]["channel"] == "api"
    allowed = agency.get(f"/api/v1/subjects/{COMPANY}", params={"level": "authorised", "purpose": "贷款审批"})
    assert allowed.status_code == 200
    shown = newest(portal, action="subject.read", actor="user:rating")
    assert shown["outcome"] == "ok" and shown["level"] == "authorised"


def test_refusals_of_the_public_and_for_want_of_a_purpose_are_recorded(portal: Portal) -> None:
    public = portal.client("public").get(f"/subjects/{COMPANY}", params={"level": "authorised"})
    assert public.status_code == 403
    entry = newest(portal, action="access.denied", actor="anonymous")
    assert entry["subject_id"] == portal.timeline.company_id and entry["detail"]["channel"] == "portal"
    government = portal.client("government")
    no_purpose = government.get(f"/api/v1/subjects/{COMPANY}", params={"level": "government"})
    assert no_purpose.status_code == 400
    entry = newest(portal, action="access.denied", actor="user:wuhan-gov")
    assert entry["detail"]["code"] == "security.purpose_required"


def test_a_government_lookup_that_finds_nothing_is_recorded(portal: Portal) -> None:
    government = portal.client("government")
    params = {"level": "government", "purpose": "行政许可审查"}
    missing = government.get(f"/api/v1/subjects/{UNKNOWN_COMPANY}", params=params)
    assert missing.status_code == 404
    entry = newest(portal, action="subject.read", actor="user:wuhan-gov")
    assert entry["outcome"] == "failed" and entry["subject_key"] == UNKNOWN_COMPANY
    assert entry["detail"] == {"channel": "api", "level": "government", "found": False}
    assert entry["purpose"] == "行政许可审查"

    person = government.get(f"/subjects/{UNKNOWN_PERSON}", params=params)  # the portal, an ID number
    assert person.status_code == 404
    entry = newest(portal, action="subject.read", actor="user:wuhan-gov")
    assert entry["detail"]["channel"] == "portal" and entry[
        "subject_key"
    ] == portal.runtime.protector.blind_index(UNKNOWN_PERSON)
    assert UNKNOWN_PERSON not in str(entry)  # the number itself is never written

    found = government.get(f"/api/v1/subjects/{COMPANY}", params=params)
    assert found.status_code == 200 and newest(portal, action="subject.read")["outcome"] == "ok"
    before = count(portal)  # public information is not an access to record
    assert portal.client("public").get(f"/api/v1/subjects/{UNKNOWN_COMPANY}").status_code == 404
    assert count(portal) == before


def test_every_look_at_a_batch_is_recorded(portal: Portal) -> None:
    with portal.runtime.engine.connect() as conn:
        batch_id = conn.execute(sa.select(sa.func.min(batches.c.id))).scalar_one()
    operator = portal.client("platform")
    assert operator.get(f"/api/v1/batches/{batch_id}").status_code == 200
    seen = newest(portal, action="batch.status", actor="user:operator")
    assert seen["outcome"] == "ok" and seen["object_id"] == str(batch_id)
    assert operator.get("/api/v1/batches/987654").status_code == 404
    missing = newest(portal, action="batch.status", actor="user:operator")
    assert missing["outcome"] == "failed" and missing["object_id"] == "987654"
    assert portal.client("government").get(f"/api/v1/batches/{batch_id}").status_code == 403
    refused = newest(portal, action="access.denied", actor="user:wuhan-gov")
    assert refused["detail"]["permission"] == "batch.status" and refused["detail"]["path"].endswith(
        str(batch_id)
    )
    assert operator.get("/api/v1/batches/987654/errors").status_code == 404
    assert newest(portal, action="batch.errors")["outcome"] == "failed"


def test_a_long_code_is_recorded_cut_to_fit_not_refused_with_a_500(portal: Portal) -> None:
    code = "9" * 300
    params = {"level": "government", "purpose": "行政许可审查"}
    missing = portal.client("government").get(f"/api/v1/subjects/{code}", params=params)
    assert missing.status_code in (404, 422)  # not found, or not a code at all: refused either way
    entry = newest(portal, action="subject.read", actor="user:wuhan-gov")
    assert (
        entry["outcome"] == "failed"
        and len(entry["subject_key"]) == 64
        and entry["subject_key"].endswith("…")
    )
    with portal.runtime.engine.connect() as conn:
        from xinyong.security.audit import verify

        assert verify(conn).ok  # what was cut is what was hashed
