"""Read-only questions of the application chapter shared by the API, the portal and the command line.

The public list (名单公示) shows entries decided, published and within their validity on the day asked:
a removed or expired entry leaves it at once, and stays in `list_entries` as history.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from xinyong.apply.catalogue import load_catalogue
from xinyong.apply.models import list_entries
from xinyong.apply.service import subject_ref
from xinyong.disclose import export
from xinyong.subjects.models import subjects


def public_entries(
    conn: sa.Connection,
    *,
    on: dt.date,
    list_type: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    subject_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Current entries, newest decision first, filtered by list type, red/black, a name or code fragment."""
    catalogue = load_catalogue()
    e, s = list_entries, subjects
    query = (
        sa.select(e, s.c.kind.label("subject_kind"), s.c.uscc, s.c.name, s.c.public_ref)
        .join(s, s.c.id == e.c.subject_id)
        .where(e.c.state == "listed", e.c.valid_until >= on)
    )
    if list_type:
        query = query.where(e.c.list_type == list_type.strip().upper())
    if kind:
        query = query.where(e.c.list_type.in_([t.code for t in catalogue.list_types if t.kind == kind]))
    if subject_id is not None:
        query = query.where(e.c.subject_id == subject_id)
    if q and q.strip():
        text = q.strip()
        # A natural person is never found by name here: the public sees the name masked.
        query = query.where(
            sa.or_(s.c.uscc == text.upper(), sa.and_(s.c.kind != "natural_person", s.c.name.contains(text)))
        )
    rows = conn.execute(query.order_by(e.c.decided_on.desc(), e.c.id.desc()).limit(limit).offset(offset))
    out = []
    for row in rows:
        found = catalogue.list_type(row.list_type)
        subject = subject_ref(
            SimpleNamespace(kind=row.subject_kind, uscc=row.uscc, name=row.name, public_ref=row.public_ref)
        )
        out.append(
            {
                "id": row.id,
                "list_type": row.list_type,
                "list_name_zh": found.name_zh if found else row.list_type,
                "kind": found.kind if found else None,
                "deciding_body": found.deciding_body if found else None,
                "subject": subject,
                "reason": row.reason,
                "basis": row.basis,
                "decided_on": row.decided_on.isoformat(),
                "valid_until": row.valid_until.isoformat(),
            }
        )
    return out


HEADERS = [
    "名单类型",
    "红/黑",
    "主体代码",
    "主体名称",
    "列入事由",
    "列入依据",
    "认定单位",
    "决定日期",
    "有效期至",
]


def entries_csv(rows: list[dict[str, Any]]) -> str:
    body = (
        [
            r["list_name_zh"],
            {"red": "红名单", "black": "黑名单"}.get(r["kind"] or "", ""),
            r["subject"]["code"],
            r["subject"]["name"],
            r["reason"],
            r["basis"],
            r["deciding_body"] or "",
            r["decided_on"],
            r["valid_until"],
        ]
        for r in rows
    )
    return export._write(HEADERS, body)
