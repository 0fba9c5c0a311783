"""An objection walked through the calendar across the 2026 National Day holiday, through the real command
line, on SQLite and PostgreSQL: marked the same day, forwarded, the provider's timeout suspends disclosure
on exactly the right day, then the provider's correction becomes the record's next version.

The 2026 calendar (国务院办公厅 2026 schedule, chinesecalendar 1.11): 国庆节 Thu 1 – Wed 7 October are
holidays; Saturday 10 October is a 调休 working day; Sunday 11 October is not.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from disclose.builders import COMPANY, ENV_BUREAU, SUBMITTER
from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.disclose.service import disclose
from xinyong.events import events_after
from xinyong.security.models import audit_log
from xinyong.store.tables import record_versions, records

from .builders import Rights
from .cli_helpers import Run, make_cli

OTHER_COMPANY = "91350100M000100Y43"  # GB 32100's example code: a subject that is not the record's


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    return make_cli(settings, monkeypatch)


def public_record(rights: Rights, record_id: int, day: str) -> Any:
    """The record as the public sees it on `day` (None when hidden), from the one disclosure function."""
    with rights.runtime.engine.connect() as conn:
        shown = disclose(
            conn, subject_id=rights.timeline.company_id, audience="public", clock=FixedClock(day + "T12:00")
        )
    return next((r for r in shown.records if r.id == record_id), None)


def test_objection_across_national_day(rights: Rights, cli: Run) -> None:
    record = rights.ids["OBJECTED"]
    # Wed 30 Sep 2026, 09:30: filed at the counter for the company.
    filed = cli(
        "objection", "file", "--record", str(record), "--reason", "罚款金额应为 0.5 万元",
        "--kind", "wrong", "--subject", COMPANY, "--json", at="2026-09-30T09:30",
    )  # fmt: skip
    assert {"id", "state", "record_id", "due"} <= set(filed)
    assert (filed["state"], filed["record_id"]) == ("open", record)
    due = filed["due"]
    # Marked at once: the mark step is done the day it was filed (policy: within 1 working day).
    assert (due["mark"]["state"], due["mark"]["done_on"], due["mark"]["late"]) == (
        "done",
        "2026-09-30",
        False,
    )
    # Forward within 2 working days of 30 Sep: 1 Oct – 7 Oct are holidays, so Thu 8 (1), Fri 9 (2).
    assert due["forward"]["due_on"] == "2026-10-09"
    # Platform decides within 5: Thu 8 (1), Fri 9 (2), Sat 10 调休 (3), Mon 12 (4), Tue 13 (5).
    assert due["platform_decide"]["due_on"] == "2026-10-13"
    assert due["platform_decide"]["rule"] == "objection.profiles.shanghai.platform_decides_within"

    # The mark appears the same day in the one disclosure answer every channel renders.
    shown = public_record(rights, record, "2026-09-30")
    assert shown is not None and shown.state == "disputed"
    assert [m.zh for m in shown.marks] == ["异议处理中"]

    # Fri 9 Oct, 16:00: forwarded to 武汉市生态环境局, the record's source department.
    forwarded = cli("objection", "forward", str(filed["id"]), "--json", at="2026-10-09T16:00")
    assert forwarded["state"] == "forwarded" and forwarded["forwarded_to"] == ENV_BUREAU[0]
    assert forwarded["due"]["forward"]["state"] == "done" and not forwarded["due"]["forward"]["late"]
    assert forwarded["due"]["platform_decide"]["state"] == "cancelled"
    # The provider decides within 5 working days of Fri 9: Sat 10 调休 (1), Mon 12 (2), Tue 13 (3),
    # Wed 14 (4), Thu 15 (5). Without the 调休 Saturday it would be Fri 16.
    provider = forwarded["due"]["provider_decide"]
    assert (provider["due_on"], provider["owner"]["uscc"]) == ("2026-10-15", ENV_BUREAU[0])

    # The run on Thu 15, the last day, suspends nothing: the provider still has the day, and is reminded
    # (policy deadlines.remind_before: from the working day before the due day; this is the first run).
    on_due_day = cli("deadlines", "run", "--as-of", "2026-10-15", "--json", at="2026-10-15T23:30")
    assert (on_due_day["suspended"], on_due_day["overdue"]) == ([], [])
    assert [(r["step"], r["reminded_on"]) for r in on_due_day["reminded"]] == [
        ("objection.provider_decide", "2026-10-15")
    ]
    assert public_record(rights, record, "2026-10-15") is not None

    # Fri 16 Oct: the provider missed its deadline; disclosure of the disputed record is suspended.
    late = cli("deadlines", "run", "--as-of", "2026-10-16", "--json", at="2026-10-16T00:10")
    assert [s["record_id"] for s in late["suspended"]] == [record]
    assert [(o["step"], o["overdue_on"]) for o in late["overdue"]] == [
        ("objection.provider_decide", "2026-10-16")
    ]
    assert public_record(rights, record, "2026-10-16") is None
    with rights.runtime.engine.connect() as conn:
        own = disclose(
            conn, subject_id=rights.timeline.company_id, audience="self", clock=FixedClock("2026-10-16")
        )
    assert [m.zh for r in own.records if r.id == record for m in r.marks] == ["暂停披露"]
    # Running again changes nothing.
    again = cli("deadlines", "run", "--as-of", "2026-10-16", "--json", at="2026-10-16T08:00")
    assert again == {"suspended": [], "overdue": [], "reminded": []}

    # Mon 19 Oct: the department, late, corrects the fine; the correction is the record's next version.
    decided = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "corrected", "--set", "cf_nr_fk=0.5",
        "--reason", "经核查，罚款金额录入有误，已更正", "--org", ENV_BUREAU[0], "--json",
        at="2026-10-19T10:00",
    )  # fmt: skip
    assert (decided["state"], decided["outcome"], decided["decided_by"]) == (
        "decided",
        "corrected",
        ENV_BUREAU[0],
    )
    assert decided["due"]["provider_decide"]["late"] is True
    shown = public_record(rights, record, "2026-10-19")
    assert shown is not None and shown.state == "corrected" and shown.data["cf_nr_fk"] == "0.5"
    assert [m.zh for m in shown.marks] == ["已更正"]

    with rights.runtime.engine.connect() as conn:
        kept = conn.execute(
            sa.select(record_versions.c.version, record_versions.c.state, record_versions.c.reason)
            .where(record_versions.c.record_id == record)
            .order_by(record_versions.c.version)
        ).all()
        current = conn.execute(
            sa.select(records.c.version, records.c.data).where(records.c.id == record)
        ).one()
        # The rights chapter's events (collection's batch.loaded of the setup's upload is not one).
        events = [e for e in events_after(conn, after=0) if e["type"] != "batch.loaded"]
        actions = (
            conn.execute(
                sa.select(audit_log.c.action).where(audit_log.c.object_type.in_(("objection", "record")))
            )
            .scalars()
            .all()
        )
    # Nothing lost: every earlier version kept, the provenance of the correction names the objection.
    oid = filed["id"]
    assert [(v.state, v.reason) for v in kept] == [
        ("active", f"objection:{oid}:filed"),
        ("disputed", f"objection:{oid}:suspended"),
        ("suspended", f"objection:{oid}:corrected"),
    ]
    assert current.version == 4 and current.data["cf_nr_fk"] == "0.5"
    # The reminder of Thu 15 is in the outbox too: that is how the department is told (rights.notify).
    assert [e["type"] for e in events] == [
        "record.disputed", "objection.forwarded", "deadline.reminder", "record.suspended", "record.corrected",
    ]  # fmt: skip
    assert events[2]["payload"]["owner"] == {"kind": "organisation", "uscc": ENV_BUREAU[0]}
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert events[-1]["payload"]["changed"] == ["cf_nr_fk"]
    assert actions == ["objection.file", "objection.forward", "record.suspend", "objection.decide"]


def test_a_second_open_objection_is_refused_and_after_the_decision_one_is_accepted(
    rights: Rights, cli
) -> None:  # type: ignore[no-untyped-def]
    record = str(rights.ids["OBJECTED"])
    first = cli("objection", "file", "--record", record, "--reason", "有误", "--json", at="2026-09-30T09:00")
    refused = cli(
        "objection", "file", "--record", record, "--reason", "再次", "--json", at="2026-09-30T10:00", code=1
    )
    assert "objection.already_open" in refused.stderr and "已有正在处理的异议" in refused.stderr
    cli(
        "objection", "decide", str(first["id"]), "--outcome", "upheld", "--reason", "信息无误",
        "--json", at="2026-10-08T10:00",
    )  # fmt: skip
    # Upheld: the mark is lifted and the record is disclosed as before.
    assert public_record(rights, int(record), "2026-10-08").state == "active"
    second = cli(
        "objection", "file", "--record", record, "--reason", "补充材料", "--json", at="2026-10-09T09:00"
    )
    assert second["state"] == "open" and second["id"] != first["id"]


def test_an_objection_for_another_subject_is_refused_the_own_one_accepted(rights: Rights, cli: Run) -> None:
    record = str(rights.ids["OBJECTED"])
    with rights.runtime.engine.begin() as conn:
        from xinyong.subjects.service import Candidate, resolve_many

        resolve_many(conn, [Candidate({"uscc": OTHER_COMPANY}, name="福州某某科技有限公司")],
                     clock=rights.clock, protector=rights.runtime.protector)  # fmt: skip
    refused = cli(
        "objection", "file", "--record", record, "--reason", "x", "--subject", OTHER_COMPANY, "--json",
        at="2026-09-30T09:00", code=1,
    )  # fmt: skip
    assert "rights.not_own_record" in refused.stderr
    assert public_record(rights, int(record), "2026-09-30").state == "active"  # nothing changed
    accepted = cli(
        "objection", "file", "--record", record, "--reason", "x", "--subject", COMPANY, "--json",
        at="2026-09-30T09:00",
    )  # fmt: skip
    assert accepted["state"] == "open"


def test_only_the_source_department_or_the_platform_decides(rights: Rights, cli: Run) -> None:
    record = str(rights.ids["OBJECTED"])
    filed = cli("objection", "file", "--record", record, "--reason", "有误", "--json", at="2026-09-30T09:00")
    cli("objection", "forward", str(filed["id"]), "--json", at="2026-09-30T10:00")
    # The provincial collection system forwarded the record but did not decide it: refused.
    refused = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "removed", "--reason", "x",
        "--org", SUBMITTER, "--json", at="2026-10-08T09:00", code=1,
    )  # fmt: skip
    assert "objection.not_decider" in refused.stderr
    assert public_record(rights, int(record), "2026-10-08").state == "disputed"
    removed = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "removed", "--reason", "处罚决定已依法撤销",
        "--org", ENV_BUREAU[0], "--json", at="2026-10-08T09:00",
    )  # fmt: skip
    assert removed["outcome"] == "removed" and removed["record"]["state"] == "withdrawn"
    assert public_record(rights, int(record), "2026-10-08") is None
    # Removed means hidden, not deleted: the record and its versions are all still there.
    with rights.runtime.engine.connect() as conn:
        assert (
            conn.execute(sa.select(records.c.state).where(records.c.id == int(record))).scalar()
            == "withdrawn"
        )
    # A second decision of the same objection is told it was decided.
    again = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "upheld", "--reason", "x", "--json",
        at="2026-10-08T09:05", code=1,
    )  # fmt: skip
    assert "objection.state" in again.stderr


def test_a_correction_is_validated_like_collection(rights: Rights, cli: Run) -> None:
    record = str(rights.ids["OBJECTED"])
    filed = cli("objection", "file", "--record", record, "--reason", "有误", "--json", at="2026-09-30T09:00")
    bad = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "corrected", "--set", "cf_nr_fk=五千元",
        "--set", "cf_wsh=武环罚〔2026〕99号", "--reason", "更正", "--json", at="2026-10-08T09:00", code=1,
    )  # fmt: skip
    assert "row.decimal" in bad.stderr and "objection.field_locked" in bad.stderr
    assert public_record(rights, int(record), "2026-10-08").state == "disputed"  # nothing changed
    good = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "corrected", "--set", "罚款金额（万元）=0.8",
        "--reason", "更正", "--json", at="2026-10-08T09:00",
    )  # fmt: skip
    assert good["record"]["version"] == 3
    assert public_record(rights, int(record), "2026-10-08").data["cf_nr_fk"] == "0.8"


def test_two_clerks_deciding_at_once_one_wins_the_other_is_told(rights: Rights) -> None:
    import threading
    import time

    from xinyong.rights.errors import Refused
    from xinyong.rights.objections import decide, file_objection
    from xinyong.security.principal import Principal

    runtime, clerk = rights.runtime, Principal.system("clerk-a")
    rights.clock.set("2026-09-30T09:00")
    with runtime.engine.begin() as conn:
        filed = file_objection(
            conn, runtime=runtime, principal=clerk, record_id=rights.ids["OBJECTED"], reason="有误"
        )
    told: list[str] = []
    finished = threading.Event()

    def second_clerk() -> None:
        try:
            with runtime.engine.begin() as conn:
                decide(
                    conn,
                    runtime=runtime,
                    principal=Principal.system("clerk-b"),
                    objection_id=filed["id"],
                    outcome="removed",
                    reason="撤销",
                )
        except Refused as refusal:
            told.append(refusal.problems[0].code)
        finished.set()

    with runtime.engine.begin() as conn:
        decide(
            conn, runtime=runtime, principal=clerk, objection_id=filed["id"], outcome="upheld", reason="无误"
        )
        thread = threading.Thread(target=second_clerk)
        thread.start()
        time.sleep(0.5)
        assert not finished.is_set()  # waiting for the first clerk's transaction
    thread.join(timeout=40)
    assert told == ["objection.state"]
    assert public_record(rights, rights.ids["OBJECTED"], "2026-09-30").state == "active"  # the winner's


def test_an_id_number_written_into_a_reason_is_stored_masked(rights: Rights, cli: Run) -> None:
    written = "本人身份证号 11010519491231002X，处罚对象有误"
    filed = cli(
        "objection", "file", "--record", str(rights.ids["OBJECTED"]), "--reason", written, "--json",
        at="2026-09-30T09:00",
    )  # fmt: skip
    assert "11010519491231002X" not in filed["reason"] and filed["reason"].startswith("本人身份证号 1101")
    with rights.runtime.engine.connect() as conn:
        from xinyong.rights.models import objections

        stored = conn.execute(sa.select(objections.c.reason)).scalar_one()
    assert "11010519491231002X" not in stored
