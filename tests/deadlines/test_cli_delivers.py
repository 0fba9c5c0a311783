"""`xinyong deadlines run` tells the parties what it did — the reminders it sent and the disclosures it
suspended — in the site inbox and by e-mail through the configured relay (a real SMTP server), the same
way the schedule of `xinyong serve` does; before, they waited for the next web step or the next schedule.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from disclose.builders import COMPANY, build_timeline
from rights.builders import add_extra_records
from rights.cli_helpers import make_cli
from smtp_server import running_smtp
from xinyong.config import Settings
from xinyong.rights import notify
from xinyong.rights.models import notifications
from xinyong.runtime import Runtime

PLATFORM_MAIL = "duty@credit.example"
SUBJECT_MAIL = "legal@huaxin.example"


def test_the_run_delivers_its_reminders_and_suspensions(
    runtime: Runtime, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rights = add_extra_records(build_timeline(runtime, tmp_path), tmp_path)
    with runtime.engine.begin() as conn:
        notify.set_contact(conn, notify.Party.platform(), email=PLATFORM_MAIL, clock=runtime.clock)
        subject = notify.Party.subject(rights.timeline.company_id)
        notify.set_contact(conn, subject, email=SUBJECT_MAIL, clock=runtime.clock)
    cli = make_cli(settings, monkeypatch)
    with running_smtp() as (mailbox, port):
        monkeypatch.setenv("XINYONG_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("XINYONG_SMTP_PORT", str(port))
        record = str(rights.ids["OBJECTED"])
        filed = cli(
            "objection", "file", "--record", record, "--reason", "金额有误", "--subject", COMPANY, "--json",
            at="2026-09-30T09:30",
        )  # fmt: skip
        n = filed["id"]
        assert mailbox.received == []  # the counter's command leaves delivery to the next run

        # Thu 8 Oct: the platform's forward step (due Fri 9) is reminded, and the filing is told too.
        reminded = cli("deadlines", "run", "--as-of", "2026-10-08", "--json", at="2026-10-08T08:00")
        assert [r["step"] for r in reminded["reminded"]] == ["objection.forward"]
        assert f"异议 {n} 即将到期 / Objection {n} is due soon" in mailbox.subjects_to(PLATFORM_MAIL)
        assert f"新异议 {n} 待处理 / New objection {n} to handle" in mailbox.subjects_to(PLATFORM_MAIL)
        assert mailbox.subjects_to(SUBJECT_MAIL) == [f"异议 {n} 已受理 / Objection {n} received"]

        # Forwarded Fri 9; the department misses Thu 15; the run of Fri 16 suspends and tells.
        cli("objection", "forward", str(n), "--json", at="2026-10-09T16:00")
        suspended = cli("deadlines", "run", "--as-of", "2026-10-16", "--json", at="2026-10-16T00:10")
        assert [s["record_id"] for s in suspended["suspended"]] == [int(record)]
        told = f"异议 {n}：记录暂停披露 / Objection {n}: record suspended"
        assert told in mailbox.subjects_to(SUBJECT_MAIL)
        assert told in mailbox.subjects_to(PLATFORM_MAIL)
        # Once each: a second run has nothing to deliver.
        count = len(mailbox.received)
        cli("deadlines", "run", "--as-of", "2026-10-16", "--json", at="2026-10-16T08:00")
        assert len(mailbox.received) == count
    with runtime.engine.connect() as conn:
        states = set(conn.execute(sa.select(notifications.c.email_state)).scalars())
    assert states <= {"sent", "none"}
