"""A court's 失信被执行人 records arrive as a provider file through collection and become list entries
(SXBZXR, fed by the catalogue item SXBZX in lists.yaml) when the push worker reads the outbox; revoking the
record takes the entry off again. Collection never imports the application chapter: it emits
`batch.loaded`, and this chapter reads it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from disclose.builders import COMPANY, COMPANY_NAME, SUBMITTER, write_file
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import Portal, login
from xinyong.apply.catalogue import load_catalogue
from xinyong.apply.models import list_entries
from xinyong.catalog.loader import load_catalog
from xinyong.collect.service import BatchSummary, ingest
from xinyong.store.tables import records
from xinyong.subjects.service import Candidate, resolve_many

CASE = "(2026)鄂0106执1234号"
ROW = {
    "sx_bzxr_mc": COMPANY_NAME,
    "sx_lb": "法人及非法人组织",
    "sx_tyshxydm": COMPANY,
    "sx_fr": "李四",
    "sx_ah": CASE,
    "sx_zxfy": "武汉市武昌区人民法院",
    "sx_zxyjwh": "(2025)鄂0106民初567号",
    "sx_zxyjdw": "武汉市武昌区人民法院",
    "sx_larq": "2026-03-02",
    "sx_yw": "支付货款人民币五十万元",
    "sx_lxqk": "全部未履行",
    "sx_sxqx": "有履行能力而拒不履行生效法律文书确定义务",
    "sx_fbrq": "2026-08-20",
}


def _court_sends(portal: Portal, tmp_path: Path, row: dict[str, str], *, at: str) -> BatchSummary:
    """The court's file of one 失信被执行人 row, ingested at `at`."""
    portal.runtime.clock.set(at)  # type: ignore[attr-defined]
    path = write_file(tmp_path / f"sxbzx-{at[:10]}.csv", load_catalog(), "SXBZX", [row])
    return ingest(portal.runtime, path=path, item_code="SXBZX", submitter_uscc=SUBMITTER)


def test_lists_yaml_names_the_court_item_that_feeds_the_dishonest_debtor_list() -> None:
    fed = {t.catalog_item: t.code for t in load_catalogue().list_types if t.catalog_item}
    assert fed == {"SXBZX": "SXBZXR"}
    assert load_catalog().item("SXBZX").name_zh == "失信被执行人"


def test_a_collected_court_record_becomes_an_entry_and_its_revocation_removes_it(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    portal, _ = world
    runtime = portal.runtime
    runtime.clock.set("2026-09-01T09:00")  # type: ignore[attr-defined]
    path = write_file(tmp_path / "sxbzx.csv", load_catalog(), "SXBZX", [ROW])
    loaded = ingest(runtime, path=path, item_code="SXBZX", submitter_uscc=SUBMITTER)
    assert (loaded.inserted, loaded.rejected) == (1, 0), loaded.as_dict()

    def check(at: str) -> dict:
        runtime.clock.set(at)  # type: ignore[attr-defined]
        gov = login(TestClient(portal.app), "wuhan-gov")
        answer = gov.post("/api/v1/checks", json={"subject": COMPANY, "matter": "ZBTB"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert check("2026-09-01T09:05")["lists"] == []  # not before the worker has read the outbox
    ran = cli("push", "run", "--once", "--json", at="2026-09-01T09:10")
    assert len(ran["imported"]) == 1
    again = cli("push", "run", "--once", "--json", at="2026-09-01T09:11")
    assert again["imported"] == []  # idempotent: the cursor moved on
    answer = check("2026-09-01T09:15")
    [entry] = answer["lists"]
    assert (entry["list_type"], entry["decided_on"], entry["valid_until"]) == (
        "SXBZXR",
        "2026-08-20",
        "2028-08-20",
    )
    assert answer["measures"] and all(m["list_type"] == "SXBZXR" for m in answer["measures"])
    with runtime.engine.connect() as conn:
        row = conn.execute(sa.select(list_entries).where(list_entries.c.id == entry["entry_id"])).one()
        record = conn.execute(sa.select(records).where(records.c.id == row.record_id)).one()
    assert (row.state, record.item_code, record.source_key) == ("listed", "SXBZX", record.source_key)
    assert f"记录 {record.id}" in row.reason and f"批次 {loaded.batch_id}" in row.reason
    assert row.proposed_by == f"collect:batch:{loaded.batch_id}"

    # The same file again changes nothing and lists nothing twice.
    ingest(runtime, path=path, item_code="SXBZX", submitter_uscc=SUBMITTER)
    cli("push", "run", "--once", "--json", at="2026-09-01T09:20")
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(list_entries)).scalar_one() == 1

    # The court's decision is revoked: the very next check no longer returns the entry.
    cli("record", "revoke", "--item", "SXBZX", "--source", SUBMITTER, "--key", record.source_key, "--json",
        at="2026-09-02T10:00")  # fmt: skip
    after = check("2026-09-02T10:01")
    assert (after["lists"], after["measures"]) == ([], [])
    with runtime.engine.connect() as conn:
        gone = conn.execute(sa.select(list_entries).where(list_entries.c.id == entry["entry_id"])).one()
    assert (gone.state, gone.removed_reason) == ("removed", "revoked")


RIGHT_COMPANY = "91350100M000100Y43"  # GB 32100's example code: the subject the court's record is about


def test_a_court_record_moved_to_its_real_subject_takes_its_listing_along(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    """A not_mine objection: the record was matched to the wrong company. The wrongly listed company leaves
    the list at the worker's next pass (withdrawn, history kept) and the company the court named is listed."""
    portal, _ = world
    runtime = portal.runtime
    runtime.clock.set("2026-09-01T09:00")  # type: ignore[attr-defined]
    with runtime.engine.begin() as conn:
        resolve_many(conn, [Candidate({"uscc": RIGHT_COMPANY}, name="福州某某科技有限公司")],
                     clock=runtime.clock, protector=runtime.protector)  # fmt: skip
    path = write_file(tmp_path / "sxbzx.csv", load_catalog(), "SXBZX", [ROW])
    ingest(runtime, path=path, item_code="SXBZX", submitter_uscc=SUBMITTER)
    cli("push", "run", "--once", "--json", at="2026-09-01T09:10")
    with runtime.engine.connect() as conn:
        [(old_entry, record_id)] = conn.execute(sa.select(list_entries.c.id, list_entries.c.record_id)).all()

    def lists_of(code: str, at: str) -> list[dict]:
        runtime.clock.set(at)  # type: ignore[attr-defined]
        gov = login(TestClient(portal.app), "wuhan-gov")
        answer = gov.post("/api/v1/checks", json={"subject": code, "matter": "ZBTB"})
        assert answer.status_code == 200, answer.text
        return answer.json()["lists"]

    filed = cli("objection", "file", "--record", str(record_id), "--reason", "本公司并非该案被执行人",
                "--kind", "not_mine", "--subject", COMPANY, "--json", at="2026-09-02T09:00")  # fmt: skip
    cli("objection", "decide", str(filed["id"]), "--outcome", "moved", "--to-subject", RIGHT_COMPANY,
        "--reason", "法院文书载明的被执行人为另一家企业", "--json", at="2026-09-02T10:00")  # fmt: skip
    cli("push", "run", "--once", "--json", at="2026-09-02T10:05")

    assert lists_of(COMPANY, "2026-09-02T10:10") == []
    [moved] = lists_of(RIGHT_COMPANY, "2026-09-02T10:11")
    assert moved["list_type"] == "SXBZXR" and moved["valid_until"] == "2028-08-20"
    with runtime.engine.connect() as conn:
        old = conn.execute(sa.select(list_entries).where(list_entries.c.id == old_entry)).one()
        new = conn.execute(sa.select(list_entries).where(list_entries.c.id == moved["entry_id"])).one()
    assert (old.state, old.removed_reason) == ("removed", "withdrawn")  # kept, with why it left
    assert (new.record_id, new.state) == (record_id, "listed") and new.proposed_by.startswith("move:event:")


def test_the_court_taking_a_debtor_off_its_list_takes_the_entry_off(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    """法释〔2017〕7号 第十条: a debtor who has performed is deleted from the court's list. The court sends
    the record again with its 移除日期; at the worker's next pass the entry ends the day before and leaves
    the list — a repaired debtor is not left on the black list until the platform's own term runs out."""
    portal, _ = world
    runtime = portal.runtime
    _court_sends(portal, tmp_path, ROW, at="2026-09-01T09:00")
    cli("push", "run", "--once", "--json", at="2026-09-01T09:10")
    with runtime.engine.connect() as conn:
        [entry] = conn.execute(sa.select(list_entries)).all()
    assert (entry.state, str(entry.valid_until)) == ("listed", "2028-08-20")

    # The court deleted the listing on 2026-09-12 (a removal date is a fact: never in the future) and says
    # so in its next file: the entry ends on the 11th and leaves the list at the worker's next pass.
    assert (
        _court_sends(portal, tmp_path, {**ROW, "sx_ycrq": "2026-09-12"}, at="2026-09-20T09:00").updated == 1
    )
    cli("push", "run", "--once", "--json", at="2026-09-20T09:10")
    runtime.clock.set("2026-09-20T09:15")  # type: ignore[attr-defined]
    answer = login(TestClient(portal.app), "wuhan-gov").post(
        "/api/v1/checks", json={"subject": COMPANY, "matter": "ZBTB"}
    )
    assert (answer.json()["lists"], answer.json()["measures"]) == ([], [])
    with runtime.engine.connect() as conn:
        gone = conn.execute(sa.select(list_entries).where(list_entries.c.id == entry.id)).one()
        assert conn.execute(sa.select(sa.func.count()).select_from(list_entries)).scalar_one() == 1
    assert (gone.state, gone.removed_reason, str(gone.valid_until)) == ("removed", "expired", "2026-09-11")


def test_a_court_record_that_arrives_already_removed_lists_nobody(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    portal, _ = world
    assert (
        _court_sends(portal, tmp_path, {**ROW, "sx_ycrq": "2026-08-25"}, at="2026-09-01T09:00").inserted == 1
    )
    ran = cli("push", "run", "--once", "--json", at="2026-09-01T09:10")
    assert ran["imported"] == []
    with portal.runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(list_entries)).scalar_one() == 0
