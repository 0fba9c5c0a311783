"""A decision revoked (撤销): the record leaves public view at once and the policy's 3-working-day deadline
is measured from the day the decision was revoked; only the record's source department, the collection
system that forwarded it, or the platform may report it. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from disclose.builders import COMPANY, ENV_BUREAU, SAMR_BUREAU, SUBMITTER
from web.conftest import PASSWORD, Portal, login, make_portal
from xinyong.config import Settings
from xinyong.events import events_after
from xinyong.runtime import Runtime
from xinyong.security.accounts import create_user
from xinyong.security.organisations import add_organisation, find_organisation
from xinyong.security.settings import SecuritySettings

from .builders import Rights, add_extra_records
from .cli_helpers import Run, make_cli


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    return make_cli(settings, monkeypatch)


@pytest.fixture
def world(runtime: Runtime, tmp_path: Path) -> tuple[Portal, Rights]:
    portal = make_portal(runtime, tmp_path)
    rights = add_extra_records(portal.timeline, tmp_path)
    sec = SecuritySettings.load(runtime.settings)
    with runtime.engine.begin() as conn:
        if find_organisation(conn, SAMR_BUREAU[0]) is None:  # the timeline registers its departments
            add_organisation(
                conn, name=SAMR_BUREAU[1], uscc=SAMR_BUREAU[0], kind="provider", clock=runtime.clock
            )
        for username, org in (("env", ENV_BUREAU[0]), ("samr", SAMR_BUREAU[0]), ("collector", SUBMITTER)):
            create_user(
                conn,
                username=username,
                display_name=username,
                role="provider",
                password=PASSWORD,
                organisation_uscc=org,
                clock=runtime.clock,
                settings=sec,
            )
    return portal, rights


def signed_in(portal: Portal, username: str) -> TestClient:
    return login(TestClient(portal.app), username)


def shown_publicly(portal: Portal, key: str) -> bool:
    body = portal.client("public").get(f"/api/v1/subjects/{COMPANY}").json()
    return any(r["source_key"] == key for r in body["records"])


def test_the_source_department_revokes_through_the_api(world: tuple[Portal, Rights]) -> None:
    portal, rights = world
    key = rights.keys["OBJECTED"]
    portal.runtime.clock.set("2026-10-12T15:00")  # type: ignore[attr-defined]
    body = {"item": "XZCF", "source": ENV_BUREAU[0], "key": key, "revoked_on": "2026-10-08"}
    assert shown_publicly(portal, key)

    # Another department may not report someone else's record revoked; nothing changes.
    other = signed_in(portal, "samr").post("/api/v1/records/revocations", json=body)
    assert other.status_code == 403 and other.json()["detail"]["code"] == "record.not_writer"
    assert shown_publicly(portal, key)

    done = signed_in(portal, "env").post("/api/v1/records/revocations", json=body)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["state"], answer["previous_state"]) == ("withdrawn", "active")
    # Revoked Thu 8 Oct; 3 working days: Fri 9 (1), Sat 10 调休 (2), Mon 12 (3) — removed on the last day.
    task = answer["task"]
    assert (task["due_on"], task["done_on"], task["taken_working_days"], task["late"]) == (
        "2026-10-12",
        "2026-10-12",
        3,
        False,
    )
    assert task["rule"] == "objection.revoked_decision_removed_within"
    assert not shown_publicly(portal, key)
    with portal.runtime.engine.connect() as conn:
        written = [e["type"] for e in events_after(conn, after=0) if e["type"] != "batch.loaded"]
        assert written == ["record.revoked"]

    again = signed_in(portal, "env").post("/api/v1/records/revocations", json=body)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "record.already_withdrawn"
    unknown = signed_in(portal, "env").post("/api/v1/records/revocations", json={**body, "key": "不存在"})
    assert unknown.status_code == 404


def test_the_forwarding_collection_system_may_revoke_and_a_late_report_is_measured(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    portal, rights = world
    key = rights.keys["REPAIRED"]
    # The provincial collection system sent this record (batch provenance), so it may report it revoked.
    answer = cli(
        "record", "revoke", "--item", "XZCF", "--source", ENV_BUREAU[0], "--key", key,
        "--revoked-on", "2026-10-08", "--org", SUBMITTER, "--json", at="2026-10-13T09:00",
    )  # fmt: skip
    # Revoked Thu 8 Oct, reported Tue 13 Oct: 4 working days (9, 10 调休, 12, 13) > 3 — late, and kept so.
    task = answer["task"]
    assert (task["due_on"], task["taken_working_days"], task["late"]) == ("2026-10-12", 4, True)
    portal.runtime.clock.set("2026-10-13T09:01")  # type: ignore[attr-defined]
    assert not shown_publicly(portal, key)
    # A department that neither decided nor forwarded it is refused.
    refused = cli(
        "record", "revoke", "--item", "XZCF", "--source", ENV_BUREAU[0], "--key", rights.keys["OBJECTED"],
        "--org", SAMR_BUREAU[0], "--json", at="2026-10-13T09:00", code=1,
    )  # fmt: skip
    assert "record.not_writer" in refused.stderr
    assert shown_publicly(portal, rights.keys["OBJECTED"])
