"""A natural person's name is never stored in clear (standard 4): collected records, the subject registry,
its evidence and the rejected rows hold it sealed, and every reader with the runtime's key reads it back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xinyong.catalog.models import Item
from xinyong.collect.sealing import seal_stored_names
from xinyong.policy.models import PersonNameMasking
from xinyong.runtime import Runtime
from xinyong.store.engine import make_engine
from xinyong.store.schema import metadata
from xinyong.subjects.models import subject_names, subjects

from .conftest import DEPT, SHOP, Ingest, penalty, person_penalty, record_of

COMPANY_NAME = "武汉华信科技有限公司"  # an organisation's name is public registration information: in clear


def _everything_stored(engine: sa.Engine) -> str:
    """Every row of every table as a connection without the name key reads it (no column type applied)."""
    keyless = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with keyless.connect() as conn:
            return "\n".join(
                repr(conn.execute(sa.text(f'SELECT * FROM "{t.name}"')).all()) for t in metadata.sorted_tables
            )
    finally:
        keyless.dispose()


def test_no_person_name_reaches_the_database_in_clear(send: Ingest, engine: sa.Engine) -> None:
    shop = {"xdr_mc": "王芳", "xdr_lb": "个体工商户", "xdr_dm1": SHOP}  # a bare personal name: a person's
    first = send([person_penalty(1), penalty(2), penalty(3, **shop), person_penalty(4, cf_jdrq="2026-13-01")])
    assert (first.inserted, first.rejected) == (3, 1)  # the last row is rejected and kept for its feedback
    # The same person under another name: an observed name, and the evidence of the mismatch.
    second = send([person_penalty(5, xdr_mc="张卫")])
    assert second.inserted == 1

    stored = _everything_stored(engine)
    assert COMPANY_NAME in stored  # the dump reads what is in clear
    for name in ("张伟", "张卫", "王芳"):
        assert name not in stored, f"{name} is stored in clear"

    # Read with the runtime's key, every name comes back as it was sent.
    assert record_of(engine, DEPT, "武市监罚〔2026〕1号")["data"]["xdr_mc"] == "张伟"
    assert record_of(engine, DEPT, "武市监罚〔2026〕3号")["data"]["xdr_mc"] == "王芳"
    with engine.connect() as conn:
        person = conn.execute(
            sa.select(subjects.c.id, subjects.c.name).where(subjects.c.name == "张伟")
        ).all()
        assert person == []  # a plain string is compared as it is: the column holds no clear name
        names = conn.execute(sa.select(subjects.c.kind, subjects.c.name).order_by(subjects.c.id)).all()
        assert [tuple(n) for n in names] == [
            ("natural_person", "张伟"),
            ("legal_person", COMPANY_NAME),
            ("individual_business", "王芳"),
        ]
        observed = conn.execute(
            sa.select(subject_names.c.name).where(subject_names.c.role == "observed")
        ).scalars()
        assert list(observed) == ["张卫"]


def test_a_person_record_sent_again_is_unchanged(send: Ingest) -> None:
    """Sealing gives the same text for the same name, so a re-sent record is recognised as unchanged."""
    rows = [person_penalty(1), person_penalty(2)]
    assert send(rows).inserted == 2
    again = send(rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_names_stored_in_clear_before_sealing_are_sealed_in_place_once(
    send: Ingest, runtime: Runtime, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`xinyong key seal-names`: a database written before names were sealed holds them in clear; the
    command seals each where collection would have, keeps every value readable, and a second run finds
    nothing left to do."""
    with monkeypatch.context() as before_sealing:
        before_sealing.setattr(PersonNameMasking, "names_a_person", lambda self, name, kind: False)
        before_sealing.setattr(Item, "person_name_fields", lambda self: {})
        send([person_penalty(1), penalty(2), person_penalty(3, cf_jdrq="2026-13-01")])
        send([person_penalty(4, xdr_mc="张卫")])
    assert "张伟" in _everything_stored(engine) and "张卫" in _everything_stored(engine)

    counts = seal_stored_names(runtime, chunk=1)  # one row a transaction: every chunk boundary is crossed
    assert counts.as_dict() == {"subject_names": 5, "records": 2, "versions": 0, "kept_rows": 1}
    stored = _everything_stored(engine)
    assert COMPANY_NAME in stored
    assert "张伟" not in stored and "张卫" not in stored
    assert record_of(engine, DEPT, "武市监罚〔2026〕1号")["data"]["xdr_mc"] == "张伟"
    assert seal_stored_names(runtime).as_dict() == dict.fromkeys(counts.as_dict(), 0)
    # The sealed records are still the same records: sent again, they are unchanged.
    again = send([person_penalty(1), penalty(2)])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
