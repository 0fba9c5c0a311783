"""The audit trail: append-only, hash-chained, one entry per act that matters.

Each entry records who (actor, role, organisation), did what (action) to which object, from where (ip),
when (the runtime's clock), and — for any access to non-public information — whom they looked at and for
what declared purpose. Its hash is SHA-256 over the previous entry's hash and a canonical JSON of its own
content, so `verify()` finds the first entry that was edited, inserted or removed.

Appends are serialised through the single `audit_head` row: the UPDATE that takes the next number also
takes the row lock (PostgreSQL) or the database write lock (SQLite), so two transactions can never both
extend the chain from the same entry. Call `record()` late in a long transaction: other writers of the
audit trail wait for it to commit.

The chain alone cannot show that it was emptied whole (TRUNCATE, or a DELETE by someone who switched the
triggers off and reset `audit_head`): an empty chain verifies. So its head is also kept outside the
database, in an anchor file under XINYONG_HOME (`AnchorFile`, registered for an engine by the Runtime).
Each append writes the head it extends — committed, since taking the next number waited for it — and
`verify()` reports the history missing when the table ends before the anchor, or holds another entry there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.codes.idcard import check_idcard
from xinyong.codes.normalize import normalize_code
from xinyong.problems import Problem
from xinyong.security.masking import mask_ids_in_text, mask_person_name
from xinyong.security.models import audit_head, audit_log
from xinyong.security.pii import PersonalIdProtector
from xinyong.security.principal import Principal
from xinyong.store.engine import dialect_insert
from xinyong.subjects.models import subject_identifiers, subjects

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_HEAD = 1
# The fields the hash covers, in the order the canonical JSON sorts them anyway; `hash` itself is excluded.
HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "organisation_uscc",
    "action",
    "object_type",
    "object_id",
    "subject_id",
    "subject_key",
    "subject_label",
    "level",
    "purpose",
    "ip",
    "outcome",
    "detail",
    "prev_hash",
)


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """Whom an entry is about: the registry id, a searchable key, a label safe to display."""

    subject_id: int | None = None
    key: str | None = None  # a USCC or other code, or the blind index of an ID number; never an ID number
    label: str | None = None

    @classmethod
    def of_subject(cls, conn: sa.Connection, subject_id: int) -> SubjectRef:
        row = conn.execute(
            sa.select(subjects.c.kind, subjects.c.name, subjects.c.uscc).where(subjects.c.id == subject_id)
        ).first()
        if row is None:
            return cls(subject_id=subject_id)
        ids = conn.execute(
            sa.select(
                subject_identifiers.c.scheme, subject_identifiers.c.value, subject_identifiers.c.value_masked
            )
            .where(subject_identifiers.c.subject_id == subject_id)
            .order_by(subject_identifiers.c.id)
        ).all()
        if row.kind == "natural_person":
            person = next((i for i in ids if i.scheme == "idcard"), None)
            label = " ".join(
                filter(None, [mask_person_name(row.name), person.value_masked if person else None])
            )
            return cls(subject_id, person.value if person else None, label)
        key = row.uscc or (ids[0].value if ids else None)
        return cls(subject_id, key, f"{row.name} {key or ''}".strip())

    @classmethod
    def from_code(cls, code: str, protector: PersonalIdProtector) -> SubjectRef:
        """The key an identifier is recorded under: ID numbers become their blind index."""
        value = normalize_code(code)
        if len(value) in (15, 18) and check_idcard(value).valid:
            return cls(key=protector.blind_index(value), label=mask_ids_in_text(value))
        return cls(key=value, label=value)


def record(
    conn: sa.Connection,
    *,
    principal: Principal,
    action: str,
    clock: Clock,
    object_type: str | None = None,
    object_id: str | int | None = None,
    subject: SubjectRef | None = None,
    level: str | None = None,
    purpose: str | None = None,
    ip: str | None = None,
    outcome: str = "ok",
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry inside the caller's transaction; returns its sequence number.

    Access to non-public information (`level` other than public) must name the subject and the declared
    purpose (see access.declared_purpose). Free text is masked: an ID number typed into a purpose or a
    detail never reaches the table in clear.
    """
    if level not in (None, "public") and (subject is None or not purpose):
        raise ValueError("non-public access is recorded with the subject looked at and the declared purpose")
    seq, prev_hash = _take_next(conn)
    kept = _anchor_files.get(conn.engine)
    if kept is not None and seq > 1:
        kept.advance(conn, seq - 1, prev_hash)  # committed: taking `seq` waited for whoever wrote it
    entry: dict[str, Any] = {
        "seq": seq,
        "at": clock.now(),
        "actor": principal.actor,
        "actor_role": principal.role,
        "organisation_uscc": principal.organisation_uscc,
        "action": action,
        "object_type": object_type,
        "object_id": _clean(str(object_id)) if object_id is not None else None,
        "subject_id": subject.subject_id if subject else None,
        "subject_key": subject.key if subject else None,
        "subject_label": _clean(subject.label) if subject else None,
        "level": level,
        "purpose": _clean(purpose),
        "ip": ip,
        "outcome": outcome,
        "detail": _clean_json(detail) if detail is not None else None,
        "prev_hash": prev_hash,
    }
    entry = {name: _fit(name, value) for name, value in entry.items()}
    entry["hash"] = entry_hash(entry)
    conn.execute(audit_log.insert().values(**entry))
    conn.execute(audit_head.update().where(audit_head.c.id == _HEAD).values(hash=entry["hash"]))
    return seq


def _take_next(conn: sa.Connection) -> tuple[int, str]:
    bump = (
        audit_head.update()
        .where(audit_head.c.id == _HEAD)
        .values(seq=audit_head.c.seq + 1)
        .returning(audit_head.c.seq, audit_head.c.hash)
    )
    row = conn.execute(bump).first()
    if row is None:
        # First entry ever (or an emptied database): create the head, tolerating a concurrent creator.
        insert = (
            dialect_insert(conn)(audit_head).values(id=_HEAD, seq=0, hash=GENESIS).on_conflict_do_nothing()
        )
        conn.execute(insert)
        row = conn.execute(bump).one()
    return row.seq, row.hash


def entry_hash(entry: Mapping[str, Any]) -> str:
    content = {name: entry[name] for name in HASHED_FIELDS}
    content["at"] = content["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fit(name: str, value: Any) -> Any:
    """Text cut to its column's length: an entry is never lost (nor a request failed) for a long value."""
    length = getattr(audit_log.c[name].type, "length", None)
    if isinstance(value, str) and length is not None and len(value) > length:
        return value[: length - 1] + "…"
    return value


def _clean(text: str | None) -> str | None:
    return mask_ids_in_text(text) if text else text


def _clean_json(value: Any) -> Any:
    # Round-trip through JSON so that what is hashed is exactly what both databases give back.
    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return mask_ids_in_text(v)
        if isinstance(v, Mapping):
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        if isinstance(v, float):
            raise ValueError(
                "audit details hold text, integers and booleans, not floats (they do not hash stably)"
            )
        return v

    return json.loads(json.dumps(walk(value), ensure_ascii=False))


# --------------------------------------------------------------------------------------------- anchor


class AnchorFile:
    """The last known head of the chain (seq and hash), in a small file outside the database.

    Written on every append and by `audit verify`. It only moves forward, and only along the chain it
    anchors: while the table no longer holds the anchored entry (emptied, then refilled), it stays where it
    is, as the evidence. Replaced atomically, so a reader never sees half a line. If the database is
    deliberately replaced by a new one, move this file away: verification would otherwise (rightly) report
    the old history as missing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> tuple[int, str] | None:
        try:
            seq, _, digest = self.path.read_text(encoding="ascii").strip().partition(":")
            return int(seq), digest
        except (OSError, ValueError):
            return None

    def advance(self, conn: sa.Connection, seq: int, digest: str) -> None:
        current = self.read()
        if current is not None:
            if current[0] >= seq:
                return
            held = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == current[0])).scalar()
            if held != current[1]:
                log.error("audit entry %d no longer matches its anchor: anchor kept", current[0])
                return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".anchor-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(f"{seq}:{digest}\n")
        os.replace(tmp, self.path)


_anchor_files: weakref.WeakKeyDictionary[sa.Engine, AnchorFile] = weakref.WeakKeyDictionary()


def keep_anchor(engine: sa.Engine, home: Path) -> AnchorFile:
    """Keep the head of `engine`'s chain in XINYONG_HOME/audit/ (one file per database)."""
    database = engine.url.render_as_string(hide_password=True)
    name = f"anchor-{hashlib.sha256(database.encode()).hexdigest()[:16]}"
    kept = _anchor_files.get(engine)
    if kept is None or kept.path != home / "audit" / name:
        kept = _anchor_files[engine] = AnchorFile(home / "audit" / name)
    return kept


def kept_anchor(engine: sa.Engine) -> AnchorFile | None:
    return _anchor_files.get(engine)


# --------------------------------------------------------------------------------------------- verify


@dataclass(frozen=True, slots=True)
class AuditBreak:
    seq: int
    problem: Problem

    def __str__(self) -> str:
        return f"#{self.seq}: {self.problem.message_zh} / {self.problem.message_en}"


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int  # entries walked
    head_seq: int
    head_hash: str
    broken: AuditBreak | None
    first_seq: int = 1  # where the walk began: 1 for the whole chain, later for verify(latest=N)

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(
    conn: sa.Connection,
    *,
    anchors: Mapping[int, str] | None = None,
    latest: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Verification:
    """Walk the chain from the first entry; report the first broken link, or none.

    `latest`: walk only the newest `latest` entries, from the hash of the entry before them. A page can
    afford that on every view (a walk costs about 20 µs an entry: a province's trail of millions would take
    minutes); only the whole walk (`xinyong audit verify`) proves the entries before them.
    `progress("verify", walked, to_walk)` is called every few thousand entries.

    `anchors` are (seq, hash) pairs recorded elsewhere earlier (printed by `xinyong audit verify`): they
    catch a rewrite of the whole chain by someone who could also recompute every hash. The anchor file kept
    for this database (see AnchorFile) is one more: it catches a chain emptied or cut off whole.
    """
    anchors = dict(anchors or {})
    kept = kept_anchor(conn.engine)
    kept_head = kept.read() if kept is not None else None
    if kept_head is not None:
        anchors.setdefault(*kept_head)
    head = conn.execute(
        sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == _HEAD)
    ).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)

    first = max(1, head_seq - latest + 1) if latest is not None else 1

    def result(broken: AuditBreak | None) -> Verification:
        return Verification(count, head_seq, head_hash, broken, first)

    expected, prev_hash, count = first, GENESIS, 0
    if first > 1:
        before = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == first - 1)).scalar()
        if before is None:
            return result(_entry_missing(first - 1, first))
        prev_hash = before
    query = (
        sa.select(audit_log)
        .where(audit_log.c.seq >= first)
        .order_by(audit_log.c.seq)
        .execution_options(yield_per=2000)
    )
    rows = conn.execute(query)
    to_walk = max(0, head_seq - first + 1)
    for row in rows.mappings():
        entry = dict(row)
        broken = _link_problem(entry, expected=expected, prev_hash=prev_hash, anchors=anchors)
        if broken is not None:
            rows.close()
            return result(broken)
        expected, prev_hash, count = entry["seq"] + 1, entry["hash"], count + 1
        if progress is not None and count % _PROGRESS_EVERY == 0:
            progress("verify", count, max(to_walk, count))
    if progress is not None:
        progress("verify", count, max(to_walk, count))
    last = expected - 1
    if (head_seq, head_hash) != (last, prev_hash):
        return result(_head_break(head_seq, last))
    missing = sorted(s for s in anchors if s > last)
    return result(_history_missing(missing[-1], last) if missing else None)


def _head_break(head_seq: int, last: int) -> AuditBreak:
    return AuditBreak(
        last + 1 if head_seq > last else head_seq + 1,
        Problem(
            "audit.head_mismatch",
            f"审计链末端与记录的链头不符（链头为第 {head_seq} 条，链上最后一条为第 {last} 条）："
            "末尾的条目被删除，或有条目绕过记录程序写入。",
            f"the end of the chain (entry {last}) does not match the recorded head (entry {head_seq}): "
            "entries at the end were removed, or written without record().",
        ),
    )


def _link_problem(
    entry: dict[str, Any], *, expected: int, prev_hash: str, anchors: Mapping[int, str]
) -> AuditBreak | None:
    seq = entry["seq"]
    if seq != expected:
        return _entry_missing(expected, seq)
    if entry["prev_hash"] != prev_hash:
        return AuditBreak(
            seq,
            Problem(
                "audit.link_broken",
                f"第 {seq} 条审计记录与前一条的链接不符：前一条被改动，或本条被插入。",
                f"audit entry {seq} does not link to the one before it: "
                "that one was altered, or this one inserted.",
            ),
        )
    if entry_hash(entry) != entry["hash"]:
        return AuditBreak(
            seq,
            Problem(
                "audit.entry_altered",
                f"第 {seq} 条审计记录的内容与其哈希不符：该条被改动。",
                f"audit entry {seq} does not match its hash: it was altered.",
            ),
        )
    if seq in anchors and anchors[seq] != entry["hash"]:
        return _anchor_break(seq)
    return None


_PROGRESS_EVERY = 5000


def _entry_missing(expected: int, seq: int) -> AuditBreak:
    return AuditBreak(
        expected,
        Problem(
            "audit.entry_missing",
            f"第 {expected} 条审计记录缺失（下一条是第 {seq} 条）。",
            f"audit entry {expected} is missing (the next one is {seq}).",
        ),
    )


def _history_missing(anchored: int, last: int) -> AuditBreak:
    return AuditBreak(
        last + 1,
        Problem(
            "audit.history_missing",
            f"审计记录缺失：此前在库外保存的链头为第 {anchored} 条，而审计表只到第 {last} 条——"
            "审计记录被清空或截断。",
            f"audit history is missing: the head kept outside the database is entry {anchored}, "
            f"but the table ends at entry {last}: the trail was emptied or cut off.",
        ),
    )


def _anchor_break(seq: int) -> AuditBreak:
    return AuditBreak(
        seq,
        Problem(
            "audit.anchor_mismatch",
            f"第 {seq} 条审计记录与此前在别处保存的哈希不符：审计链被整体改写。",
            f"audit entry {seq} does not match the hash kept elsewhere earlier: the chain was rewritten.",
        ),
    )


# --------------------------------------------------------------------------------------------- read


def entries(
    conn: sa.Connection,
    *,
    subject: SubjectRef | None = None,
    subject_id: int | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first. `subject` matches its key; `subject_id` matches entries recorded with that id."""
    query = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    about = []
    if subject is not None and subject.key:
        about.append(audit_log.c.subject_key == subject.key)
    if subject_id is not None:
        about.append(audit_log.c.subject_id == subject_id)
    if about:
        query = query.where(sa.or_(*about))
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    return [dict(r) for r in conn.execute(query).mappings()]


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[dict[str, Any]]  # newest first
    total: int
    page: int
    pages: int


def search(
    conn: sa.Connection,
    *,
    actor: str | None = None,
    subject: SubjectRef | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Entries matching every filter given, newest first, one page of them. `actor` matches the actor's
    name with or without its kind (`alice` finds `user:alice`); `action` matches a whole action or a
    family (`user` or `user.` finds `user.add`, `user.disable` …); `subject` matches its key (a USCC, or
    the blind index of an ID number — see SubjectRef.from_code); the time span is [since, before)."""
    where: list[sa.ColumnElement[bool]] = []
    if actor:
        name = actor.strip()
        where.append(
            sa.or_(audit_log.c.actor == name, audit_log.c.actor.endswith(f":{name}", autoescape=True))
        )
    if subject is not None and subject.key:
        where.append(audit_log.c.subject_key == subject.key)
    if action:
        family = action.strip().rstrip(".")
        where.append(
            sa.or_(audit_log.c.action == family, audit_log.c.action.startswith(f"{family}.", autoescape=True))
        )
    if since is not None:
        where.append(audit_log.c.at >= since)
    if before is not None:
        where.append(audit_log.c.at < before)
    total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where)).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    query = (
        sa.select(audit_log)
        .where(*where)
        .order_by(audit_log.c.seq.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return AuditPage([dict(r) for r in conn.execute(query).mappings()], total, page, pages)
