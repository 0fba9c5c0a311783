"""The subject registry's only writer: resolve identifiers and names to subjects, merge and unmerge.

Resolution is set-based so that one call serves a single look-up and a million-row batch alike:
identifiers are looked up in chunks, new subjects are inserted with executemany, and candidates that
share an identifier inside one call end up on the same subject.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.codes.normalize import normalize_code
from xinyong.policy import load_policy
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.tables import records
from xinyong.subjects.models import (
    IDENTIFIER_SCHEMES,
    record_moves,
    subject_identifiers,
    subject_merges,
    subject_names,
    subjects,
)
from xinyong.subjects.resolve import PERSONAL_SCHEMES, resolve_frame
from xinyong.subjects.sealing import person_name

CHUNK = 5000  # values per IN list: well under SQLite's 32766 bound parameters
_PERSONAL_SCHEMES = PERSONAL_SCHEMES
_ORG_SCHEMES = tuple(s for s in IDENTIFIER_SCHEMES if s not in _PERSONAL_SCHEMES)


@dataclass(frozen=True)
class Candidate:
    """What one row says about its subject. Identifier values are normalised; ID numbers in clear."""

    identifiers: dict[str, str]
    name: str | None = None
    kind: str | None = None
    source: str | None = None
    # The registration authority's word on the name (企业登记): it renames, earlier names become 曾用名.
    authoritative_name: bool = False


@dataclass
class Resolution:
    subject_id: int
    created: bool = False
    evidence: list[str] = field(default_factory=list)


class SubjectNotFound(LookupError):
    pass


def resolve(
    conn: sa.Connection, candidate: Candidate, *, clock: Clock, protector: PersonalIdProtector
) -> Resolution:
    return resolve_many(conn, [candidate], clock=clock, protector=protector)[0]


def resolve_many(
    conn: sa.Connection,
    candidates: Sequence[Candidate],
    *,
    clock: Clock,
    protector: PersonalIdProtector,
) -> list[Resolution]:
    now = clock.now()
    source = next((c.source for c in candidates if c.source), None)
    frame = pl.DataFrame(
        [
            {
                **{scheme: _normalised(scheme, c.identifiers.get(scheme)) for scheme in IDENTIFIER_SCHEMES},
                "name": c.name,
                "kind": c.kind,
                "authoritative": c.authoritative_name,
            }
            for c in candidates
        ],
        schema={
            **dict.fromkeys(IDENTIFIER_SCHEMES, pl.String),
            "name": pl.String,
            "kind": pl.String,
            "authoritative": pl.Boolean,
        },
    )
    resolved = resolve_frame(conn, frame, now=now, protector=protector, source=source)
    results = [
        Resolution(subject_id=sid, created=created, evidence=["identifier_split"] if split else [])
        for sid, created, split in resolved.iter_rows()
    ]
    for candidate, result in zip(candidates, results, strict=True):
        if candidate.authoritative_name and candidate.name:
            _rename(conn, result.subject_id, new=candidate.name, source=candidate.source, now=now)
    return results


# A subject without a USCC is named by its opaque platform reference: xy- and 24 random hex characters
# (subjects.public_ref). Never its row id, which can be counted through, nor a person's ID number.
SUBJECT_REF_PREFIX = "xy-"


def reference(uscc: str | None, public_ref: str) -> str:
    """How lists, events and messages name a subject: its USCC, else its platform reference (both resolve
    on the portal and the API)."""
    return uscc or f"{SUBJECT_REF_PREFIX}{public_ref}"


def _normalised(scheme: str, value: str | None) -> str | None:
    if not value:
        return None
    # iddoc values are "证件类型:号码": a passport number means nothing without its document type.
    return value if scheme == "iddoc" else normalize_code(value) or None


def _rename(conn: sa.Connection, subject_id: int, *, new: str, source: str | None, now: dt.datetime) -> None:
    """The registration authority renamed the subject: the old name becomes a 曾用名 (former name)."""
    old, kind = conn.execute(
        sa.select(subjects.c.name, subjects.c.kind).where(subjects.c.id == subject_id)
    ).one()
    if old == new:
        return
    new = person_name(new, kind, load_policy().masking.person_names)
    names = subject_names
    conn.execute(
        names.update()
        .where(names.c.subject_id == subject_id, names.c.name == old)
        .values(role="former", last_seen=now)
    )
    known = conn.execute(
        sa.select(names.c.id).where(names.c.subject_id == subject_id, names.c.name == new)
    ).scalar()
    if known is not None:
        conn.execute(names.update().where(names.c.id == known).values(role="current", last_seen=now))
    else:
        conn.execute(
            names.insert().values(
                subject_id=subject_id, name=new, role="current", source=source, first_seen=now, last_seen=now
            )
        )
    conn.execute(subjects.update().where(subjects.c.id == subject_id).values(name=new, updated_at=now))


# The subject API answers thousands of look-ups a second across a province: these reads are built once per
# process with bound parameters, not anew for every request.
_t = subject_identifiers


def _constants(schemes: Iterable[str]) -> list[Any]:
    """Scheme names rendered into a statement: an expanding IN would be re-rendered on every execution."""
    return [sa.literal_column(f"'{s}'") for s in schemes]


_HOLDER = sa.select(_t.c.subject_id, _t.c.scheme, subjects.c.status, subjects.c.merged_into_id).join(
    subjects, subjects.c.id == _t.c.subject_id
)
# Two index probes glued by UNION ALL: SQLite answers an OR of the two as a MULTI-INDEX OR, three times
# slower on the subject API's hottest query.
_BY_CODE = sa.union_all(
    _HOLDER.where(
        _t.c.scheme.in_(_constants(_ORG_SCHEMES)),
        _t.c.value == sa.bindparam("code"),
    ),
    _HOLDER.where(_t.c.scheme == "idcard", _t.c.value == sa.bindparam("blind")),
)
# A subject with its identifiers and names in one round trip (on PostgreSQL each query is a round trip, and
# the subject API makes a handful per answer): the subject's row joined to one UNION ALL of its names and
# identifiers (typed by its first branch), split and ordered here. A subject with neither still comes back,
# once, with the UNION's columns null.
_NAME_TIME = subject_names.c.first_seen.type
_PARTS = sa.union_all(
    sa.select(
        sa.literal_column("'name'").label("part"),
        subject_names.c.id.label("part_id"),
        subject_names.c.name.label("a"),
        subject_names.c.role.label("b"),
        sa.cast(sa.null(), sa.String).label("c"),
        subject_names.c.first_seen,
        subject_names.c.last_seen,
    ).where(subject_names.c.subject_id == sa.bindparam("sid")),
    sa.select(
        sa.literal_column("'identifier'"),
        _t.c.id,
        _t.c.scheme,
        sa.case(
            (_t.c.scheme.in_(_constants(_PERSONAL_SCHEMES)), _t.c.value_masked),
            else_=_t.c.value,
        ),
        _t.c.origin,
        sa.cast(sa.null(), _NAME_TIME),
        sa.cast(sa.null(), _NAME_TIME),
    ).where(_t.c.subject_id == sa.bindparam("sid")),
).subquery("parts")
_SUBJECT_COLUMNS = ("id", "kind", "uscc", "name", "division_code", "status", "merged_into_id", "public_ref")
_SUBJECT_WITH_PARTS = (
    sa.select(*(subjects.c[c] for c in _SUBJECT_COLUMNS), *_PARTS.c)
    .select_from(subjects.outerjoin(_PARTS, sa.true()))
    .where(subjects.c.id == sa.bindparam("sid"))
)
_RANK = {scheme: i for i, scheme in enumerate(IDENTIFIER_SCHEMES)}
_ID_NUMBER_SHAPE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9X]")


@dataclass(frozen=True)
class CodeHolder:
    """The subject an identifier belongs to, with what a caller needs to follow a merge."""

    subject_id: int
    status: str
    merged_into_id: int | None


def find_code_holder(conn: sa.Connection, code: str, *, protector: PersonalIdProtector) -> CodeHolder | None:
    """Any identifier, as a person would type it, to the subject that holds it; of several holders the most
    trusted scheme wins. One query: the subject's status comes with it (a merge moves identifiers to the
    kept subject, so a merged holder is rare, but the caller still follows it)."""
    value = normalize_code(code)
    # Only what can be an ID number (digits, an X last) costs an HMAC: a USCC is 18 characters too.
    blind = protector.blind_index(value) if _ID_NUMBER_SHAPE.fullmatch(value) else "-"
    rows = conn.execute(_BY_CODE, {"code": value, "blind": blind}).all()
    if not rows:
        return None
    best = min(rows, key=lambda r: _RANK[r.scheme])
    return CodeHolder(best.subject_id, best.status, best.merged_into_id)


def find_subject_id(conn: sa.Connection, code: str, *, protector: PersonalIdProtector) -> int | None:
    """Any identifier, as a person would type it, to the subject that holds it."""
    holder = find_code_holder(conn, code, protector=protector)
    return holder.subject_id if holder is not None else None


_BY_CODES = (
    sa.select(_t.c.value, _t.c.scheme, _t.c.subject_id)
    .join(subjects, subjects.c.id == _t.c.subject_id)
    .where(
        _t.c.value.in_(sa.bindparam("values", expanding=True)),
        _t.c.scheme.in_(_constants((*_ORG_SCHEMES, "idcard"))),
        subjects.c.status == "active",
    )
)


def find_subject_ids(
    conn: sa.Connection, codes: Iterable[str], *, protector: PersonalIdProtector
) -> dict[str, int]:
    """find_subject_id for many codes at once (one query per CHUNK values): {code as given: subject id}
    for the codes some active subject holds. The same rule: any organisation identifier as typed, or an ID
    number through its blind index; of several holders the most trusted scheme wins."""
    wanted: dict[str, list[tuple[str, str]]] = {}  # stored value → [(code as given, scheme kind)]
    for code in dict.fromkeys(codes):
        value = normalize_code(code)
        if not value:
            continue
        wanted.setdefault(value, []).append((code, "org"))
        if _ID_NUMBER_SHAPE.fullmatch(value):  # only what can be an ID number costs an HMAC and a look-up
            wanted.setdefault(protector.blind_index(value), []).append((code, "idcard"))
    best: dict[str, tuple[int, int]] = {}  # code → (rank, subject id)
    values = list(wanted)
    for start in range(0, len(values), CHUNK):
        for value, scheme, subject_id in conn.execute(_BY_CODES, {"values": values[start : start + CHUNK]}):
            for code, kind in wanted[value]:
                if (scheme == "idcard") != (kind == "idcard"):
                    continue  # an ID number's blind index is never compared with an organisation code
                rank = _RANK[scheme]
                if code not in best or rank < best[code][0]:
                    best[code] = (rank, subject_id)
    return {code: subject_id for code, (rank, subject_id) in best.items()}


def subject_view(conn: sa.Connection, subject_id: int) -> dict[str, Any] | None:
    """The subject with its identifiers (ID numbers masked) and names; a merged one names the kept one."""
    rows = conn.execute(_SUBJECT_WITH_PARTS, {"sid": subject_id}).all()
    if not rows:
        return None
    identifiers = sorted((p for p in rows if p.part == "identifier"), key=lambda p: p.part_id)
    names = sorted((p for p in rows if p.part == "name"), key=lambda p: (p.first_seen, p.part_id))
    row = rows[0]
    return {
        **{c: getattr(row, c) for c in _SUBJECT_COLUMNS},
        "identifiers": [{"scheme": i.a, "value": i.b, "origin": i.c} for i in identifiers],
        "names": [
            {"name": n.a, "role": n.b, "first_seen": n.first_seen, "last_seen": n.last_seen} for n in names
        ],
    }


def get_subject(conn: sa.Connection, subject_id: int) -> dict[str, Any]:
    view = subject_view(conn, subject_id)
    if view is None:
        raise SubjectNotFound(subject_id)
    return view


def merge_subjects(
    conn: sa.Connection, *, keep_id: int, merge_id: int, reason: str, decided_by: str, clock: Clock
) -> int:
    """Fold `merge_id` into `keep_id`; everything that moves is written down so undo_merge is exact."""
    if keep_id == merge_id:
        raise ValueError("a subject cannot be merged into itself")
    now = clock.now()
    keep = conn.execute(sa.select(subjects).where(subjects.c.id == keep_id)).mappings().one()
    gone = conn.execute(sa.select(subjects).where(subjects.c.id == merge_id)).mappings().one()
    if "merged" in (keep["status"], gone["status"]):
        raise ValueError("both subjects must be active to merge")
    keep_names = set(
        conn.execute(sa.select(subject_names.c.name).where(subject_names.c.subject_id == keep_id)).scalars()
    )
    moved = {
        "identifiers": list(
            conn.execute(
                sa.select(subject_identifiers.c.id).where(subject_identifiers.c.subject_id == merge_id)
            ).scalars()
        ),
        "names": list(
            conn.execute(
                sa.select(subject_names.c.id).where(
                    subject_names.c.subject_id == merge_id, subject_names.c.name.not_in(keep_names or {""})
                )
            ).scalars()
        ),
        "records": list(
            conn.execute(sa.select(records.c.id).where(records.c.subject_id == merge_id)).scalars()
        ),
        "uscc": gone["uscc"] if gone["uscc"] and not keep["uscc"] else None,
    }
    _move(conn, moved, to=keep_id)
    conn.execute(
        subjects.update()
        .where(subjects.c.id == merge_id)
        .values(status="merged", merged_into_id=keep_id, uscc=None, updated_at=now)
    )
    if moved["uscc"]:
        conn.execute(
            subjects.update().where(subjects.c.id == keep_id).values(uscc=moved["uscc"], updated_at=now)
        )
    moved["merged_uscc"] = gone["uscc"]
    return conn.execute(
        subject_merges.insert()
        .values(
            kept_id=keep_id,
            merged_id=merge_id,
            reason=reason,
            decided_by=decided_by,
            moved=moved,
            created_at=now,
        )
        .returning(subject_merges.c.id)
    ).scalar_one()


def undo_merge(conn: sa.Connection, *, merge_id: int, undone_by: str, clock: Clock) -> None:
    now = clock.now()
    merge = conn.execute(sa.select(subject_merges).where(subject_merges.c.id == merge_id)).mappings().one()
    if merge["undone_at"] is not None:
        raise ValueError(f"merge {merge_id} was already undone")
    moved = merge["moved"]
    if moved.get("uscc"):
        conn.execute(
            subjects.update().where(subjects.c.id == merge["kept_id"]).values(uscc=None, updated_at=now)
        )
    _move(conn, moved, to=merge["merged_id"])
    conn.execute(
        subjects.update()
        .where(subjects.c.id == merge["merged_id"])
        .values(status="active", merged_into_id=None, uscc=moved.get("merged_uscc"), updated_at=now)
    )
    conn.execute(
        subject_merges.update()
        .where(subject_merges.c.id == merge_id)
        .values(undone_at=now, undone_by=undone_by)
    )


class MoveRefused(ValueError):
    """The record cannot be moved (or the move undone) as asked; nothing changed."""


def move_record(
    conn: sa.Connection,
    *,
    record_id: int,
    to_subject_id: int,
    reason: str,
    decided_by: str,
    clock: Clock,
    requested_by: str | None = None,
) -> int:
    """Re-attach one record to another subject, keeping the evidence (who, when, why, from → to, what asked
    for it) in record_moves; returns the move's id. Compare-and-set on the record's subject, so of two
    moves at once one wins. The caller keeps the record's own version history (its state, its data)."""
    now = clock.now()
    current = conn.execute(sa.select(records.c.subject_id).where(records.c.id == record_id)).scalar()
    if current is None:
        raise MoveRefused(f"no record {record_id}")
    if int(current) == to_subject_id:
        raise MoveRefused("the record is already about that subject")
    target = conn.execute(sa.select(subjects.c.status).where(subjects.c.id == to_subject_id)).scalar()
    if target != "active":
        raise MoveRefused(f"subject {to_subject_id} is not an active subject of the registry")
    _repoint(conn, record_id, frm=int(current), to=to_subject_id, now=now)
    return conn.execute(
        record_moves.insert()
        .values(
            record_id=record_id,
            from_subject_id=int(current),
            to_subject_id=to_subject_id,
            reason=reason,
            decided_by=decided_by[:100],
            requested_by=(requested_by or None) and requested_by[:64],
            created_at=now,
        )
        .returning(record_moves.c.id)
    ).scalar_one()


def undo_record_move(
    conn: sa.Connection, *, move_id: int, undone_by: str, reason: str, clock: Clock
) -> dict[str, Any]:
    """Put the record back on the subject it was moved from; the move stays, marked undone. Refused when
    the record has moved again since (undo the later move first)."""
    now = clock.now()
    move = conn.execute(sa.select(record_moves).where(record_moves.c.id == move_id)).mappings().first()
    if move is None:
        raise MoveRefused(f"no record move {move_id}")
    if move["undone_at"] is not None:
        raise MoveRefused(f"record move {move_id} was already undone")
    taken = conn.execute(
        record_moves.update()
        .where(record_moves.c.id == move_id, record_moves.c.undone_at.is_(None))
        .values(undone_at=now, undone_by=undone_by[:100], undo_reason=reason)
    )
    if taken.rowcount != 1:
        raise MoveRefused(f"record move {move_id} was already undone")
    _repoint(conn, move["record_id"], frm=move["to_subject_id"], to=move["from_subject_id"], now=now)
    return dict(move) | {"undone_at": now, "undone_by": undone_by}


def record_move(conn: sa.Connection, move_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(record_moves).where(record_moves.c.id == move_id)).mappings().first()
    return dict(row) if row else None


def _repoint(conn: sa.Connection, record_id: int, *, frm: int, to: int, now: dt.datetime) -> None:
    done = conn.execute(
        records.update()
        .where(records.c.id == record_id, records.c.subject_id == frm)
        .values(subject_id=to, updated_at=now)
    )
    if done.rowcount != 1:
        raise MoveRefused(f"record {record_id} is no longer about subject {frm} (moved meanwhile)")


def _move(conn: sa.Connection, moved: dict[str, Any], *, to: int) -> None:
    for table, key in ((subject_identifiers, "identifiers"), (subject_names, "names"), (records, "records")):
        for chunk in _chunks(moved[key]):
            conn.execute(table.update().where(table.c.id.in_(chunk)).values(subject_id=to))


def _shown(keys: dict[tuple[str, str], Any]) -> dict[str, str]:
    return {scheme: (meta.get("value_masked") or value) for (scheme, value), meta in keys.items()}


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
