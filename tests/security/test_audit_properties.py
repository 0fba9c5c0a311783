"""The audit hash chain as a property: any change to any one row — any column of any entry set to any other
value, an entry removed, or the head moved — is found by `verify`, on SQLite and PostgreSQL.

Each example changes one row inside a transaction, verifies inside it, and rolls it back, so every example
starts from the same intact chain (the append-only triggers are switched off once, as a database owner
could; tests/security/test_audit.py shows that they refuse edits otherwise)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xinyong.clock import FixedClock
from xinyong.security import audit
from xinyong.security.models import AUDIT_OUTCOMES, audit_head, audit_log

from .test_audit import append, tampering

ENTRIES = 6
TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
JSON_VALUES = st.one_of(st.integers(-(10**9), 10**9), st.booleans(), st.text(TEXT, max_size=8))


def _column_values(column: sa.Column[Any]) -> st.SearchStrategy[Any]:
    name = column.name
    if name == "seq":
        return st.one_of(st.integers(-3, 0), st.integers(ENTRIES + 1, ENTRIES + 50))  # a number not in use
    if name in ("hash", "prev_hash"):
        return HEX64
    if name == "at":
        return st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))
    if name == "outcome":
        return st.sampled_from(AUDIT_OUTCOMES)  # the database refuses any other
    if name == "subject_id":
        values: st.SearchStrategy[Any] = st.integers(0, 2**31 - 1)
    elif name == "detail":
        values = st.dictionaries(st.text(TEXT, max_size=5), JSON_VALUES, max_size=3)
    else:
        values = st.text(TEXT, max_size=min(column.type.length or 40, 40))  # type: ignore[attr-defined]
    return st.one_of(st.none(), values) if column.nullable else values


CHANGES = st.one_of(
    st.tuples(st.just("edit"), st.integers(1, ENTRIES), st.sampled_from(list(audit_log.columns))).flatmap(
        lambda c: st.tuples(st.just(c[0]), st.just(c[1]), st.just(c[2].name), _column_values(c[2]))
    ),
    st.tuples(st.just("remove"), st.integers(1, ENTRIES), st.none(), st.none()),
    st.tuples(st.just("head"), st.none(), st.just("seq"), st.integers(0, 99)),
    st.tuples(st.just("head"), st.none(), st.just("hash"), HEX64),
)


@pytest.fixture
def chain(engine: sa.Engine, clock: FixedClock) -> Iterator[sa.Engine]:
    append(engine, clock, ENTRIES)
    with tampering(engine) as conn:  # SQLite: the triggers are dropped
        pass
    if engine.dialect.name == "postgresql":  # PostgreSQL: switched back on by tampering(), off again here
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    with engine.connect() as conn:
        assert audit.verify(conn).ok and audit.verify(conn).entries == ENTRIES
    yield engine
    if engine.dialect.name == "postgresql":  # the database is shared with the tests that follow
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # each example is rolled back
@given(change=CHANGES)
def test_any_single_row_change_is_found(chain: sa.Engine, change: tuple[str, Any, Any, Any]) -> None:
    kind, seq, column, value = change
    with chain.connect() as conn:
        transaction = conn.begin()
        try:
            if kind == "remove":
                conn.execute(audit_log.delete().where(audit_log.c.seq == seq))
            elif kind == "head":
                assume(value != conn.execute(sa.select(audit_head.c[column])).scalar_one())
                conn.execute(audit_head.update().values({column: value}))
            else:
                before = conn.execute(sa.select(audit_log.c[column]).where(audit_log.c.seq == seq)).scalar()
                assume(value != before)
                conn.execute(audit_log.update().where(audit_log.c.seq == seq).values({column: value}))
                after = conn.execute(
                    sa.select(audit_log.c[column]).where(
                        audit_log.c.seq == (value if column == "seq" else seq)
                    )
                ).scalar()
                assume(after != before)  # the database stored a different value (not, say, a rounded one)
            result = audit.verify(conn)
        finally:
            transaction.rollback()
    assert not result.ok, f"{kind} of entry {seq} ({column} = {value!r}) was not found"
