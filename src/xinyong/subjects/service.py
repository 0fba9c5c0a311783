"""The subject registry's only writer: resolve identifiers and names to subjects, merge and unmerge.

Resolution is set-based so that one call serves a single look-up and a million-row batch alike:
identifiers are looked up in chunks, new subjects are inserted with executemany, and candidates that
share an identifier inside one call end up on the same subject.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.codes.normalize import normalize_code
from xinyong.security.masking import mask_id_number
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.bulk import allocate_ids, insert_frame
from xinyong.store.tables import records
from xinyong.subjects.models import (
    IDENTIFIER_SCHEMES,
    subject_evidence,
    subject_identifiers,
    subject_merges,
    subject_names,
    subjects,
)

CHUNK = 5000  # values per IN list: well under SQLite's 32766 bound parameters
_PERSONAL_SCHEMES = ("idcard", "iddoc")  # blind-indexed and encrypted, never stored in clear
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
    keyed = [_keys(c, protector) for c in candidates]
    owner = _lookup(conn, {k for keys in keyed for k in keys})
    current_names = _current_names(conn, set(owner.values()))

    results: list[Resolution] = []
    new_subjects: dict[int, dict[str, Any]] = {}  # temporary negative id -> row
    new_identifiers: dict[tuple[str, str], dict[str, Any]] = {}
    name_events: list[tuple[int, Candidate]] = []
    evidence: list[dict[str, Any]] = []
    next_temp = -1

    for candidate, keys in zip(candidates, keyed, strict=True):
        matched = [owner[k] for k in keys if k in owner]
        if matched:
            subject_id, created = matched[0], matched[0] < 0
        else:
            subject_id, created = next_temp, True
            next_temp -= 1
            new_subjects[subject_id] = _subject_row(candidate, keys, now)
        result = Resolution(subject_id=subject_id, created=created)
        split = sorted({s for s in matched if s != subject_id})
        if split:
            result.evidence.append("identifier_split")
            evidence.append(
                {
                    "subject_id": subject_id,
                    "kind": "identifier_split",
                    "detail": {"other_subject_ids": split, "identifiers": _shown(keys)},
                    "source": candidate.source,
                }
            )
        for key, meta in keys.items():
            if key not in owner:
                owner[key] = subject_id
                new_identifiers[key] = {
                    "subject_id": subject_id,
                    "scheme": key[0],
                    "value": key[1],
                    **meta,
                    "source": candidate.source,
                }
        if candidate.name:
            name_events.append((subject_id, candidate))
        results.append(result)

    id_map = _insert_subjects(conn, new_subjects, now)
    for result in results:
        result.subject_id = id_map.get(result.subject_id, result.subject_id)
    for ev in evidence:
        ev["subject_id"] = id_map.get(ev["subject_id"], ev["subject_id"])
    _insert_identifiers(conn, new_identifiers.values(), id_map, now)
    for temp, real in id_map.items():
        current_names[real] = (new_subjects[temp]["name"], {new_subjects[temp]["name"]})
    name_events = [(id_map.get(sid, sid), c) for sid, c in name_events]
    _record_names(conn, name_events, current_names, now, results_evidence=evidence)
    if evidence:
        conn.execute(subject_evidence.insert(), [{**ev, "created_at": now} for ev in evidence])
    return results


def _keys(candidate: Candidate, protector: PersonalIdProtector) -> dict[tuple[str, str], dict[str, Any]]:
    """Every (scheme, stored value) this candidate can be found by, in order of trust."""
    keys: dict[tuple[str, str], dict[str, Any]] = {}
    ids = {
        scheme: value if scheme == "iddoc" else normalize_code(value)
        for scheme, value in candidate.identifiers.items()
        if value
    }
    if uscc := ids.get("uscc"):
        keys[("uscc", uscc)] = {"origin": "declared"}
    for scheme in _PERSONAL_SCHEMES:
        # iddoc values are "证件类型:号码" (a passport number means nothing without its document type).
        if value := ids.get(scheme):
            keys[(scheme, protector.blind_index(value))] = {
                "origin": "declared",
                "value_cipher": protector.encrypt(value),
                "value_masked": mask_id_number(value),
            }
    for scheme in _ORG_SCHEMES[1:]:
        if value := ids.get(scheme):
            keys.setdefault((scheme, value), {"origin": "declared"})
    if uscc and len(uscc) == 18:
        # A USCC's positions 9-17 are the subject's 组织机构代码: old records carrying only that code match.
        keys.setdefault(("orgcode", uscc[8:17]), {"origin": "derived"})
    return keys


def _lookup(conn: sa.Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_scheme: dict[str, list[str]] = {}
    for scheme, value in keys:
        by_scheme.setdefault(scheme, []).append(value)
    owner: dict[tuple[str, str], int] = {}
    t = subject_identifiers
    for scheme, values in by_scheme.items():
        for chunk in _chunks(values):
            rows = conn.execute(
                sa.select(t.c.value, t.c.subject_id).where(t.c.scheme == scheme, t.c.value.in_(chunk))
            )
            owner.update({(scheme, value): subject_id for value, subject_id in rows})
    return owner


def _current_names(conn: sa.Connection, subject_ids: set[int]) -> dict[int, tuple[str, set[str]]]:
    names: dict[int, tuple[str, set[str]]] = {}
    for chunk in _chunks(sorted(subject_ids)):
        for sid, name in conn.execute(
            sa.select(subjects.c.id, subjects.c.name).where(subjects.c.id.in_(chunk))
        ):
            names[sid] = (name, set())
        rows = conn.execute(
            sa.select(subject_names.c.subject_id, subject_names.c.name).where(
                subject_names.c.subject_id.in_(chunk)
            )
        )
        for sid, name in rows:
            names[sid][1].add(name)
    return names


def _subject_row(candidate: Candidate, keys: dict[tuple[str, str], Any], now: dt.datetime) -> dict[str, Any]:
    uscc = next((v for (s, v) in keys if s == "uscc"), None)
    personal = any(s in candidate.identifiers for s in _PERSONAL_SCHEMES)
    kind = candidate.kind or _kind_from_uscc(uscc) or ("natural_person" if personal else "legal_person")
    division = uscc[2:8] if uscc else None
    if not division and (idcard := candidate.identifiers.get("idcard")):
        division = normalize_code(idcard)[:6]
    return {
        "kind": kind,
        "uscc": uscc,
        "name": candidate.name or "（未提供名称）",
        "division_code": division,
        "status": "active",
        "created_at": now,
        "updated_at": now,
        "_source": candidate.source,
    }


def _kind_from_uscc(uscc: str | None) -> str | None:
    if not uscc or len(uscc) < 2:
        return None
    if uscc[:2] == "92":
        return "individual_business"
    return None


def _insert_subjects(
    conn: sa.Connection, rows: dict[int, dict[str, Any]], now: dt.datetime
) -> dict[int, int]:
    if not rows:
        return {}
    temps = list(rows)
    ids = allocate_ids(conn, "subjects", len(temps))
    frame = pl.DataFrame(
        {
            "id": ids,
            "kind": [rows[t]["kind"] for t in temps],
            "uscc": [rows[t]["uscc"] for t in temps],
            "name": [rows[t]["name"] for t in temps],
            "division_code": [rows[t]["division_code"] for t in temps],
            "status": "active",
        },
        schema_overrides={"uscc": pl.String, "division_code": pl.String},
    ).with_columns(_at(now, "created_at"), _at(now, "updated_at"))
    insert_frame(conn, "subjects", frame)
    names = frame.select(
        pl.col("id").alias("subject_id"),
        "name",
        pl.lit("current").alias("role"),
        pl.Series("source", [rows[t]["_source"] for t in temps], dtype=pl.String),
        _at(now, "first_seen"),
        _at(now, "last_seen"),
    )
    insert_frame(conn, "subject_names", names)
    return dict(zip(temps, ids, strict=True))


def _at(now: dt.datetime, name: str) -> pl.Expr:
    return pl.lit(now.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC")).alias(name)


def _insert_identifiers(
    conn: sa.Connection, rows: Iterable[dict[str, Any]], id_map: dict[int, int], now: dt.datetime
) -> None:
    payload: dict[str, list[Any]] = {
        k: [] for k in ("subject_id", "scheme", "value", "value_cipher", "value_masked", "origin", "source")
    }
    attach_uscc: dict[int, str] = {}
    for row in rows:
        subject_id = id_map.get(row["subject_id"], row["subject_id"])
        for key in payload:
            payload[key].append(subject_id if key == "subject_id" else row.get(key))
        if row["scheme"] == "uscc" and row["subject_id"] > 0:
            attach_uscc[subject_id] = row["value"]
    if payload["subject_id"]:
        frame = pl.DataFrame(
            payload,
            schema={
                "subject_id": pl.Int64,
                "scheme": pl.String,
                "value": pl.String,
                "value_cipher": pl.Binary,
                "value_masked": pl.String,
                "origin": pl.String,
                "source": pl.String,
            },
        ).with_columns(_at(now, "created_at"))
        insert_frame(conn, "subject_identifiers", frame)
    for subject_id, uscc in attach_uscc.items():
        # A legacy subject (known by 注册号 or 组织机构代码) now gets its USCC.
        conn.execute(
            subjects.update()
            .where(subjects.c.id == subject_id, subjects.c.uscc.is_(None))
            .values(uscc=uscc, updated_at=now)
        )


def _record_names(
    conn: sa.Connection,
    events: list[tuple[int, Candidate]],
    current: dict[int, tuple[str, set[str]]],
    now: dt.datetime,
    *,
    results_evidence: list[dict[str, Any]],
) -> None:
    seen_again: set[tuple[int, str]] = set()
    for subject_id, candidate in events:
        name = candidate.name
        assert name is not None
        registered, known = current.get(subject_id, (name, set()))
        if name == registered and not candidate.authoritative_name:
            continue  # the registered name seen again: nothing to learn
        if candidate.authoritative_name and name != registered:
            _rename(conn, subject_id, old=registered, new=name, known=known, source=candidate.source, now=now)
            current[subject_id] = (name, known | {name})
            continue
        if name in known:
            seen_again.add((subject_id, name))
            continue
        # Same identifier, another name: keep it as evidence, never overwrite the registered name.
        conn.execute(
            subject_names.insert().values(
                subject_id=subject_id,
                name=name,
                role="observed",
                source=candidate.source,
                first_seen=now,
                last_seen=now,
            )
        )
        known.add(name)
        results_evidence.append(
            {
                "subject_id": subject_id,
                "kind": "name_mismatch",
                "detail": {"registered_name": registered, "observed_name": name},
                "source": candidate.source,
            }
        )
    if seen_again:
        conn.execute(
            subject_names.update()
            .where(
                subject_names.c.subject_id == sa.bindparam("sid"), subject_names.c.name == sa.bindparam("nm")
            )
            .values(last_seen=now),
            [{"sid": sid, "nm": nm} for sid, nm in seen_again],
        )


def _rename(
    conn: sa.Connection,
    subject_id: int,
    *,
    old: str,
    new: str,
    known: set[str],
    source: str | None,
    now: dt.datetime,
) -> None:
    conn.execute(
        subject_names.update()
        .where(subject_names.c.subject_id == subject_id, subject_names.c.name == old)
        .values(role="former", last_seen=now)
    )
    if new in known:
        conn.execute(
            subject_names.update()
            .where(subject_names.c.subject_id == subject_id, subject_names.c.name == new)
            .values(role="current", last_seen=now)
        )
    else:
        conn.execute(
            subject_names.insert().values(
                subject_id=subject_id, name=new, role="current", source=source, first_seen=now, last_seen=now
            )
        )
    conn.execute(subjects.update().where(subjects.c.id == subject_id).values(name=new, updated_at=now))


def find_subject_id(conn: sa.Connection, code: str, *, protector: PersonalIdProtector) -> int | None:
    """Any identifier, as a person would type it, to the subject that holds it (merges followed)."""
    value = normalize_code(code)
    options: list[tuple[str, str]] = [(scheme, value) for scheme in _ORG_SCHEMES]
    if len(value) in (15, 18):
        options.append(("idcard", protector.blind_index(value)))
    t = subject_identifiers
    clauses = [sa.and_(t.c.scheme == s, t.c.value == v) for s, v in options]
    row = conn.execute(sa.select(t.c.subject_id, t.c.scheme).where(sa.or_(*clauses))).all()
    if not row:
        return None
    rank = {s: i for i, s in enumerate(IDENTIFIER_SCHEMES)}
    return min(row, key=lambda r: rank[r.scheme]).subject_id


def get_subject(conn: sa.Connection, subject_id: int) -> dict[str, Any]:
    """The subject with its identifiers (ID numbers masked) and names; a merged one names the kept one."""
    row = conn.execute(sa.select(subjects).where(subjects.c.id == subject_id)).mappings().first()
    if row is None:
        raise SubjectNotFound(subject_id)
    ids = conn.execute(
        sa.select(subject_identifiers)
        .where(subject_identifiers.c.subject_id == subject_id)
        .order_by(subject_identifiers.c.id)
    ).mappings()
    names = conn.execute(
        sa.select(subject_names)
        .where(subject_names.c.subject_id == subject_id)
        .order_by(subject_names.c.first_seen, subject_names.c.id)
    ).mappings()
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
                "value": i["value_masked"] if i["scheme"] in _PERSONAL_SCHEMES else i["value"],
                "origin": i["origin"],
            }
            for i in ids
        ],
        "names": [
            {"name": n["name"], "role": n["role"], "first_seen": n["first_seen"], "last_seen": n["last_seen"]}
            for n in names
        ],
    }


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
