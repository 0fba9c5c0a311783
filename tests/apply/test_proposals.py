"""发起响应 on SQLite and PostgreSQL: 武汉市政务服务和大数据管理局 proposes a memorandum naming itself, the
environment bureau and the market regulator; the two others respond (one accepts, one declines with a
reason); the credit office publishes — and the very next check returns the measure, while a draft never
is. Refusals: a department not named, a second response, publishing before all answered, an unknown matter,
list type or department.

2026 calendar: Tue 1 September + 10 working days = Tue 15 September (lists.respond_within).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from disclose.builders import COMPANY, ENV_BUREAU, SAMR_BUREAU
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import CREDIT_OFFICE, GOVERNMENT, Portal
from xinyong.deadlines import deadline_tasks
from xinyong.events import events_after


def draft(**changes: Any) -> dict[str, Any]:
    measure = {
        "code": "HB-SXBZXR-CZZJ",
        "content_zh": "限制申请省级财政性资金支持",
        "content_en": "no provincial public funding",
        "basis": "《湖北省社会信用信息管理条例》第三十一条",
        "departments": [GOVERNMENT, ENV_BUREAU[1], SAMR_BUREAU[0]],
        "effect": "punishment",
        "mandatory": True,
        "subject_kinds": ["legal_person", "other_org"],
        "matters": ["CZZJ"],
        "source": "test draft",
        "confirmed": True,
    }
    memo = {
        "code": "HB-SXBZXR-2026",
        "name_zh": "湖北省对失信被执行人实施联合惩戒的备忘录（试行）",
        "document": "鄂信用办〔2026〕1号",
        "targets": ["SXBZXR"],
        "source": "test draft",
        "confirmed": True,
        "measures": [measure | changes.pop("measure", {})],
    }
    return memo | changes


def write(tmp: Path, data: dict[str, Any], name: str = "draft.yaml") -> str:
    path = tmp / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def listed(cli: Run) -> None:
    entry = cli("lists", "propose", "--type", "SXBZXR", "--subject", COMPANY, "--reason", "拒不履行",
                "--basis", "法释〔2017〕7号", "--json", at="2026-08-31T09:00")  # fmt: skip
    cli("lists", "decide", str(entry["id"]), "--valid-until", "2028-08-31", "--statement-waived", "--json",
        at="2026-08-31T10:00")  # fmt: skip


def czzj_measures(cli: Run, at: str) -> list[str]:
    answer = cli("check", COMPANY, "--matter", "CZZJ", "--org", GOVERNMENT, "--json", at=at)
    return [m["code"] for m in answer["measures"]]


def test_proposed_answered_published_and_the_next_check_returns_it(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    portal, _ = world
    listed(cli)
    assert "HB-SXBZXR-CZZJ" not in czzj_measures(cli, "2026-09-01T08:00")

    made = cli("memoranda", "propose", "--file", write(tmp_path, draft()), "--org", GOVERNMENT, "--json",
               at="2026-09-01T09:00")  # fmt: skip
    pid = str(made["id"])
    assert made["state"] == "responding"
    # The proposer named itself: only the two others are asked.
    assert sorted((r["org_uscc"], r["answer"]) for r in made["responses"]) == sorted(
        [(ENV_BUREAU[0], "pending"), (SAMR_BUREAU[0], "pending")]
    )
    with portal.runtime.engine.connect() as conn:
        t = deadline_tasks
        tasks = conn.execute(
            sa.select(t.c.owner_uscc, t.c.due_on, t.c.state).where(t.c.step == "memo.respond")
        ).all()
    assert sorted((u, d.isoformat(), s) for u, d, s in tasks) == sorted(
        [(ENV_BUREAU[0], "2026-09-15", "open"), (SAMR_BUREAU[0], "2026-09-15", "open")]
    )
    # A draft is never in a check's answer.
    assert "HB-SXBZXR-CZZJ" not in czzj_measures(cli, "2026-09-01T10:00")
    listing = cli("memoranda", "list", "--awaiting", ENV_BUREAU[0], "--json", at="2026-09-01T10:00")
    assert [p["id"] for p in listing] == [made["id"]]

    # A department not named is refused; the named one's answer is accepted.
    stranger = cli("memoranda", "respond", pid, "--accept", "--org", CREDIT_OFFICE, "--json",
                   at="2026-09-02T09:00", code=1)  # fmt: skip
    assert "memo.not_named" in stranger.stderr
    accepted = cli("memoranda", "respond", pid, "--accept", "--org", ENV_BUREAU[0], "--json",
                   at="2026-09-02T09:00")  # fmt: skip
    assert {r["org_uscc"]: r["answer"] for r in accepted["responses"]}[ENV_BUREAU[0]] == "accepted"
    again = cli("memoranda", "respond", pid, "--decline", "--reason", "改主意", "--org", ENV_BUREAU[0],
                "--json", at="2026-09-02T10:00", code=1)  # fmt: skip
    assert "memo.already_answered" in again.stderr

    # Publishing before everyone answered is refused.
    early = cli("memoranda", "publish", pid, "--json", at="2026-09-02T11:00", code=1)
    assert "memo.responses_pending" in early.stderr and SAMR_BUREAU[1] in early.stderr
    silent = cli("memoranda", "respond", pid, "--decline", "--org", SAMR_BUREAU[0], "--json",
                 at="2026-09-03T09:00", code=1)  # fmt: skip
    assert "memo.reason_required" in silent.stderr
    declined = cli("memoranda", "respond", pid, "--decline", "--reason", "不属本部门职责", "--org",
                   SAMR_BUREAU[0], "--json", at="2026-09-03T09:00")  # fmt: skip
    assert {r["org_uscc"]: r["reason"] for r in declined["responses"]}[SAMR_BUREAU[0]] == "不属本部门职责"
    assert "HB-SXBZXR-CZZJ" not in czzj_measures(cli, "2026-09-03T10:00")

    published = cli("memoranda", "publish", pid, "--json", at="2026-09-04T09:00")
    assert published["state"] == "published" and published["decided_on"] == "2026-09-04"

    # The very next check returns the measure, with the departments that did not decline.
    answer = cli("check", COMPANY, "--matter", "CZZJ", "--org", GOVERNMENT, "--json", at="2026-09-04T09:01")
    ours = [m for m in answer["measures"] if m["code"] == "HB-SXBZXR-CZZJ"]
    assert len(ours) == 1
    assert ours[0]["departments"] == ["武汉市政务服务和大数据管理局", ENV_BUREAU[1]]
    assert ours[0]["memorandum"] == "湖北省对失信被执行人实施联合惩戒的备忘录（试行）"
    assert ours[0]["document"] == "鄂信用办〔2026〕1号" and ours[0]["mandatory"] is True

    with portal.runtime.engine.connect() as conn:
        done = conn.execute(
            sa.select(deadline_tasks.c.state).where(deadline_tasks.c.step == "memo.respond")
        ).scalars()
        assert sorted(done) == ["done", "done"]
        events = events_after(conn, after=0, limit=1000, types=("memorandum.published",))
        assert [e["payload"]["measures"] for e in events] == [["HB-SXBZXR-CZZJ"]]
    shown = cli("memoranda", "show", pid, "--json", at="2026-09-04T10:00")
    assert shown["state"] == "published"
    twice = cli("memoranda", "publish", pid, "--json", at="2026-09-04T10:00", code=1)
    assert "memo.closed" in twice.stderr


def test_a_draft_naming_what_does_not_exist_is_refused(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    for bad, code in (
        (draft(measure={"matters": ["NOPE"]}), "memo.matter_unknown"),
        (draft(targets=["NOLIST"]), "memo.list_type_unknown"),
        (draft(measure={"departments": ["不存在的局"]}), "memo.department_unknown"),
        (draft(measure={"code": "SXBZXR-ZFCG"}), "memo.code_taken"),  # a YAML measure's code
        (draft(extends="NO-SUCH", code=None, targets=[]), "memo.extends_unknown"),
        (draft(code=None), "memo.invalid"),  # neither a new memorandum's code nor `extends`
    ):
        refused = cli("memoranda", "propose", "--file", write(tmp_path, bad), "--org", GOVERNMENT, "--json",
                      at="2026-09-01T09:00", code=1)  # fmt: skip
        assert code in refused.stderr, (code, refused.stderr)
    # The valid draft, and measures added to a shipped memorandum, are accepted.
    cli("memoranda", "propose", "--file", write(tmp_path, draft()), "--org", GOVERNMENT, "--json",
        at="2026-09-01T09:00")  # fmt: skip
    extension = {
        "extends": "SXBZXR-2016",
        "source": "test",
        "confirmed": True,
        "measures": [draft()["measures"][0] | {"code": "HB-SXBZXR-PXPY", "matters": ["PXPY"]}],
    }
    added = cli("memoranda", "propose", "--file", write(tmp_path, extension), "--org", GOVERNMENT,
                "--json", at="2026-09-01T09:00")  # fmt: skip
    assert added["code"] == "SXBZXR-2016" and added["extends"] == "SXBZXR-2016"
    withdrawn = cli("memoranda", "withdraw", str(added["id"]), "--reason", "重复", "--json",
                    at="2026-09-02T09:00")  # fmt: skip
    assert withdrawn["state"] == "withdrawn"
    assert [p["id"] for p in cli("memoranda", "list", "--state", "withdrawn", "--json",
                                 at="2026-09-02T09:00")] == [added["id"]]  # fmt: skip
