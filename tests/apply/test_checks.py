"""The check at the service window (逢办必查) on SQLite and PostgreSQL: recorded every time, audited when it
is about a person; by name it answers candidates and no measures; a batch file answers an XLSX with one row
per input line, each checked row a check of its own.

The world (tests/web): 武汉华信科技有限公司 (COMPANY, division 420106) and 张三丰 (PERSON_ID), a government
user of 武汉市政务服务和大数据管理局 (wuhan-gov) and a credit-office operator.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from disclose.builders import COMPANY, COMPANY_NAME, PERSON_ID
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import GOVERNMENT, Portal, login
from xinyong.apply.models import checks
from xinyong.codes.uscc import make_uscc
from xinyong.collect.readers import read_file
from xinyong.security.models import audit_log

AT = "2026-09-10T10:00"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNKNOWN = make_uscc("9", "1", "420100", "MA4KYY01")  # valid, held by nobody


def _listed(cli: Run, subject: str, list_type: str = "SXBZXR") -> dict[str, Any]:
    made = cli("lists", "propose", "--type", list_type, "--subject", subject, "--reason", "拒不履行生效判决",
               "--basis", "法释〔2017〕7号 第一条", "--json", at="2026-09-01T09:00")  # fmt: skip
    return cli("lists", "decide", str(made["id"]), "--valid-until", "2028-09-01", "--statement-waived",
               "--json", at="2026-09-01T09:30")  # fmt: skip


def _gov(portal: Portal) -> TestClient:
    portal.runtime.clock.set(AT)  # type: ignore[attr-defined]
    return login(TestClient(portal.app), "wuhan-gov")


def _audited_checks(portal: Portal) -> list[str]:
    with portal.runtime.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(audit_log.c.object_id).where(audit_log.c.action == "apply.check")
            ).scalars()
        )


def test_every_check_is_recorded_and_a_check_about_a_person_is_audited(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    portal, _ = world
    _listed(cli, COMPANY)
    _listed(cli, PERSON_ID)
    gov = _gov(portal)
    firm = gov.post("/api/v1/checks", json={"subject": COMPANY, "matter": "ZBTB"}).json()
    person = gov.post("/api/v1/checks", json={"subject": PERSON_ID, "matter": "ZBTB"}).json()
    assert [e["list_type"] for e in firm["lists"]] == [e["list_type"] for e in person["lists"]] == ["SXBZXR"]
    assert firm["measures"] and person["measures"]
    assert person["subject"]["name"] != "张三丰"  # masked
    with portal.runtime.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(checks.c.id, checks.c.subject_id)).all())
    assert {firm["check_id"], person["check_id"]} <= set(stored)  # both recorded: feedback names them
    # Only the check about a person read personal information: only it is in the audit trail.
    assert _audited_checks(portal) == [str(person["check_id"])]
    # A check of the company still takes feedback by its id.
    measure = firm["measures"][0]["code"]
    fed = gov.post(f"/api/v1/checks/{firm['check_id']}/feedback", json={"measure": measure, "applied": True})
    assert fed.status_code == 201, fed.text


def test_a_name_with_a_division_answers_candidates_and_no_measures(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    portal, _ = world
    _listed(cli, COMPANY)
    gov = _gov(portal)
    exact = gov.post("/api/v1/checks", json={"name": COMPANY_NAME, "division": "420106", "matter": "ZFCG"})
    assert exact.status_code == 200, exact.text
    body = exact.json()
    assert body["resolved"] is False and "measures" not in body and "check_id" not in body
    [found] = body["candidates"]
    assert (found["code"], found["match"], found["division_match"]) == (COMPANY, "exact_name", "same")
    part = gov.post("/api/v1/checks", json={"name": "华信", "division": "420100", "matter": "ZFCG"}).json()
    assert [(c["code"], c["match"], c["division_match"]) for c in part["candidates"]] == [
        (COMPANY, "similar", "within")
    ]
    elsewhere = gov.post("/api/v1/checks", json={"name": "华信科技", "division": "420500", "matter": "ZFCG"})
    assert elsewhere.json()["candidates"][0]["division_match"] == "outside"
    # No check was recorded for a name: nothing to give feedback on until an identifier is chosen.
    with portal.runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(checks)).scalar_one() == 0
    # The identifier short-circuits even when a name comes with it.
    both = gov.post("/api/v1/checks", json={"subject": COMPANY, "name": "别的名字", "matter": "ZFCG"}).json()
    assert both["check_id"] > 0 and both["measures"]
    # The command line answers the same candidates.
    same = cli("check", "--name", COMPANY_NAME, "--division", "420106", "--matter", "ZFCG",
               "--org", GOVERNMENT, "--json", at=AT)  # fmt: skip
    assert [c["code"] for c in same["candidates"]] == [COMPANY]


def test_a_name_without_a_division_or_no_subject_at_all_is_refused(world: tuple[Portal, Rights]) -> None:
    portal, _ = world
    gov = _gov(portal)
    bare = gov.post("/api/v1/checks", json={"name": COMPANY_NAME, "matter": "ZFCG"})
    assert bare.status_code == 422 and bare.json()["detail"]["code"] == "check.division"
    bad = gov.post("/api/v1/checks", json={"name": COMPANY_NAME, "division": "999999", "matter": "ZFCG"})
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "check.division"
    nothing = gov.post("/api/v1/checks", json={"matter": "ZFCG"})
    assert nothing.status_code == 422 and nothing.json()["detail"]["code"] == "check.subject_missing"
    ok = gov.post("/api/v1/checks", json={"name": COMPANY_NAME, "division": "420000", "matter": "ZFCG"})
    assert ok.status_code == 200 and ok.json()["candidates"][0]["division_match"] == "within"


def _rows(xlsx: bytes, tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "out.xlsx"
    path.write_bytes(xlsx)
    return read_file(path).frame.to_dicts()


def _csv(tmp_path: Path, lines: list[str], name: str = "bidders.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(["代码,名称,行政区划", *lines]) + "\n", encoding="utf-8")
    return path


def test_a_batch_file_answers_one_row_per_line_each_checked_row_a_check(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    portal, _ = world
    _listed(cli, COMPANY)
    lines = [
        f"{COMPANY},,",  # by identifier: listed, measures
        f",{COMPANY_NAME},420106",  # by exact name in its division
        f",{COMPANY_NAME},420500",  # the name, another division: not found
        f"{UNKNOWN},,",  # a valid code nobody holds
        f"{COMPANY[:-1]}0,,",  # a typo in the check character
        f"{PERSON_ID},,",  # a person by ID number: checked, never echoed in clear
        ",=1+1科技,",  # a name without a division
    ]
    path = _csv(tmp_path, lines)
    gov = _gov(portal)
    with path.open("rb") as fh:
        answer = gov.post("/api/v1/checks/batch", files={"file": ("投标人.csv", fh, "text/csv")},
                          data={"matter": "ZBTB"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(XLSX)
    summary = json.loads(answer.headers["X-Xinyong-Batch-Summary"])
    assert (summary["rows"], summary["resolved"], summary["with_measures"]) == (7, 3, 2)
    assert (summary["not_found"], summary["invalid"], summary["ambiguous"]) == (2, 2, 0)
    rows = _rows(answer.content, tmp_path)
    statuses = [r["状态 / status"].split(" / ")[1] for r in rows]
    assert statuses == ["checked", "checked", "not_found", "not_found", "invalid", "checked", "invalid"]
    assert [r["行号 / line"] for r in rows] == [str(n) for n in range(2, 9)]
    assert rows[0]["主体代码 / subject code"] == rows[1]["主体代码 / subject code"] == COMPANY
    assert rows[1]["匹配方式 / matched by"] == "exact_name"
    assert "失信被执行人名单" in rows[0]["名单 / lists"] and rows[0]["有强制措施 / mandatory"].startswith(
        "是"
    )
    assert PERSON_ID not in json.dumps(rows, ensure_ascii=False)
    assert rows[6]["输入名称 / name given"] == "=1+1科技"  # data, never a formula
    ids = [int(r["核查编号 / check id"]) for r in rows if r["核查编号 / check id"]]
    assert len(set(ids)) == 3 and (ids[0], ids[-1]) == (summary["first_check_id"], summary["last_check_id"])
    # Each row's check id takes feedback like any check; the batch is one audit entry.
    measure = next(m for m in rows[0]["措施 / measures"].split("；")).split(" ")[0]
    fed = gov.post(f"/api/v1/checks/{ids[0]}/feedback", json={"measure": measure, "applied": True})
    assert fed.status_code == 201, fed.text
    with portal.runtime.engine.connect() as conn:
        batches = (
            conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "apply.check_batch"))
            .scalars()
            .all()
        )
    assert [(b["rows"], b["resolved"], b["persons"]) for b in batches] == [(7, 3, 1)]


def test_a_batch_over_the_limit_or_not_csv_xlsx_is_refused_whole(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    portal, _ = world
    at_limit = _csv(tmp_path, [f"{UNKNOWN},,"] * 10_000, "at_limit.csv")
    out = tmp_path / "out.xlsx"
    done = cli("check", "--batch", str(at_limit), "--matter", "ZBTB", "--out", str(out), "--org", GOVERNMENT,
               "--json", at=AT)  # fmt: skip
    assert (done["rows"], done["not_found"]) == (10_000, 10_000) and out.stat().st_size > 0
    over = _csv(tmp_path, [f"{UNKNOWN},,"] * 10_001, "over.csv")
    refused = cli(
        "check", "--batch", str(over), "--matter", "ZBTB", "--out", str(out), "--json", at=AT, code=1
    )
    assert "check.batch_too_many" in refused.stderr and "10000" in refused.stderr
    gov = _gov(portal)
    as_json = gov.post(
        "/api/v1/checks/batch",
        files={"file": ("bidders.json", io.BytesIO(b"[]"), "application/json")},
        data={"matter": "ZBTB"},
    )
    assert as_json.status_code == 422 and as_json.json()["detail"]["code"] == "check.batch_format"
    no_column = gov.post(
        "/api/v1/checks/batch",
        files={"file": ("b.csv", io.BytesIO(b"a,b\n1,2\n"), "text/csv")},
        data={"matter": "ZBTB"},
    )
    assert no_column.status_code == 422 and no_column.json()["detail"]["code"] == "check.batch_columns"
    matter = gov.post("/api/v1/checks/batch", files={"file": ("b.csv", at_limit.open("rb"), "text/csv")},
                      data={"matter": "NOPE"})  # fmt: skip
    assert matter.status_code == 422 and matter.json()["detail"]["code"] == "check.matter_unknown"
