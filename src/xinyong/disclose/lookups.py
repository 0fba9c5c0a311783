"""The reads one disclosure request makes, as statements built once per process.

The subject API answers thousands of requests a second across a province; building SQLAlchemy expressions
anew for every request cost more than running them. The subject's own reads are the registry's
(`subjects.service.find_code_holder` / `subject_view`, prepared the same way); this adds its records.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.store.tables import records
from xinyong.subjects.service import find_code_holder as code_holder
from xinyong.subjects.service import subject_view as subject_row

__all__ = ["RECORD_COLUMNS", "code_holder", "record_rows", "subject_row"]

RECORD_COLUMNS = (
    records.c.id,
    records.c.item_code,
    records.c.source_uscc,
    records.c.source_key,
    records.c.state,
    records.c.decision_date,
    records.c.valid_until,
    records.c.act_end_date,
    records.c.receipt_working_days,
    records.c.data,
    records.c.first_seen,
    records.c.updated_at,
)
_RECORDS = sa.select(*RECORD_COLUMNS).where(records.c.subject_id == sa.bindparam("sid"))


def record_rows(conn: sa.Connection, subject_id: int) -> list[Any]:
    return conn.execute(_RECORDS, {"sid": subject_id}).all()
