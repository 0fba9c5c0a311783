"""A later upload does not silently undo an objection's correction (row.reverts_correction), on SQLite and
PostgreSQL: the department's next file with the old, wrong value is rejected for that row; a newer value
is loaded; the corrected value itself is unchanged."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from disclose.builders import SUBMITTER, build_timeline, write_file
from rights.builders import EXTRA, Rights, add_extra_records
from xinyong.catalog.loader import load_catalog
from xinyong.collect.service import ingest
from xinyong.rights.objections import decide, file_objection
from xinyong.runtime import Runtime
from xinyong.security.principal import Principal
from xinyong.store.tables import records, rejected_rows


def corrected_world(runtime: Runtime, tmp_path: Path) -> Rights:
    """The rights world, with 武环罚〔2026〕20号's fine (1 万元) corrected to 0.8 by an objection."""
    rights = add_extra_records(build_timeline(runtime, tmp_path), tmp_path)
    clerk = Principal.system("counter")
    rights.clock.set("2026-09-30T09:00")
    with runtime.engine.begin() as conn:
        filed = file_objection(
            conn, runtime=runtime, principal=clerk, record_id=rights.ids["OBJECTED"], reason="金额有误"
        )
        decide(
            conn,
            runtime=runtime,
            principal=clerk,
            objection_id=filed["id"],
            outcome="corrected",
            reason="罚款金额应为 0.8 万元",
            values={"cf_nr_fk": "0.8"},
        )
    return rights


def upload(rights: Rights, tmp_path: Path, name: str, **changes: str) -> dict:
    rows = [EXTRA["OBJECTED"] | changes, EXTRA["REPAIRED"]]
    rights.clock.set("2026-10-09T10:00")
    path = write_file(tmp_path / name, load_catalog(), "XZCF", rows)
    return ingest(rights.runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER).as_dict()


def fine(rights: Rights) -> str:
    with rights.runtime.engine.connect() as conn:
        data = conn.execute(sa.select(records.c.data).where(records.c.id == rights.ids["OBJECTED"])).scalar()
    return data["cf_nr_fk"]


def test_a_reupload_of_the_wrong_value_is_rejected_and_the_correction_stays(
    runtime: Runtime, tmp_path: Path
) -> None:
    rights = corrected_world(runtime, tmp_path)
    summary = upload(rights, tmp_path, "again.csv")  # the department's system still says 1 万元
    assert (summary["rejected"], summary["unchanged"]) == (1, 1)
    assert fine(rights) == "0.8"
    with runtime.engine.connect() as conn:
        reasons = conn.execute(sa.select(rejected_rows.c.reasons)).scalar_one()
    assert [r["code"] for r in reasons] == ["row.reverts_correction"]
    assert reasons[0]["field"] == "cf_nr_fk"
    assert "罚款金额" in reasons[0]["message_zh"] and "objection" in reasons[0]["message_en"]


def test_the_corrected_value_is_unchanged_and_a_newer_value_is_loaded(
    runtime: Runtime, tmp_path: Path
) -> None:
    rights = corrected_world(runtime, tmp_path)
    same = upload(rights, tmp_path, "same.csv", cf_nr_fk="0.8")
    assert (same["rejected"], same["unchanged"]) == (0, 2)
    newer = upload(rights, tmp_path, "newer.csv", cf_nr_fk="0.6")  # a newer decision: accepted
    assert (newer["rejected"], newer["updated"]) == (0, 1)
    assert fine(rights) == "0.6"
