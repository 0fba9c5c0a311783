"""The application chapter's only writer: list entries through their life, checks and their feedback,
subscriptions and webhook deliveries, and the chapter's outbox readers.

Every change is audited (security.audit) and, when others must learn of it, written to the event outbox
(xinyong.events.emit) in the same transaction. The defence period before a listing is a task of the one
deadline engine (xinyong.deadlines), held to `lists.defence_within` of the policy.

List entry life:

    propose → noticed (告知 served today; the subject may state a defence until `defence_due`)
            → listed  (decided on or after the first day after `defence_due`, or at once when the subject
                       waived its statement; published with `valid_until`)
            → removed (expired | repaired | revoked | new_adverse | withdrawn); the row stays, as history.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from xinyong import deadlines
from xinyong.apply.catalogue import ApplyCatalogue, ListType, load_catalogue
from xinyong.apply.errors import Refused
from xinyong.apply.models import (
    REMOVAL_REASONS,
    check_feedback,
    checks,
    deliveries,
    list_entries,
    outbox_cursors,
    subscriptions,
)
from xinyong.clock import CHINA, Clock
from xinyong.deadlines import Matter, Owner
from xinyong.events import EVENT_TYPES, emit, events, events_after, last_event_id
from xinyong.policy import Policy, WorkdayCalendar, add_months, load_policy
from xinyong.security import audit
from xinyong.security.audit import SubjectRef
from xinyong.security.masking import mask_person_name
from xinyong.security.principal import Principal
from xinyong.store.tables import record_provenance, records
from xinyong.subjects.models import subjects
from xinyong.subjects.service import reference

DEFENCE_STEP = "list.defence"
DEFENCE_RULE = "lists.defence_within"
MATTER_KIND = "list_entry"
CURRENT = ("noticed", "listed")
# The record events that take entries resting on the record off their lists, and why.
RECORD_REMOVALS = {
    "record.repaired": "repaired",
    "record.revoked": "revoked",
    "record.removed": "revoked",
    # The record was not about this subject (a not_mine objection; docs/rights.md): its entries leave the
    # subject they were wrongly on, and a list fed by collection follows the record to its subject.
    "record.moved": "withdrawn",
    "record.move_undone": "withdrawn",
}
RECORD_MOVES = ("record.moved", "record.move_undone")
REMOVALS_CURSOR = "apply.removals"


def today(clock: Clock) -> dt.date:
    return clock.now().astimezone(CHINA).date()


# ------------------------------------------------------------------------------------------ entries


def propose(
    conn: sa.Connection,
    *,
    list_type: str,
    subject_id: int,
    reason: str,
    basis: str,
    principal: Principal,
    clock: Clock,
    policy: Policy,
    calendar: WorkdayCalendar,
    record_id: int | None = None,
    catalogue: ApplyCatalogue | None = None,
) -> dict[str, Any]:
    """Propose a listing and serve the notice (告知) today: the defence period starts."""
    kind = _list_type(catalogue or load_catalogue(), list_type)
    reason, basis = _text(reason, "reason", "理由"), _text(basis, "basis", "依据")
    subject = _subject(conn, subject_id)
    if subject.kind not in kind.subject_kinds:
        raise Refused.one(
            "list.subject_kind",
            f"{kind.name_zh}不适用于此类信用主体",
            f"the list {kind.code} does not take subjects of this kind",
            field="subject",
        )
    current = conn.execute(
        sa.select(list_entries.c.id).where(
            list_entries.c.subject_id == subject_id,
            list_entries.c.list_type == kind.code,
            list_entries.c.state.in_(CURRENT),
        )
    ).scalar()
    if current is not None:
        raise Refused.one(
            "list.already_current",
            f"该信用主体已有{kind.name_zh}条目（编号 {current}）",
            f"the subject already has a current entry on {kind.code} (id {current})",
            status=409,
        )
    day = today(clock)
    now = clock.now()
    entry_id = conn.execute(
        list_entries.insert()
        .values(
            list_type=kind.code,
            subject_id=subject_id,
            record_id=record_id,
            state="noticed",
            reason=reason,
            basis=basis,
            proposed_by=principal.actor[:100],
            proposed_by_uscc=principal.organisation_uscc,
            noticed_on=day,
            defence_due=day,  # set from the deadline task below
            created_at=now,
            updated_at=now,
        )
        .returning(list_entries.c.id)
    ).scalar_one()
    owner = (
        Owner.organisation(principal.organisation_uscc) if principal.organisation_uscc else Owner.platform()
    )
    task = deadlines.open_task(
        conn,
        matter=Matter(MATTER_KIND, entry_id),
        step=DEFENCE_STEP,
        rule=DEFENCE_RULE,
        owner=owner,
        starts_on=day,
        policy=policy,
        calendar=calendar,
        clock=clock,
        record_id=record_id,
    )
    conn.execute(list_entries.update().where(list_entries.c.id == entry_id).values(defence_due=task.due_on))
    entry = entry_dict(conn, entry_id)
    _audit(conn, principal, "list.propose", entry, clock)
    _emit(conn, "list.entry_noticed", entry, clock)
    return entry


def decide(
    conn: sa.Connection,
    *,
    entry_id: int,
    valid_until: dt.date,
    principal: Principal,
    clock: Clock,
    policy: Policy,
    calendar: WorkdayCalendar,
    statement_waived: bool = False,
    catalogue: ApplyCatalogue | None = None,
) -> dict[str, Any]:
    """Decide and publish a noticed entry, valid to `valid_until` (inclusive). Refused before the defence
    period has passed unless the subject waived its statement; refused beyond the list's validity."""
    row = _entry_row(conn, entry_id)
    if row.state != "noticed":
        raise Refused.one(
            "list.not_noticed",
            f"名单条目 {entry_id} 当前状态为 {row.state}，不能作出列入决定",
            f"list entry {entry_id} is {row.state}: only a noticed entry can be decided",
            status=409,
        )
    day = today(clock)
    if day <= row.defence_due and not statement_waived:
        raise Refused.one(
            "list.defence_running",
            f"陈述申辩期至 {row.defence_due} 止，期满前不能作出列入决定（当事人放弃陈述申辩的除外）",
            f"the defence period runs to {row.defence_due}: no decision before it ends unless the subject "
            "waived its statement",
            status=409,
        )
    kind = _list_type(catalogue or load_catalogue(), row.list_type)
    years = min(kind.validity_years, policy.lists.validity_max.value)
    latest = add_months(day, 12 * years)
    if not day < valid_until <= latest:
        raise Refused.one(
            "list.validity",
            f"有效期截止日应晚于今天且不超过 {latest}（{kind.name_zh}有效期至多 {years} 年）",
            f"valid-until must be after today and no later than {latest} "
            f"({kind.code}: at most {years} years)",
            field="valid_until",
        )
    updated = conn.execute(
        list_entries.update()
        .where(list_entries.c.id == entry_id, list_entries.c.state == "noticed")
        .values(
            state="listed",
            decided_on=day,
            decided_by=principal.actor[:100],
            valid_until=valid_until,
            statement_waived=statement_waived,
            updated_at=clock.now(),
        )
    )
    if updated.rowcount != 1:
        raise Refused.one(
            "list.concurrent", "该条目刚被他人处理", "the entry was just changed by someone else", status=409
        )
    matter = Matter(MATTER_KIND, entry_id)
    if deadlines.complete(conn, matter=matter, step=DEFENCE_STEP, calendar=calendar, clock=clock,
                          actor=principal.actor) is None:  # fmt: skip
        deadlines.cancel(conn, matter=matter, step=DEFENCE_STEP, clock=clock, actor=principal.actor)
    entry = entry_dict(conn, entry_id)
    _audit(conn, principal, "list.decide", entry, clock)
    _emit(conn, "list.entry_added", entry, clock)
    return entry


def remove(
    conn: sa.Connection,
    *,
    entry_id: int,
    reason: str,
    principal: Principal,
    clock: Clock,
    policy: Policy,
    catalogue: ApplyCatalogue | None = None,
    event_id: int | None = None,
) -> dict[str, Any]:
    """Take an entry off its list (it stays in history). `event_id`: the outbox event that caused it."""
    if reason not in REMOVAL_REASONS:
        raise Refused.one(
            "list.removal_reason",
            f"移出原因应为：{'、'.join(REMOVAL_REASONS)}",
            f"the removal reason is one of {', '.join(REMOVAL_REASONS)}",
            field="reason",
        )
    row = _entry_row(conn, entry_id)
    if row.state not in CURRENT:
        raise Refused.one(
            "list.already_removed",
            f"名单条目 {entry_id} 已于 {row.removed_on} 移出",
            f"list entry {entry_id} was already removed on {row.removed_on}",
            status=409,
        )
    kind = _list_type(catalogue or load_catalogue(), row.list_type)
    day = today(clock)
    refusal = _removal_refusal(row, kind, reason, day, policy)
    if refusal:
        raise Refused.one(f"list.cannot_remove.{reason}", refusal[0], refusal[1], status=409, field="reason")
    updated = conn.execute(
        list_entries.update()
        .where(list_entries.c.id == entry_id, list_entries.c.state.in_(CURRENT))
        .values(
            state="removed",
            removed_on=day,
            removed_reason=reason,
            removed_by=principal.actor[:100],
            updated_at=clock.now(),
        )
    )
    if updated.rowcount != 1:
        raise Refused.one(
            "list.concurrent", "该条目刚被他人处理", "the entry was just changed by someone else", status=409
        )
    deadlines.cancel(conn, matter=Matter(MATTER_KIND, entry_id), step=DEFENCE_STEP, clock=clock,
                     actor=principal.actor)  # fmt: skip
    entry = entry_dict(conn, entry_id)
    _audit(conn, principal, "list.remove", entry, clock, cause=event_id)
    _emit(conn, "list.entry_removed", entry, clock, cause=event_id)
    return entry


def _removal_refusal(
    row: Any, kind: ListType, reason: str, day: dt.date, policy: Policy
) -> tuple[str, str] | None:
    rules = policy.lists
    if reason == "expired" and (row.valid_until is None or row.valid_until >= day):
        return (
            f"条目有效期至 {row.valid_until}，尚未届满",
            f"the entry is valid to {row.valid_until}: it has not expired",
        )
    if reason == "repaired" and not (
        rules.remove_early_after_repair.value and kind.early_removal_after_repair
    ):
        return (f"{kind.name_zh}不因信用修复提前移出", f"{kind.code} entries are not removed early on repair")
    if reason == "revoked" and not rules.remove_when_decision_revoked.value:
        return ("政策未规定决定撤销即移出", "the policy does not remove entries when the decision is revoked")
    if reason == "new_adverse" and not (
        kind.kind == "red" and kind.removed_on_new_adverse and rules.red_removed_on_new_adverse.value
    ):
        return (
            f"{kind.name_zh}不因新的失信信息移出",
            f"{kind.code} members are not removed on a new adverse record",
        )
    return None


def expire(
    conn: sa.Connection, *, as_of: dt.date, principal: Principal, clock: Clock, policy: Policy
) -> list[dict[str, Any]]:
    """Remove every listed entry whose validity ended before `as_of` (idempotent; a future day is refused)."""
    if as_of > today(clock):
        raise Refused.one(
            "list.expire_future",
            f"不能按未来日期 {as_of} 处理到期（今天是 {today(clock)}）",
            f"entries cannot be expired as of a future day {as_of} (today is {today(clock)})",
            field="as_of",
        )
    if not policy.lists.remove_at_expiry.value:
        return []
    due = conn.execute(
        sa.select(list_entries.c.id)
        .where(list_entries.c.state == "listed", list_entries.c.valid_until < as_of)
        .order_by(list_entries.c.id)
    ).scalars()
    removed = []
    for entry_id in list(due):
        removed.append(
            _remove_as_of(conn, entry_id, as_of=as_of, reason="expired", principal=principal, clock=clock)
        )
    return [e for e in removed if e is not None]


def _remove_as_of(
    conn: sa.Connection, entry_id: int, *, as_of: dt.date, reason: str, principal: Principal, clock: Clock
) -> dict[str, Any] | None:
    updated = conn.execute(
        list_entries.update()
        .where(list_entries.c.id == entry_id, list_entries.c.state == "listed")
        .values(
            state="removed",
            removed_on=as_of,
            removed_reason=reason,
            removed_by=principal.actor[:100],
            updated_at=clock.now(),
        )
    )
    if updated.rowcount != 1:
        return None  # another run took it
    entry = entry_dict(conn, entry_id)
    _audit(conn, principal, "list.remove", entry, clock)
    _emit(conn, "list.entry_removed", entry, clock)
    return entry


def remove_red_on_adverse(
    conn: sa.Connection,
    *,
    subject_id: int,
    record_id: int | None,
    principal: Principal,
    clock: Clock,
    policy: Policy,
    catalogue: ApplyCatalogue | None = None,
) -> list[dict[str, Any]]:
    """A red-list member with a new adverse record leaves every red list whose type says so."""
    catalogue = catalogue or load_catalogue()
    if not policy.lists.red_removed_on_new_adverse.value:
        return []
    red = [t.code for t in catalogue.list_types if t.kind == "red" and t.removed_on_new_adverse]
    ids = conn.execute(
        sa.select(list_entries.c.id)
        .where(
            list_entries.c.subject_id == subject_id,
            list_entries.c.list_type.in_(red),
            list_entries.c.state.in_(CURRENT),
        )
        .order_by(list_entries.c.id)
    ).scalars()
    return [
        remove(conn, entry_id=i, reason="new_adverse", principal=principal, clock=clock, policy=policy,
               catalogue=catalogue) | {"record_id_adverse": record_id}
        for i in list(ids)
    ]  # fmt: skip


# True when a record event this chapter acts on came after its cursor. The event types are constants rendered
# into the statement (an expanding IN would be re-rendered on every execution).
REMOVALS_DUE = sa.func.coalesce(
    sa.select(sa.func.max(events.c.id))
    .where(events.c.event_type.in_([sa.literal_column(f"'{t}'") for t in RECORD_REMOVALS]))
    .scalar_subquery(),
    0,
) > sa.func.coalesce(
    sa.select(outbox_cursors.c.last_id).where(outbox_cursors.c.name == REMOVALS_CURSOR).scalar_subquery(), 0
)
_REMOVALS_DUE = sa.select(REMOVALS_DUE)


def removals_due(conn: sa.Connection) -> bool:
    """Whether a record event this chapter acts on came after its cursor (one indexed read: the check asks
    before every answer, and nearly always the answer is no)."""
    return bool(conn.execute(_REMOVALS_DUE).scalar())


def apply_record_events(
    conn: sa.Connection, *, principal: Principal, clock: Clock, policy: Policy, limit: int = 1000
) -> list[dict[str, Any]]:
    """Read the outbox from where this reader stopped: entries resting on a record that was repaired,
    revoked or removed leave their lists (where the list type and the policy say so). The rights chapter
    emits the events; it does not know this chapter exists."""
    catalogue = load_catalogue()
    seen = _cursor(conn, REMOVALS_CURSOR)
    found = events_after(conn, after=seen, limit=limit, types=tuple(RECORD_REMOVALS))
    removed: list[dict[str, Any]] = []
    for event in found:
        reason = RECORD_REMOVALS[event["type"]]
        ids = conn.execute(
            sa.select(list_entries.c.id, list_entries.c.list_type)
            .where(list_entries.c.record_id == event["record_id"], list_entries.c.state.in_(CURRENT))
            .order_by(list_entries.c.id)
        ).all()
        for entry_id, code in ids:
            kind = _list_type(catalogue, code)
            row = _entry_row(conn, entry_id)
            if _removal_refusal(row, kind, reason, today(clock), policy):
                continue  # this list keeps its members on repair (policy or list type)
            removed.append(
                remove(conn, entry_id=entry_id, reason=reason, principal=principal, clock=clock,
                       policy=policy, catalogue=catalogue, event_id=event["id"])
            )  # fmt: skip
        if event["type"] in RECORD_MOVES:
            _follow_moved_record(
                conn, event, principal=principal, clock=clock, policy=policy, catalogue=catalogue
            )
    if found:
        _advance(conn, REMOVALS_CURSOR, seen, found[-1]["id"])
    return removed


def _follow_moved_record(
    conn: sa.Connection,
    event: dict[str, Any],
    *,
    principal: Principal,
    clock: Clock,
    policy: Policy,
    catalogue: ApplyCatalogue,
) -> None:
    """A record fed to a list by collection (the court decided the listing) lists the subject it now
    belongs to. Entries a department proposed are not carried over: that subject gets its own notice and
    defence."""
    fed = {t.catalog_item: t for t in catalogue.list_types if t.catalog_item}
    row = conn.execute(
        _FED_RECORD.where(records.c.id == event["record_id"], records.c.state == "active")
    ).first()
    kind = fed.get(row.item_code) if row is not None else None
    if row is None or kind is None:
        return
    current = conn.execute(
        sa.select(list_entries.c.id).where(
            list_entries.c.record_id == row.id,
            list_entries.c.list_type == kind.code,
            list_entries.c.state.in_(CURRENT),
        )
    ).first()
    if current is None:
        _list_record(conn, kind, row, proposed_by=f"move:event:{event['id']}",
                     origin=f"记录移交 事件 {event['id']}", cause=event["id"],
                     principal=principal, clock=clock, policy=policy)  # fmt: skip


# A record as a list fed by collection needs it (the import and a moved record read the same columns).
_FED_RECORD = sa.select(
    records.c.id,
    records.c.subject_id,
    records.c.item_code,
    records.c.source_uscc,
    records.c.source_key,
    records.c.decision_date,
    records.c.valid_until,
    records.c.act_end_date,
    subjects.c.kind,
).join(subjects, subjects.c.id == records.c.subject_id)


def _listed_until(valid_until: dt.date | None, removed_on: dt.date | None) -> dt.date | None:
    """The last day a fed record keeps its subject listed, as the record says: its own end of validity, or
    the day before the deciding body took it off its list (`removed_on`: the court's 移除日期, the item's
    `act_end`; 法释〔2017〕7号 第十条: a debtor who has performed is deleted). None: it says neither."""
    ends = [d for d in (valid_until, removed_on and removed_on - dt.timedelta(days=1)) if d]
    return min(ends) if ends else None


def _list_record(
    conn: sa.Connection,
    kind: ListType,
    row: Any,
    *,
    proposed_by: str,
    origin: str,
    cause: int,
    principal: Principal,
    clock: Clock,
    policy: Policy,
) -> dict[str, Any] | None:
    """A `listed` entry resting on `row`, decided by the record's own deciding body on its decision date and
    valid to the record's end or the list type's term; None when the subject's kind is not listed or the
    term is already over."""
    if row.kind not in kind.subject_kinds:
        return None
    day = today(clock)
    decided = min(row.decision_date or day, day)
    term = min(kind.validity_years, int(policy.lists.validity_max.value))
    until = _listed_until(row.valid_until, row.act_end_date) or add_months(decided, 12 * term)
    if until < day:
        return None  # its term is over, or the deciding body has already taken it off: nothing to list
    now = clock.now()
    entry_id = conn.execute(
        list_entries.insert()
        .values(
            list_type=kind.code,
            subject_id=row.subject_id,
            record_id=row.id,
            state="listed",
            reason=f"{kind.name_zh}信息（{kind.catalog_item} 记录 {row.id}，{origin}，"
            f"文书号 {row.source_key}）"[:2000],
            basis=kind.basis,
            proposed_by=proposed_by[:100],
            proposed_by_uscc=row.source_uscc,
            noticed_on=decided,
            defence_due=decided,
            decided_on=decided,
            decided_by=f"{kind.deciding_body}（{row.source_uscc}）"[:100],
            valid_until=until,
            created_at=now,
            updated_at=now,
        )
        .returning(list_entries.c.id)
    ).scalar_one()
    entry = entry_dict(conn, entry_id)
    _audit(conn, principal, "list.import", entry, clock, cause=cause)
    _emit(conn, "list.entry_added", entry, clock, cause=cause)
    return entry


IMPORTS_CURSOR = "apply.imports"


def import_listed_records(
    conn: sa.Connection,
    *,
    principal: Principal,
    clock: Clock,
    policy: Policy,
    catalogue: ApplyCatalogue | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries for the records collection accepted under an item a list type is fed by (lists.yaml
    `catalog_item`: the court's 失信被执行人 records feed SXBZXR). Reads `batch.loaded` from its own cursor;
    collection emits it and knows nothing of lists.

    The deciding body decided and published the listing itself (the court, under 法释〔2017〕7号): the entry
    is `listed` at once, decided on the record's decision date, valid until the record's own end of validity
    or the list type's term (bounded by `lists.validity_max`). Its provenance names the record (`record_id`)
    and the batch. Idempotent: a record with a current entry on that list gets no second one; a record no
    longer active (revoked before this pass) gets none; an entry whose term is already over is not made.

    The deciding body ends a listing by sending the record again with its removal date (the court's 移除日期):
    the current entry then ends the day before — taken off at this pass (`expired`, as its validity is over)
    when that day is past, or by the daily expiry on the day. A repaired debtor does not stay listed
    until the platform's own term runs out."""
    catalogue = catalogue or load_catalogue()
    fed = {t.catalog_item: t for t in catalogue.list_types if t.catalog_item}
    seen = _cursor(conn, IMPORTS_CURSOR)
    found = events_after(conn, after=seen, limit=limit, types=("batch.loaded",))
    made: list[dict[str, Any]] = []
    for event in found:
        kind = fed.get(event["payload"].get("item"))
        if kind is None:
            continue
        batch_id = int(event["payload"]["batch_id"])
        current = (
            sa.select(list_entries.c.id)
            .where(
                list_entries.c.record_id == records.c.id,
                list_entries.c.list_type == kind.code,
                list_entries.c.state.in_(CURRENT),
            )
            .exists()
        )
        rows = conn.execute(
            _FED_RECORD.join(record_provenance, record_provenance.c.record_id == records.c.id)
            .where(
                record_provenance.c.batch_id == batch_id,
                record_provenance.c.action.in_(("inserted", "updated")),
                records.c.item_code == kind.catalog_item,
                records.c.state == "active",
                ~current,
            )
            .order_by(records.c.id)
        ).all()
        for row in rows:
            entry = _list_record(conn, kind, row, proposed_by=f"collect:batch:{batch_id}",
                                 origin=f"报送批次 {batch_id}", cause=event["id"],
                                 principal=principal, clock=clock, policy=policy)  # fmt: skip
            if entry is not None:
                made.append(entry)
        _end_listings(
            conn, kind, batch_id, cause=event["id"], principal=principal, clock=clock, policy=policy
        )
    if found:
        _advance(conn, IMPORTS_CURSOR, seen, found[-1]["id"])
    return made


def _end_listings(
    conn: sa.Connection,
    kind: ListType,
    batch_id: int,
    *,
    cause: int,
    principal: Principal,
    clock: Clock,
    policy: Policy,
) -> None:
    """The current entries resting on records of this batch that now say when their listing ends: each
    shortened to that day, and taken off when it is past."""
    e = list_entries
    ending = conn.execute(
        sa.select(e.c.id, e.c.valid_until, records.c.valid_until.label("ends"), records.c.act_end_date)
        .join(records, records.c.id == e.c.record_id)
        .join(record_provenance, record_provenance.c.record_id == records.c.id)
        .where(
            record_provenance.c.batch_id == batch_id,
            record_provenance.c.action.in_(("inserted", "updated")),
            e.c.list_type == kind.code,
            e.c.state.in_(CURRENT),
            sa.or_(records.c.act_end_date.is_not(None), records.c.valid_until.is_not(None)),
        )
        .order_by(e.c.id)
    ).all()
    day = today(clock)
    for found in ending:
        until = _listed_until(found.ends, found.act_end_date)
        if until is None or (found.valid_until is not None and until >= found.valid_until):
            continue
        conn.execute(e.update().where(e.c.id == found.id).values(valid_until=until, updated_at=clock.now()))
        _audit(conn, principal, "list.shorten", entry_dict(conn, found.id), clock, cause=cause)
        if until < day:
            remove(conn, entry_id=found.id, reason="expired", principal=principal, clock=clock, policy=policy,
                   event_id=cause)  # fmt: skip


# ------------------------------------------------------------------------------------------- checks


_INSERT_CHECK = checks.insert().returning(checks.c.id)


def record_check(
    conn: sa.Connection,
    *,
    subject_id: int,
    matter: str,
    answer: dict[str, Any],
    principal: Principal,
    clock: Clock,
    audited: bool = True,
) -> int:
    """Store one check with the answer given (its id is what the feedback names). `audited`: the check read
    personal information (a person, a business under a person's name) and gets an audit entry too; a check
    of an organisation answers only what the public list and the memoranda show, and its row in `checks`
    already says who asked about whom, when and for what."""
    check_id = conn.execute(
        _INSERT_CHECK,
        {
            "subject_id": subject_id,
            "matter": matter,
            "checked_by": principal.actor[:100],
            "org_uscc": principal.organisation_uscc,
            "answer": answer,
            "measure_count": len(answer["measures"]),
            "created_at": clock.now(),
        },
    ).scalar_one()
    if audited:
        audit.record(
            conn,
            principal=principal,
            action="apply.check",
            clock=clock,
            object_type="check",
            object_id=check_id,
            subject=SubjectRef.of_subject(conn, subject_id),
            level="government",
            purpose=f"matter:{matter}",
            detail={"lists": len(answer["lists"]), "measures": len(answer["measures"])},
        )
    return int(check_id)


def add_feedback(
    conn: sa.Connection,
    *,
    check_id: int,
    measure: str,
    applied: bool,
    principal: Principal,
    clock: Clock,
    reason: str | None = None,
    case_ref: str | None = None,
) -> dict[str, Any]:
    """What the checking department did with one measure of its check (反馈). Only the department that
    checked reports on its check; once per measure."""
    row = conn.execute(sa.select(checks).where(checks.c.id == check_id)).first()
    if row is None:
        raise Refused.one(
            "check.not_found", f"没有编号为 {check_id} 的核查", f"no check {check_id}", status=404
        )
    same_org = row.org_uscc is not None and row.org_uscc == principal.organisation_uscc
    if not (same_org or (row.org_uscc is None and row.checked_by == principal.actor)):
        raise Refused.one(
            "check.not_yours",
            "只有发起核查的单位可以反馈该核查的措施落实情况",
            "only the department that made the check reports on it",
            status=403,
        )
    offered = {m["code"] for m in row.answer["measures"]}
    if measure not in offered:
        raise Refused.one(
            "check.measure_unknown",
            f"核查 {check_id} 的结果中没有措施 {measure}；可反馈：{'、'.join(sorted(offered)) or '无'}",
            f"measure {measure} was not in check {check_id}'s answer; "
            f"one of: {', '.join(sorted(offered)) or 'none'}",
            field="measure",
        )
    if not applied and not (reason and reason.strip()):
        raise Refused.one(
            "check.reason_required",
            "未采取措施的，应说明理由",
            "a measure not applied needs a reason",
            field="reason",
        )
    exists = conn.execute(
        sa.select(check_feedback.c.id).where(
            check_feedback.c.check_id == check_id, check_feedback.c.measure == measure
        )
    ).scalar()
    if exists is not None:
        raise Refused.one(
            "check.feedback_given",
            f"核查 {check_id} 的措施 {measure} 已反馈",
            f"feedback on measure {measure} of check {check_id} was already given",
            status=409,
        )
    feedback_id = conn.execute(
        check_feedback.insert()
        .values(
            check_id=check_id,
            measure=measure,
            applied=applied,
            reason=reason.strip()[:2000] if reason else None,
            case_ref=case_ref.strip()[:100] if case_ref else None,
            reported_by=principal.actor[:100],
            org_uscc=principal.organisation_uscc,
            created_at=clock.now(),
        )
        .returning(check_feedback.c.id)
    ).scalar_one()
    audit.record(
        conn,
        principal=principal,
        action="apply.feedback",
        clock=clock,
        object_type="check",
        object_id=check_id,
        detail={"measure": measure, "applied": applied},
    )
    return {"id": feedback_id, "check_id": check_id, "measure": measure, "applied": applied,
            "reason": reason, "case_ref": case_ref}  # fmt: skip


# ------------------------------------------------------------------------------------ subscriptions

SUBSCRIBABLE = EVENT_TYPES


def subscribe(
    conn: sa.Connection,
    *,
    org_uscc: str,
    url: str | None,
    event_types: Sequence[str],
    principal: Principal,
    clock: Clock,
    list_types: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A department subscribes to events (by type, and for list events by list type), delivered to `url`
    by signed webhook and readable from the pull feed. Returns the id and the signing secret (shown once)."""
    from xinyong.security.organisations import find_organisation

    if find_organisation(conn, org_uscc) is None:
        raise Refused.one(
            "subscribe.org_unknown",
            f"机构 {org_uscc} 未在平台登记",
            f"no organisation {org_uscc}",
            field="org",
        )
    if url is not None and not url.startswith(("https://", "http://")):
        raise Refused.one(
            "subscribe.url", "推送地址应以 https:// 或 http:// 开头", "the URL must be http(s)", field="url"
        )
    wanted = [e.strip() for e in event_types if e.strip()]
    unknown = sorted(set(wanted) - set(SUBSCRIBABLE))
    if not wanted or unknown:
        raise Refused.one(
            "subscribe.events",
            f"未知的事件类型 {'、'.join(unknown) or '（空）'}；可订阅：{'、'.join(SUBSCRIBABLE)}",
            f"unknown event types {', '.join(unknown) or '(none)'}; one of {', '.join(SUBSCRIBABLE)}",
            field="events",
        )
    if list_types:
        known = {t.code for t in load_catalogue().list_types}
        if bad := sorted(set(list_types) - known):
            raise Refused.one(
                "subscribe.list_types",
                f"未知的名单类型 {bad}",
                f"unknown list types {bad}",
                field="list_types",
            )
    secret = "whsec_" + secrets.token_urlsafe(32)
    sub_id = conn.execute(
        subscriptions.insert()
        .values(
            org_uscc=org_uscc,
            url=url,
            event_types=wanted,
            list_types=list(list_types) if list_types else None,
            secret=secret,
            active=True,
            scanned_to=last_event_id(conn),  # from now on
            created_at=clock.now(),
        )
        .returning(subscriptions.c.id)
    ).scalar_one()
    audit.record(
        conn,
        principal=principal,
        action="subscribe.add",
        clock=clock,
        object_type="subscription",
        object_id=sub_id,
        detail={"org": org_uscc, "events": wanted, "list_types": list(list_types or []), "url": url},
    )
    return {"id": sub_id, "secret": secret}


def matches(sub: Any, event: dict[str, Any]) -> bool:
    if event["type"] not in sub.event_types:
        return False
    list_type = event["payload"].get("list_type")
    return not (sub.list_types and list_type is not None and list_type not in sub.list_types)


def queue_deliveries(conn: sa.Connection, *, clock: Clock, batch: int = 1000) -> int:
    """Turn new outbox events into one pending delivery per matching webhook subscription."""
    queued = 0
    subs = conn.execute(
        sa.select(subscriptions).where(subscriptions.c.active.is_(True), subscriptions.c.url.is_not(None))
    ).all()
    for sub in subs:
        found = events_after(conn, after=sub.scanned_to, limit=batch, types=tuple(sub.event_types))
        for event in found:
            if matches(sub, event):
                conn.execute(
                    deliveries.insert().values(
                        subscription_id=sub.id,
                        event_id=event["id"],
                        state="pending",
                        attempts=0,
                        next_attempt_at=clock.now(),
                        created_at=clock.now(),
                    )
                )
                queued += 1
        if found:
            conn.execute(
                subscriptions.update()
                .where(subscriptions.c.id == sub.id, subscriptions.c.scanned_to == sub.scanned_to)
                .values(scanned_to=found[-1]["id"])
            )
    return queued


def delivered(conn: sa.Connection, *, delivery_id: int, clock: Clock, delay_ms: int) -> None:
    conn.execute(
        deliveries.update()
        .where(deliveries.c.id == delivery_id)
        .values(
            state="delivered",
            attempts=deliveries.c.attempts + 1,
            delivered_at=clock.now(),
            delay_ms=delay_ms,
            last_error=None,
        )
    )


def failed(conn: sa.Connection, *, delivery_id: int, error: str, clock: Clock, policy: Policy) -> str:
    """One more failed attempt: back off (base × 2^(attempts-1) seconds), or dead-letter after the last."""
    attempts = conn.execute(
        sa.select(deliveries.c.attempts).where(deliveries.c.id == delivery_id)
    ).scalar_one()
    attempts += 1
    dead = attempts >= policy.push.max_attempts.value
    wait = dt.timedelta(seconds=policy.push.retry_base.value * 2 ** (attempts - 1))
    state = "dead" if dead else "pending"
    conn.execute(
        deliveries.update()
        .where(deliveries.c.id == delivery_id)
        .values(state=state, attempts=attempts, next_attempt_at=clock.now() + wait, last_error=error[:300])
    )
    return state


def feed(conn: sa.Connection, *, org_uscc: str | None, after: int, limit: int = 100) -> dict[str, Any]:
    """The pull feed of one organisation: the events its active subscriptions ask for, oldest first.
    `next` is the cursor to pass as `after` next time (the last event looked at, matching or not)."""
    subs = (
        conn.execute(
            sa.select(subscriptions).where(
                subscriptions.c.org_uscc == org_uscc, subscriptions.c.active.is_(True)
            )
        ).all()
        if org_uscc
        else []
    )
    types = tuple(sorted({t for s in subs for t in s.event_types}))
    if not types:
        return {"events": [], "next": after}
    found = events_after(conn, after=after, limit=limit, types=types)
    return {
        "events": [e for e in found if any(matches(s, e) for s in subs)],
        "next": found[-1]["id"] if found else after,
    }


# ------------------------------------------------------------------------------------------ reading


def entry_dict(conn: sa.Connection, entry_id: int) -> dict[str, Any]:
    row = _entry_row(conn, entry_id)
    return entry_of(row, _subject(conn, row.subject_id))


def entry_of(row: Any, subject: Any) -> dict[str, Any]:
    kind = load_catalogue().list_type(row.list_type)
    return {
        "id": row.id,
        "list_type": row.list_type,
        "list_name_zh": kind.name_zh if kind else row.list_type,
        "kind": kind.kind if kind else None,
        "state": row.state,
        "subject": subject_ref(subject),
        "record_id": row.record_id,
        "reason": row.reason,
        "basis": row.basis,
        "deciding_body": kind.deciding_body if kind else None,
        "noticed_on": _iso(row.noticed_on),
        "defence_due": _iso(row.defence_due),
        "statement_waived": bool(row.statement_waived),
        "decided_on": _iso(row.decided_on),
        "valid_until": _iso(row.valid_until),
        "removed_on": _iso(row.removed_on),
        "removed_reason": row.removed_reason,
    }


# What subject_ref reads of a subject.
SUBJECT_REF_COLUMNS = (
    subjects.c.id,
    subjects.c.kind,
    subjects.c.uscc,
    subjects.c.name,
    subjects.c.public_ref,
)


def subject_ref(subject: Any) -> dict[str, Any]:
    """How this chapter names a subject anywhere it is shown or sent: its USCC (else the platform
    reference), its kind, and its name — masked where it is a person's (policy `masking.person_names`, the
    rule the portal masks by: an 个体工商户 under its operator's bare name too)."""
    masking = load_policy().masking
    person = masking.person_names.names_a_person(subject.name, subject.kind)
    name = mask_person_name(subject.name, rule=masking.name) if person else subject.name
    return {"code": reference(subject.uscc, subject.public_ref), "kind": subject.kind, "name": name}


def _subject(conn: sa.Connection, subject_id: int) -> Any:
    row = conn.execute(sa.select(*SUBJECT_REF_COLUMNS).where(subjects.c.id == subject_id)).first()
    if row is None:
        raise Refused.one("subject.not_found", "未找到该信用主体", "no such credit subject", status=404)
    return row


def _entry_row(conn: sa.Connection, entry_id: int) -> Any:
    row = conn.execute(sa.select(list_entries).where(list_entries.c.id == entry_id)).first()
    if row is None:
        raise Refused.one(
            "list.not_found", f"没有编号为 {entry_id} 的名单条目", f"no list entry {entry_id}", status=404
        )
    return row


def _list_type(catalogue: ApplyCatalogue, code: str) -> ListType:
    kind = catalogue.list_type(code)
    if kind is None:
        known = "、".join(t.code for t in catalogue.list_types)
        raise Refused.one(
            "list.type_unknown",
            f"未知的名单类型 {code}；可选：{known}",
            f"unknown list type {code}; one of {known.replace('、', ', ')}",
            field="type",
        )
    return kind


def _text(value: str, name: str, zh: str) -> str:
    text = (value or "").strip()
    if not text:
        raise Refused.one(f"list.{name}_missing", f"{zh}不能为空", f"the {name} may not be empty", field=name)
    return text[:2000]


def _audit(
    conn: sa.Connection, principal: Principal, action: str, entry: dict[str, Any], clock: Clock,
    cause: int | None = None,
) -> None:  # fmt: skip
    audit.record(
        conn,
        principal=principal,
        action=action,
        clock=clock,
        object_type="list_entry",
        object_id=entry["id"],
        detail={"list_type": entry["list_type"], "state": entry["state"], "reason": entry["removed_reason"],
                "event": cause},
    )  # fmt: skip


def _emit(
    conn: sa.Connection, event_type: str, entry: dict[str, Any], clock: Clock, cause: int | None = None
) -> int:
    row = _entry_row(conn, entry["id"])
    payload = {
        "entry": {
            k: entry[k] for k in ("id", "state", "decided_on", "valid_until", "removed_on", "removed_reason")
        },
        "list_type": entry["list_type"],
        "list_kind": entry["kind"],
        "subject": entry["subject"]["code"],
        "subject_kind": entry["subject"]["kind"],
        "caused_by_event": cause,
    }
    return emit(
        conn,
        event_type=event_type,
        clock=clock,
        subject_id=row.subject_id,
        record_id=row.record_id,
        payload=payload,
    )


def _cursor(conn: sa.Connection, name: str) -> int:
    seen = conn.execute(sa.select(outbox_cursors.c.last_id).where(outbox_cursors.c.name == name)).scalar()
    if seen is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conn.execute(insert(outbox_cursors).values(name=name, last_id=0).on_conflict_do_nothing())
        return 0
    return int(seen)


def _advance(conn: sa.Connection, name: str, seen: int, to: int) -> None:
    conn.execute(
        outbox_cursors.update()
        .where(outbox_cursors.c.name == name, outbox_cursors.c.last_id == seen)
        .values(last_id=to)
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def current_entries(conn: sa.Connection, subject_id: int, *, on: dt.date) -> Iterable[Any]:
    """A subject's entries in force on `on`: decided, published, and within their validity."""
    return conn.execute(
        sa.select(list_entries)
        .where(
            list_entries.c.subject_id == subject_id,
            list_entries.c.state == "listed",
            list_entries.c.valid_until >= on,
        )
        .order_by(list_entries.c.id)
    ).all()
