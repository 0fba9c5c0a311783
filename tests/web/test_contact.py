"""通知邮箱: a signed-in subject or department sees and sets the address its notifications are mailed to,
through the page's own form (the CSRF token taken from the page), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from rights.casework_world import Casework, build_casework
from xinyong.rights import notify
from xinyong.rights.models import notification_contacts
from xinyong.runtime import Runtime
from xinyong.security.models import audit_log

from .test_casework import HTML, browser, page, token


@pytest.fixture
def case(runtime: Runtime, tmp_path: Path) -> Casework:
    return build_casework(runtime, tmp_path)


def test_a_subject_and_a_department_set_their_address(case: Casework) -> None:
    case.at("2026-09-30T09:00:00")
    subject = browser(case, "subject")
    form = page(subject, "/me/contact")
    assert "通知邮箱" in form and 'value=""' in form
    saved = subject.post(
        "/me/contact", data={"email": " legal@huaxin.example ", "csrf_token": token(form)}, headers=HTML
    )
    assert (
        saved.status_code == 200 and "已保存" in saved.text and 'value="legal@huaxin.example"' in saved.text
    )
    department = browser(case, "source")
    form = page(department, "/me/contact")
    department.post(
        "/me/contact", data={"email": "duty@env.example", "csrf_token": token(form)}, headers=HTML
    )
    with case.runtime.engine.connect() as conn:
        company = notify.Party.subject(case.rights.timeline.company_id)
        assert notify.contact(conn, company)["email"] == "legal@huaxin.example"
        env = conn.execute(
            sa.select(notification_contacts.c.email).where(
                notification_contacts.c.party_kind == "organisation"
            )
        ).scalar_one()
        assert env == "duty@env.example"
        logged = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "contact.set")).all()
        assert len(logged) == 2 and all("@" not in str(d) for (d,) in logged)  # the address is not logged
    # Empty clears it: no more e-mail, the inbox still has every message.
    form = page(subject, "/me/contact")
    subject.post("/me/contact", data={"email": "", "csrf_token": token(form)}, headers=HTML)
    with case.runtime.engine.connect() as conn:
        assert notify.contact(conn, company)["email"] is None


@pytest.mark.parametrize(
    "bad", ["not-an-address", "a@b", "two@one.example, three@two.example", "x" * 200 + "@a.cn"]
)
def test_an_invalid_address_is_refused_and_nothing_changes(case: Casework, bad: str) -> None:
    case.at("2026-09-30T09:00:00")
    subject = browser(case, "subject")
    form = page(subject, "/me/contact")
    subject.post("/me/contact", data={"email": "ok@huaxin.example", "csrf_token": token(form)}, headers=HTML)
    refused = subject.post("/me/contact", data={"email": bad, "csrf_token": token(form)}, headers=HTML)
    assert refused.status_code == 422 and "有效的电子邮箱地址" in refused.text
    assert bad not in refused.text  # what was typed is not echoed
    with case.runtime.engine.connect() as conn:
        company = notify.Party.subject(case.rights.timeline.company_id)
        assert notify.contact(conn, company)["email"] == "ok@huaxin.example"


def test_the_form_needs_its_csrf_token(case: Casework) -> None:
    case.at("2026-09-30T09:00:00")
    subject = browser(case, "subject")
    forged = subject.post("/me/contact", data={"email": "evil@attacker.example"}, headers=HTML)
    assert forged.status_code == 403
    with case.runtime.engine.connect() as conn:
        assert notify.contact(conn, notify.Party.subject(case.rights.timeline.company_id))["email"] is None


def test_the_api_sets_and_reads_the_same_address_the_page_shows(case: Casework) -> None:
    """PUT/GET /api/v1/me/contact call the same service as the page: what one sets, the other shows."""
    case.at("2026-09-30T09:00:00")
    api = case.clients["subject"]  # signed in, with its CSRF header, as an API client is
    assert api.get("/api/v1/me/contact").json() == {"email": None}
    saved = api.put("/api/v1/me/contact", json={"email": " legal@huaxin.example "})
    assert saved.status_code == 200 and saved.json() == {"email": "legal@huaxin.example"}
    refused = api.put("/api/v1/me/contact", json={"email": "two@one.example, three@two.example"})
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "contact.email"
    assert "two@one.example" not in refused.text  # what was typed is not echoed
    assert api.get("/api/v1/me/contact").json() == {"email": "legal@huaxin.example"}
    assert 'value="legal@huaxin.example"' in page(browser(case, "subject"), "/me/contact")
