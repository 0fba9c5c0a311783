"""The reads one disclosure request makes, as statements built once per process.

The subject API answers thousands of requests a second across a province; building SQLAlchemy expressions
anew for every request cost more than running them. These are the same reads as
`subjects.service.find_subject_id` and `get_subject` (tests/disclose/test_lookups.py holds them to it),
prepared once with bound parameters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.codes.normalize import normalize_code
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.tables import records
from xinyong.subjects.models import IDENTIFIER_SCHEMES, subject_identifiers, subject_names, subjects

PERSONAL_SCHEMES = ("idcard", "iddoc")  # blind-indexed: the value is an HMAC, shown only masked
_ORG_SCHEMES = tuple(s for s in IDENTIFIER_SCHEMES if s not in PERSONAL_SCHEMES)
_RANK = {scheme: i for i, scheme in enumerate(IDENTIFIER_SCHEMES)}

_t = subject_identifiers
_BY_CODE = sa.select(_t.c.subject_id, _t.c.scheme).where(
    sa.or_(
        sa.and_(_t.c.scheme.in_(_ORG_SCHEMES), _t.c.value == sa.bindparam("code")),
        sa.and_(_t.c.scheme == "idcard", _t.c.value == sa.bindparam("blind")),
    )
)
_SUBJECT = sa.select(subjects).where(subjects.c.id == sa.bindparam("sid"))
_IDENTIFIERS = (
    sa.select(_t.c.scheme, _t.c.value, _t.c.value_masked, _t.c.origin)
    .where(_t.c.subject_id == sa.bindparam("sid"))
    .order_by(_t.c.id)
)
_NAMES = (
    sa.select(
        subject_names.c.name, subject_names.c.role, subject_names.c.first_seen, subject_names.c.last_seen
    )
    .where(subject_names.c.subject_id == sa.bindparam("sid"))
    .order_by(subject_names.c.first_seen, subject_names.c.id)
)
RECORD_COLUMNS = (
    records.c.id,
    records.c.item_code,
    records.c.source_uscc,
    records.c.source_key,
    records.c.state,
    records.c.decision_date,
    records.c.valid_until,
    records.c.act_end_date,
    records.c.data,
    records.c.first_seen,
    records.c.updated_at,
)
_RECORDS = sa.select(*RECORD_COLUMNS).where(records.c.subject_id == sa.bindparam("sid"))


def subject_id_for(conn: sa.Connection, code: str, *, protector: PersonalIdProtector) -> int | None:
    """Any identifier as a person types it to the subject holding it; the most trusted scheme wins."""
    value = normalize_code(code)
    blind = protector.blind_index(value) if len(value) in (15, 18) else "-"
    rows = conn.execute(_BY_CODE, {"code": value, "blind": blind}).all()
    if not rows:
        return None
    return min(rows, key=lambda r: _RANK[r.scheme]).subject_id


def subject_row(conn: sa.Connection, subject_id: int) -> dict[str, Any] | None:
    """The subject with its identifiers (personal ones masked) and names: `subjects.service.get_subject`."""
    row = conn.execute(_SUBJECT, {"sid": subject_id}).mappings().first()
    if row is None:
        return None
    ids = conn.execute(_IDENTIFIERS, {"sid": subject_id}).mappings()
    names = conn.execute(_NAMES, {"sid": subject_id}).mappings()
    return {
        "id": row["id"],
        "kind": row["kind"],
        "uscc": row["uscc"],
        "name": row["name"],
        "division_code": row["division_code"],
        "status": row["status"],
        "merged_into_id": row["merged_into_id"],
        "identifiers": [
            {
                "scheme": i["scheme"],
                "value": i["value_masked"] if i["scheme"] in PERSONAL_SCHEMES else i["value"],
                "origin": i["origin"],
            }
            for i in ids
        ],
        "names": [
            {"name": n["name"], "role": n["role"], "first_seen": n["first_seen"], "last_seen": n["last_seen"]}
            for n in names
        ],
    }


def record_rows(conn: sa.Connection, subject_id: int) -> list[Any]:
    return conn.execute(_RECORDS, {"sid": subject_id}).all()
