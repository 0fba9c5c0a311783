"""Tables and result shapes of the disclosure chapter.

The search index is two physical slots, `a` and `b`, of the same shape: a rebuild fills the slot not in
use, then one row in `search_builds` switches readers over, so searches never see a half-built index and
never wait for a rebuild (OpenSanctions' yente does the same with Elasticsearch aliases). Each slot holds
the 2-character n-grams (bigrams) of every organisation's current and former names and the 3-letter
n-grams of their pinyin initials, keyed (gram, subject_id), plus how many subjects hold each gram, so a
query starts from its rarest gram.

Two indexes on `records` serve the 双公示 lists and their filters; they are declared here (the records
table belongs to the store) because only disclosure reads records that way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from xinyong.clock import CHINA
from xinyong.store.meta import UTCDateTime, metadata, pk
from xinyong.store.tables import records

SLOTS = ("a", "b")
_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _grams(slot: str) -> sa.Table:
    return sa.Table(
        f"search_grams_{slot}",
        metadata,
        sa.Column("gram", sa.String(8), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("gram", "subject_id"),
        sqlite_with_rowid=False,
    )


def _stats(slot: str) -> sa.Table:
    return sa.Table(
        f"search_gram_stats_{slot}",
        metadata,
        sa.Column("gram", sa.String(8), nullable=False),
        sa.Column("df", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("gram"),
        sqlite_with_rowid=False,
    )


search_grams = {slot: _grams(slot) for slot in SLOTS}
search_gram_stats = {slot: _stats(slot) for slot in SLOTS}

BUILD_STATES = ("building", "active", "retired", "failed")

search_builds = sa.Table(
    "search_builds",
    metadata,
    pk(),
    sa.Column("slot", sa.String(1), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("subjects", sa.Integer, nullable=False, server_default="0"),
    sa.Column("grams", sa.BigInteger, nullable=False, server_default="0"),
    # Subjects with a larger id were created after the build: searches scan them directly until a refresh.
    sa.Column("max_subject_id", _ID, nullable=False, server_default="0"),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime()),
    sa.Column("refreshed_at", UTCDateTime()),
    sa.CheckConstraint(f"status IN {BUILD_STATES!r}", name="status"),
    sa.CheckConstraint(f"slot IN {SLOTS!r}", name="slot"),
)

# The 双公示 lists filtered by providing department (and the list of departments, by a loose index scan).
# Lists without that filter use the store's ix_records_item_decision (item_code, decision_date).
ix_records_source = sa.Index(
    "ix_records_source_item_decision", records.c.source_uscc, records.c.item_code, records.c.decision_date
)


# ---------------------------------------------------------------------------------------- result shapes

Audience = Literal["public", "self", "authorised", "government", "platform"]
LevelName = Literal["public", "authorised", "government"]


@dataclass(frozen=True, slots=True)
class Label:
    """A code with its words in both languages (a reason, a mark)."""

    code: str
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one record is shown to one audience today, and why (or why not)."""

    visible: bool
    reason: Label
    marks: tuple[Label, ...] = ()
    until: dt.date | None = None  # the last day it stays visible to this audience, when one is known
    rule: str | None = None  # the policy rule that set the period
    penalty_class: str | None = None


@dataclass(frozen=True, slots=True)
class ShownRecord:
    """A record as one audience may see it: masked where it must be, with why it is visible."""

    id: int
    item_code: str
    item_name_zh: str
    item_name_en: str
    category: str
    level: LevelName
    state: str
    source_key: str
    source_uscc: str
    source_name: str | None
    decision_date: dt.date | None
    valid_until: dt.date | None
    first_collected: dt.datetime
    last_updated: dt.datetime
    reason: Label
    marks: tuple[Label, ...]
    visible_until: dt.date | None
    rule: str | None
    penalty_class: str | None
    title: str  # one line saying what it is (违法行为类型 / 许可证书名称 ...)
    data: dict[str, Any]
    truncated: tuple[str, ...] = ()  # fields cut short in this list view (the notice shows them whole)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": {"code": self.item_code, "name_zh": self.item_name_zh, "name_en": self.item_name_en},
            "category": self.category,
            "level": self.level,
            "state": self.state,
            "source_key": self.source_key,
            "source": {"uscc": self.source_uscc, "name": self.source_name},
            "decision_date": _iso(self.decision_date),
            "valid_until": _iso(self.valid_until),
            "first_collected": _iso(self.first_collected),
            "last_updated": _iso(self.last_updated),
            "reason": self.reason.as_dict(),
            "marks": [m.as_dict() for m in self.marks],
            "visible_until": _iso(self.visible_until),
            "rule": self.rule,
            "penalty_class": self.penalty_class,
            "title": self.title,
            "data": self.data,
            "truncated": list(self.truncated),
        }


@dataclass(frozen=True)
class Disclosure:
    """What one audience may see about one subject on one day: the answer every channel gives."""

    subject: dict[str, Any]
    audience: Audience
    level: LevelName  # the highest disclosure level asked for
    as_of: dt.date
    records: tuple[ShownRecord, ...]
    # How many records are hidden, by reason; None where the audience may not learn that they exist.
    hidden: dict[str, int] | None = None
    hidden_labels: dict[str, Label] = field(default_factory=dict)

    @property
    def record_ids(self) -> list[int]:
        return [r.id for r in self.records]

    def by_item(self) -> dict[str, list[ShownRecord]]:
        grouped: dict[str, list[ShownRecord]] = {}
        for record in self.records:
            grouped.setdefault(record.item_code, []).append(record)
        return grouped

    def as_dict(self) -> dict[str, Any]:
        """The subject's identity at the top level (as `GET /api/v1/subjects/{code}` always answered), then
        who it is shown to and the records."""
        return {
            **self.subject,
            "audience": self.audience,
            "level": self.level,
            "as_of": self.as_of.isoformat(),
            "records": [r.as_dict() for r in self.records],
            "hidden": (
                None
                if self.hidden is None
                else [
                    {**self.hidden_labels[code].as_dict(), "count": n}
                    for code, n in sorted(self.hidden.items())
                ]
            ),
        }


def _iso(value: dt.date | None) -> str | None:
    """Dates as they are; instants in China Standard Time, the platform's legal day."""
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA).isoformat()
    return value.isoformat() if value is not None else None
