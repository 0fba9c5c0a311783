import datetime as dt

import polars as pl
import sqlalchemy as sa

from xinyong.store.bulk import insert_frame
from xinyong.store.tables import catalog_versions, organisations


def test_frames_written_in_bulk_read_back_through_core_unchanged(engine: sa.Engine) -> None:
    at = dt.datetime(2026, 6, 15, 2, 0, 0, 123456, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "uscc": ["91350100M000100Y43", "91420100MA4K0000XX"],
            "name": ["省市场监管局", 'with "quotes", commas\nand a newline'],
            "kind": ["provider", "provider"],
            "division_code": [None, "420100"],
            "created_at": [at, at],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    )
    with engine.begin() as conn:
        assert insert_frame(conn, "organisations", frame) == 2
        conn.execute(
            catalog_versions.insert().values(sha256="0" * 64, edition="e", content="", created_at=at)
        )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(organisations).order_by(organisations.c.id)).mappings().all()
    assert [r["name"] for r in rows] == frame["name"].to_list()
    assert rows[0]["division_code"] is None and rows[1]["division_code"] == "420100"
    assert rows[0]["created_at"] == at
    assert rows[0]["status"] == "active"  # server defaults still apply


def test_empty_frame_writes_nothing(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert insert_frame(conn, "organisations", pl.DataFrame()) == 0
