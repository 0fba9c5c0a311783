"""A `not_mine` objection decided by the platform: the record moves to the subject it is really about, with
the registry's evidence (record_moves), an outbox event and an audit entry, and the move can be undone.
Through the real command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from disclose.builders import COMPANY, ENV_BUREAU
from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.disclose.service import disclose
from xinyong.events import events_after
from xinyong.security.models import audit_log
from xinyong.store.tables import record_versions, records
from xinyong.subjects.models import record_moves
from xinyong.subjects.service import Candidate, resolve_many

from .builders import Rights
from .cli_helpers import Run, make_cli

RIGHT_COMPANY = "91350100M000100Y43"  # GB 32100's example code: the subject the record is really about
UNKNOWN = "91420106MA4KHX0299"  # a well-formed code nobody in the registry holds


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    return make_cli(settings, monkeypatch)


@pytest.fixture
def right_subject(rights: Rights) -> int:
    with rights.runtime.engine.begin() as conn:
        found = resolve_many(
            conn,
            [Candidate({"uscc": RIGHT_COMPANY}, name="福州某某科技有限公司")],
            clock=rights.clock,
            protector=rights.runtime.protector,
        )
    return found[0].subject_id


def listed(rights: Rights, subject_id: int, day: str) -> set[int]:
    """The record ids the public page of the subject lists on `day` (the one disclosure function)."""
    with rights.runtime.engine.connect() as conn:
        shown = disclose(conn, subject_id=subject_id, audience="public", clock=FixedClock(day + "T12:00"))
    return {r.id for r in shown.records}


def file_not_mine(rights: Rights, cli: Run) -> dict:
    record = str(rights.ids["OBJECTED"])
    return cli(
        "objection", "file", "--record", record, "--reason", "本公司从未受过该处罚，系同名企业",
        "--kind", "not_mine", "--subject", COMPANY, "--json", at="2026-09-30T09:30",
    )  # fmt: skip


def test_a_not_mine_record_moves_to_the_right_subject_and_back(
    rights: Rights, cli: Run, right_subject: int
) -> None:
    record = rights.ids["OBJECTED"]
    company = rights.timeline.company_id
    filed = file_not_mine(rights, cli)
    assert record in listed(rights, company, "2026-09-30")
    with rights.runtime.engine.connect() as conn:
        before = len(events_after(conn, after=0, limit=10_000))

    moved = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "moved", "--to-subject", RIGHT_COMPANY,
        "--reason", "经核实，该处罚的相对人为福州某某科技有限公司", "--json", at="2026-10-08T10:00",
    )  # fmt: skip
    assert (moved["state"], moved["outcome"]) == ("decided", "moved")
    assert moved["move"]["from_subject"] == COMPANY and moved["move"]["to_subject"] == RIGHT_COMPANY
    assert moved["record"]["state"] == "active"  # the mark is lifted: the record is right, about someone else
    # The old subject's page no longer lists it; the right subject's does.
    assert record not in listed(rights, company, "2026-10-08")
    assert record in listed(rights, right_subject, "2026-10-08")

    with rights.runtime.engine.connect() as conn:
        move = conn.execute(sa.select(record_moves)).mappings().one()
        assert (move["record_id"], move["from_subject_id"], move["to_subject_id"]) == (
            record,
            company,
            right_subject,
        )
        assert move["requested_by"] == f"objection:{filed['id']}"
        assert move["decided_by"].startswith("system:cli")
        assert "福州某某" in move["reason"]
        # Nothing deleted: the disputed version is kept, and the record row is still there.
        reasons = list(
            conn.execute(
                sa.select(record_versions.c.reason).where(record_versions.c.record_id == record)
            ).scalars()
        )
        assert f"objection:{filed['id']}:moved" in reasons
        new = events_after(conn, after=0, limit=10_000)[before:]
        assert [e["type"] for e in new] == ["record.moved"]
        assert new[0]["payload"]["to_subject"] == RIGHT_COMPANY
        actions = set(conn.execute(sa.select(audit_log.c.action)).scalars())
        assert {"objection.decide", "record.move"} <= actions

    # Undone by the platform: back on the first subject, the move kept and marked undone.
    undone = cli(
        "record", "undo-move", str(moved["move"]["id"]), "--reason", "核实有误，撤回移交", "--json",
        at="2026-10-09T10:00",
    )  # fmt: skip
    assert undone["undone_at"] is not None and undone["undo_reason"] == "核实有误，撤回移交"
    assert record in listed(rights, company, "2026-10-09")
    assert record not in listed(rights, right_subject, "2026-10-09")
    again = cli(
        "record", "undo-move", str(moved["move"]["id"]), "--reason", "x", "--json",
        at="2026-10-09T10:05", code=1,
    )  # fmt: skip
    assert "objection.move_undone" in again.stderr
    with rights.runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(record_moves)).scalar_one() == 1
        assert events_after(conn, after=0, limit=10_000)[-1]["type"] == "record.move_undone"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--to-subject", UNKNOWN), "objection.move_unknown_subject"),
        (("--to-subject", "9135\x00' OR 1=1 --"), "objection.move_unknown_subject"),
        (("--to-subject", COMPANY), "objection.move_same_subject"),
        ((), "objection.move_no_subject"),
        (("--to-subject", RIGHT_COMPANY, "--org", ENV_BUREAU[0]), "objection.move_not_platform"),
    ],
)
def test_a_move_is_refused_clearly_and_nothing_changes(
    rights: Rights, cli: Run, right_subject: int, args: tuple[str, ...], code: str
) -> None:
    record = rights.ids["OBJECTED"]
    filed = file_not_mine(rights, cli)
    if "--org" in args:
        cli("objection", "forward", str(filed["id"]), "--json", at="2026-10-08T09:00")
    refused = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "moved", "--reason", "x", *args, "--json",
        at="2026-10-08T10:00", code=1,
    )  # fmt: skip
    assert code in refused.stderr
    with rights.runtime.engine.connect() as conn:
        query = sa.select(records.c.subject_id, records.c.state).where(records.c.id == record)
        row = conn.execute(query).one()
        assert tuple(row) == (rights.timeline.company_id, "disputed")
        assert conn.execute(sa.select(sa.func.count()).select_from(record_moves)).scalar_one() == 0
    # The valid sibling: the platform moves it to the right subject.
    decided = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "moved", "--to-subject", RIGHT_COMPANY,
        "--reason", "经核实", "--json", at="2026-10-08T11:00",
    )  # fmt: skip
    assert decided["outcome"] == "moved"


def test_only_a_not_mine_objection_is_decided_by_moving(rights: Rights, cli: Run, right_subject: int) -> None:
    record = str(rights.ids["OBJECTED"])
    filed = cli(
        "objection", "file", "--record", record, "--reason", "金额有误", "--kind", "wrong", "--json",
        at="2026-09-30T09:30",
    )  # fmt: skip
    refused = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "moved", "--to-subject", RIGHT_COMPANY,
        "--reason", "x", "--json", at="2026-10-08T10:00", code=1,
    )  # fmt: skip
    assert "objection.move_not_mine" in refused.stderr
    # The other outcomes still work, and refuse a subject they do not take.
    stray = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "upheld", "--to-subject", RIGHT_COMPANY,
        "--reason", "x", "--json", at="2026-10-08T10:00", code=1,
    )  # fmt: skip
    assert "objection.subject_unexpected" in stray.stderr
    upheld = cli(
        "objection", "decide", str(filed["id"]), "--outcome", "upheld", "--reason", "维持", "--json",
        at="2026-10-08T10:00",
    )  # fmt: skip
    assert upheld["outcome"] == "upheld" and upheld["move"] is None
