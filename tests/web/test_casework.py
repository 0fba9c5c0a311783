"""The 权益保护 pages, on SQLite and PostgreSQL, driven through their own forms (the CSRF token taken from
the page, not from a header): the subject objects and applies from 我的信用信息, follows 我的申请; the
platform forwards and the source department decides from 待办, where an overdue task is shown in red.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from disclose.builders import COMPANY
from rights.casework_world import PDF, Casework, build_casework
from xinyong.runtime import Runtime
from xinyong.security.sessions import csrf_token
from xinyong.web.deps import CSRF_HEADER, SESSION_COOKIE

HTML = {"accept": "text/html"}


@pytest.fixture
def case(runtime: Runtime, tmp_path: Path) -> Casework:
    return build_casework(runtime, tmp_path)


def browser(case: Casework, party: str) -> TestClient:
    """The party's client as a browser is: the session cookie, but no CSRF header."""
    client = case.clients[party]
    client.headers.pop(CSRF_HEADER, None)
    return client


def page(client: TestClient, url: str) -> str:
    answer = client.get(url, headers=HTML)
    assert answer.status_code == 200, answer.text
    return answer.text


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def test_object_forward_correct_through_the_pages(case: Casework) -> None:
    record, key = case.rights.ids["OBJECTED"], case.rights.keys["OBJECTED"]
    case.at("2026-09-30T09:00:00")
    subject = browser(case, "subject")
    mine = page(subject, "/me/credit")
    assert key in mine and f'href="/me/records/{record}/object"' in mine
    form = page(subject, f"/me/records/{record}/object")
    # Without the form's token the request is refused; with it, the objection is filed.
    bare = subject.post(f"/me/records/{record}/object", data={"reason": "金额有误"}, headers=HTML)
    assert bare.status_code == 403
    filed = subject.post(
        f"/me/records/{record}/object",
        data={"reason": "罚款金额有误", "kind": "wrong", "csrf_token": token(form)},
        files={"attachments": ("凭证.pdf", PDF, "application/pdf")},
        headers=HTML,
        follow_redirects=False,
    )
    assert filed.status_code == 303 and filed.headers["location"] == "/me/applications"
    applications = page(subject, "/me/applications")
    assert 'data-step="forward"' in applications and "2026-10-09" in applications
    assert "异议处理中" in page(subject, "/me/credit")
    # The platform forwards from its queue.
    case.at("2026-10-09T09:00:00")
    platform = browser(case, "platform")
    queue = page(platform, "/tasks")
    action = re.search(r'action="(/tasks/objections/\d+/forward)"', queue)
    assert action, queue
    moved = platform.post(action.group(1), data={"csrf_token": token(queue)}, follow_redirects=False)
    assert moved.status_code == 303
    # Past its due day (Thursday 15 October) the department's task shows overdue, in red.
    case.at("2026-10-16T09:00:00")
    source = browser(case, "source")
    queue = page(source, "/tasks")
    assert re.search(r'class="task overdue"[^>]*data-step="objection.provider_decide"', queue)
    assert "已超期" in queue
    decide = re.search(r'action="(/tasks/objections/\d+/decide)"', queue)
    assert decide
    # Another department's decision is refused; the source's corrects the record.
    other = browser(case, "other")
    assert (
        other.post(
            decide.group(1),
            data={
                "csrf_token": csrf_token(other.cookies[SESSION_COOKIE]),
                "outcome": "upheld",
                "reason": "维持",
            },
        ).status_code
        == 403
    )
    done = source.post(
        decide.group(1),
        data={
            "csrf_token": token(queue),
            "outcome": "corrected",
            "values": "cf_nr_fk=0.5",
            "reason": "核实更正",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    public = page(case.clients["public"], f"/subjects/{COMPANY}")
    assert key in public and "已更正" in public
    subject = browser(case, "subject")  # signed in again: the clock moved on
    outcome = page(subject, "/me/applications")
    assert 'data-outcome="corrected"' in outcome and "核实更正" in outcome
    assert "已办结：更正" in page(subject, "/inbox")


def test_repair_eligibility_shown_before_the_form(case: Casework) -> None:
    record, key = case.rights.ids["REPAIRED"], case.rights.keys["REPAIRED"]
    case.at("2026-09-30T09:00:00")
    subject = browser(case, "subject")
    early = page(subject, f"/me/records/{record}/repair")
    assert (
        'data-eligible="no"' in early and "2026-10-01" in early and "<form" not in early.split("</header>")[1]
    )
    case.at("2026-10-08T10:00:00")
    subject = browser(case, "subject")
    form = page(subject, f"/me/records/{record}/repair")
    assert 'data-eligible="yes"' in form
    refused = subject.post(
        f"/me/records/{record}/repair",
        data={"csrf_token": token(form), "commitment": "true", "rectified": "true"},
        headers=HTML,
    )
    assert refused.status_code == 422 and "罚款" in refused.text
    applied = subject.post(
        f"/me/records/{record}/repair",
        data={"csrf_token": token(form), "commitment": "true", "paid": "true", "rectified": "true"},
        files={"proof": ("收据.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    platform = browser(case, "platform")
    queue = page(platform, "/tasks")
    decide = re.search(r'action="(/tasks/repairs/\d+/decide)"', queue)
    assert decide
    platform.post(
        decide.group(1), data={"csrf_token": token(queue), "decision": "approve", "reason": "已履行"}
    )
    assert key not in page(case.clients["public"], f"/subjects/{COMPANY}")
    assert "已修复" in page(subject, "/me/credit")  # the subject still sees its own record, marked


def test_pages_switch_to_english(case: Casework) -> None:
    case.at("2026-09-30T09:00:00")
    assert "My credit information" in page(browser(case, "subject"), "/me/credit?lang=en")
    assert "Tasks" in page(browser(case, "platform"), "/tasks?lang=en")
