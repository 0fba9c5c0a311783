"""E-mail notifications through the SMTP adapter, against a real SMTP server (aiosmtpd) on 127.0.0.1:
the party with an address on file gets each step by mail after the commit; a relay that is down leaves the
message marked failed and the site inbox unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import sqlalchemy as sa

from smtp_server import Mailbox, free_port, running_smtp
from xinyong.rights import notify
from xinyong.rights.models import notifications
from xinyong.rights.outbound import SmtpEmail
from xinyong.runtime import Runtime

from .casework_world import Casework, build_casework


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def case(runtime: Runtime, tmp_path: Path) -> Casework:
    return build_casework(runtime, tmp_path)


def _subject_party(case: Casework) -> notify.Party:
    return notify.Party.subject(case.rights.timeline.company_id)


def test_each_step_is_mailed_to_the_address_on_file(case: Casework, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    relay = SmtpEmail.from_settings({"XINYONG_SMTP_HOST": "127.0.0.1", "XINYONG_SMTP_PORT": str(port)})
    assert relay is not None and relay.port == port
    case.portal.app.state.email = relay
    with case.runtime.engine.begin() as conn:
        notify.set_contact(
            conn, _subject_party(case), email="xinyong@huaxin.example", clock=case.runtime.clock
        )
    case.at("2026-09-30T09:00:00")
    filed = case.clients["subject"].post(
        "/api/v1/objections", data={"record_id": case.rights.ids["OBJECTED"], "reason": "金额有误"}
    )
    assert filed.status_code == 201, filed.text
    assert len(mailbox.received) == 1  # the platform has no address on file: only the subject is mailed
    envelope = mailbox.received[0]
    assert envelope.rcpt_tos == ["xinyong@huaxin.example"]
    mail = message_from_bytes(envelope.content)
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject == f"异议 {filed.json()['id']} 已受理 / Objection {filed.json()['id']} received"
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "异议处理中" in body and case.rights.keys["OBJECTED"] in body
    with case.runtime.engine.connect() as conn:
        states = conn.execute(sa.select(notifications.c.party_kind, notifications.c.email_state)).all()
    assert sorted(states) == [("platform", "none"), ("subject", "sent")]
    # Sending again sends nothing twice.
    assert notify.send_pending(case.runtime.engine, relay, clock=case.runtime.clock) == {
        "sent": 0,
        "failed": 0,
    }


def test_a_relay_that_is_down_marks_the_mail_failed(case: Casework) -> None:
    case.portal.app.state.email = SmtpEmail(host="127.0.0.1", port=free_port(), timeout_s=2)
    with case.runtime.engine.begin() as conn:
        notify.set_contact(
            conn, _subject_party(case), email="xinyong@huaxin.example", clock=case.runtime.clock
        )
    case.at("2026-09-30T09:00:00")
    filed = case.clients["subject"].post(
        "/api/v1/objections", data={"record_id": case.rights.ids["OBJECTED"], "reason": "金额有误"}
    )
    assert filed.status_code == 201  # the step stands; the message waits in the inbox, its mail failed
    inbox = case.clients["subject"].get("/api/v1/me/inbox").json()["notifications"]
    assert [(n["title"]["zh"], n["email"]) for n in inbox] == [
        (f"异议 {filed.json()['id']} 已受理", "failed")
    ]


def test_no_relay_configured_sends_nothing() -> None:
    assert SmtpEmail.from_settings({}) is None
