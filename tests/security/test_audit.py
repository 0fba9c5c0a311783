"""The audit chain: appends link up, the database refuses edits, and any tampering is found and named."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from xinyong.clock import FixedClock
from xinyong.security import audit
from xinyong.security.audit import GENESIS, SubjectRef
from xinyong.security.models import audit_head, audit_log
from xinyong.security.principal import Principal
from xinyong.store.engine import make_engine

ACTOR = Principal(
    kind="user", role="government", actor="user:wuhan-gov", organisation_uscc="11420100Q010005XXX"
)

ALWAYS_TRIGGERS = (
    ("audit_log", "audit_log_append_only"),
    ("audit_log", "audit_log_no_truncate"),
    ("audit_head", "audit_head_no_truncate"),
)


def append(engine: sa.Engine, clock: FixedClock, n: int = 5) -> None:
    with engine.begin() as conn:
        for i in range(n):
            clock.advance(seconds=1)
            audit.record(
                conn,
                principal=ACTOR,
                action="record.read",
                clock=clock,
                object_type="record",
                object_id=i,
                subject=SubjectRef(subject_id=7, key="91350100M000100Y43", label="福州某某科技有限公司"),
                level="government",
                purpose="行政许可审查",
                ip="10.0.0.8",
                detail={"items": ["XK001", "CF002"], "count": i, "ok": True},
            )


@contextmanager
def tampering(engine: sa.Engine) -> Iterator[sa.Connection]:
    """What someone with the database owner's rights can do: switch the append-only trigger off."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        yield conn
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only")


def verify(engine: sa.Engine, **kw: object) -> audit.Verification:
    with engine.connect() as conn:
        return audit.verify(conn, **kw)  # type: ignore[arg-type]


def test_untouched_chain_verifies_and_links_each_entry_to_the_last(
    engine: sa.Engine, clock: FixedClock
) -> None:
    assert verify(engine).ok and verify(engine).entries == 0
    append(engine, clock)
    result = verify(engine)
    assert result.ok and result.entries == 5 and result.head_seq == 5
    with engine.connect() as conn:
        chain = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).mappings().all()
        head = conn.execute(sa.select(audit_head)).one()
    assert [e["seq"] for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(chain))
    assert head.hash == chain[-1]["hash"]
    assert chain[-1]["at"] == clock.now()  # time comes from the runtime's clock


def test_the_database_refuses_updates_and_deletes(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock, 2)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 1).values(purpose="改过"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 2))
    assert verify(engine).ok


def test_an_edited_entry_is_named(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock)
    with tampering(engine) as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(actor="user:someone-else"))
    broken = verify(engine).broken
    assert broken is not None and broken.seq == 3 and broken.problem.code == "audit.entry_altered"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock)
    with tampering(engine) as conn:
        row = dict(conn.execute(sa.select(audit_log).where(audit_log.c.seq == 2)).mappings().one())
        row["purpose"] = "随便看看"
        conn.execute(
            audit_log.update()
            .where(audit_log.c.seq == 2)
            .values(purpose="随便看看", hash=audit.entry_hash(row))
        )
    broken = verify(engine).broken
    assert broken is not None and broken.seq == 3 and broken.problem.code == "audit.link_broken"


def test_a_removed_entry_is_named(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock)
    with tampering(engine) as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 2))
    broken = verify(engine).broken
    assert broken is not None and broken.seq == 2 and broken.problem.code == "audit.entry_missing"


def test_a_cut_off_tail_is_found_through_the_head(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock)
    with tampering(engine) as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq >= 4))
    broken = verify(engine).broken
    assert broken is not None and broken.seq == 4 and broken.problem.code == "audit.head_mismatch"


def test_a_walk_of_the_newest_entries_starts_from_the_hash_before_them(
    engine: sa.Engine, clock: FixedClock
) -> None:
    append(engine, clock, 6)
    newest = verify(engine, latest=3)
    assert newest.ok and (newest.first_seq, newest.entries, newest.head_seq) == (4, 3, 6)
    whole = verify(engine, latest=100)
    assert whole.ok and (whole.first_seq, whole.entries) == (1, 6)
    with tampering(engine) as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 5).values(actor="user:someone-else"))
        conn.execute(audit_log.update().where(audit_log.c.seq == 1).values(actor="user:someone-else"))
    broken = verify(engine, latest=3).broken
    assert broken is not None and broken.seq == 5 and broken.problem.code == "audit.entry_altered"
    # What lies before the newest entries is the whole walk's to find.
    assert verify(engine, latest=1).ok
    broken = verify(engine).broken
    assert broken is not None and broken.seq == 1


def test_a_walk_reports_how_far_it_is(
    engine: sa.Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(engine, clock, 5)
    monkeypatch.setattr(audit, "_PROGRESS_EVERY", 2)
    steps: list[tuple[str, int, int]] = []
    assert verify(engine, progress=lambda *step: steps.append(step)).ok
    assert steps == [("verify", 2, 5), ("verify", 4, 5), ("verify", 5, 5)]
    steps.clear()
    assert verify(engine, latest=3, progress=lambda *step: steps.append(step)).ok
    assert steps == [("verify", 2, 3), ("verify", 3, 3)]


def test_a_walk_of_the_newest_entries_names_a_removed_entry_before_them(
    engine: sa.Engine, clock: FixedClock
) -> None:
    append(engine, clock, 6)
    with tampering(engine) as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
    broken = verify(engine, latest=3).broken
    assert broken is not None and broken.seq == 3 and broken.problem.code == "audit.entry_missing"


def test_anchors_catch_a_chain_rewritten_from_the_start(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock, 3)
    anchor = {3: verify(engine).head_hash}
    with tampering(engine) as conn:
        rows = [dict(r) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).mappings()]
        prev = GENESIS
        for row in rows:  # a forger who knows the scheme rewrites every hash after the first edit
            row["purpose"] = "改写" if row["seq"] == 1 else row["purpose"]
            row["prev_hash"] = prev
            row["hash"] = prev = audit.entry_hash(row)
            conn.execute(audit_log.update().where(audit_log.c.seq == row["seq"]).values(**row))
        conn.execute(audit_head.update().values(hash=prev))
    assert verify(engine).ok  # the chain alone cannot tell
    broken = verify(engine, anchors=anchor).broken
    assert broken is not None and broken.seq == 3 and broken.problem.code == "audit.anchor_mismatch"


@contextmanager
def emptying(engine: sa.Engine) -> Iterator[sa.Connection]:
    """What an owner who means it can do: lift every guard and empty the trail and its head together."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in ("audit_log", "audit_head"):
                conn.exec_driver_sql(f"GRANT TRUNCATE ON {table} TO CURRENT_USER")
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield conn
            conn.exec_driver_sql("TRUNCATE audit_log, audit_head")
            for table, trigger in ALWAYS_TRIGGERS:  # as migration 0017 left them
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            yield conn
            conn.execute(audit_log.delete())
            conn.execute(audit_head.delete())


def test_the_trail_cannot_be_emptied_with_truncate(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock, 2)
    if engine.dialect.name == "postgresql":
        for table in ("audit_log", "audit_head"):
            with pytest.raises(sa.exc.DBAPIError, match="permission denied"), engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {table}")
            # Even with the privilege granted back, the statement-level trigger refuses it.
            with pytest.raises(sa.exc.DBAPIError, match="cannot be emptied"), engine.begin() as conn:
                conn.exec_driver_sql(f"GRANT TRUNCATE ON {table} TO CURRENT_USER")
                conn.exec_driver_sql(f"TRUNCATE {table}")
    else:  # SQLite has no TRUNCATE; a DELETE of every row is refused by the row trigger
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_log")
    append(engine, clock, 1)  # appending still works
    result = verify(engine)
    assert result.ok and result.entries == 3


def test_an_intact_chain_verifies_against_its_anchor(
    engine: sa.Engine, clock: FixedClock, tmp_path: Path
) -> None:
    kept = audit.keep_anchor(engine, tmp_path)
    append(engine, clock, 5)
    assert kept.read() is not None and kept.read()[0] == 4  # each append anchors the head it extends
    result = verify(engine)
    assert result.ok and result.entries == 5
    with engine.connect() as conn:
        kept.advance(conn, result.head_seq, result.head_hash)  # what `audit verify` does after a pass
    assert kept.read() == (5, result.head_hash) and verify(engine).ok
    append(engine, clock, 2)
    assert kept.read()[0] == 6 and verify(engine).ok


def test_an_emptied_trail_is_reported_as_missing_history(
    engine: sa.Engine, clock: FixedClock, tmp_path: Path
) -> None:
    audit.keep_anchor(engine, tmp_path)
    append(engine, clock, 5)
    with emptying(engine):
        pass
    unanchored = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        alone = verify(unanchored)
        assert alone.ok and alone.entries == 0  # the chain alone cannot tell
    finally:
        unanchored.dispose()
    broken = verify(engine).broken
    assert broken is not None and broken.problem.code == "audit.history_missing" and broken.seq == 1
    assert "第 4 条" in broken.problem.message_zh and "entry 0" in broken.problem.message_en


def test_a_refilled_trail_does_not_move_the_anchor(
    engine: sa.Engine, clock: FixedClock, tmp_path: Path
) -> None:
    kept = audit.keep_anchor(engine, tmp_path)
    append(engine, clock, 5)
    before = kept.read()
    with emptying(engine):
        pass
    append(engine, clock, 12)  # a forger fills the trail past the old head
    assert kept.read() == before  # the anchor stays, as the evidence
    broken = verify(engine).broken
    assert broken is not None and broken.problem.code == "audit.anchor_mismatch" and broken.seq == before[0]


def test_concurrent_appends_never_fork_the_chain(engine: sa.Engine, clock: FixedClock) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                with engine.begin() as conn:
                    audit.record(conn, principal=ACTOR, action="ping", clock=clock)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = verify(engine)
    assert result.ok and result.entries == 20


def test_non_public_access_must_name_subject_and_purpose(engine: sa.Engine, clock: FixedClock) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="purpose"):
        audit.record(
            conn,
            principal=ACTOR,
            action="record.read",
            clock=clock,
            level="authorised",
            subject=SubjectRef(key="x"),
        )


def test_id_numbers_typed_into_free_text_are_masked(engine: sa.Engine, clock: FixedClock) -> None:
    with engine.begin() as conn:
        audit.record(
            conn,
            principal=ACTOR,
            action="note",
            clock=clock,
            purpose="核查 11010519491231002X",
            object_id="11010519491231002X",
            detail={"said": ["身份证 11010519491231002X"]},
        )
        row = conn.execute(sa.select(audit_log)).mappings().one()
    text = f"{row['purpose']} {row['object_id']} {row['detail']}"
    assert "11010519491231002X" not in text and "1101**********002X" in text
    assert verify(engine).ok


def test_floats_are_refused_in_details(engine: sa.Engine, clock: FixedClock) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="floats"):
        audit.record(conn, principal=ACTOR, action="x", clock=clock, detail={"amount": 1.5})


def test_entries_about_a_subject_newest_first(engine: sa.Engine, clock: FixedClock) -> None:
    append(engine, clock, 3)
    with engine.begin() as conn:
        audit.record(conn, principal=ACTOR, action="other", clock=clock, subject=SubjectRef(key="OTHER"))
        found = audit.entries(conn, subject=SubjectRef(key="91350100M000100Y43"))
        by_id = audit.entries(conn, subject_id=7, limit=2)
    assert [e["seq"] for e in found] == [3, 2, 1]
    assert [e["seq"] for e in by_id] == [3, 2]
