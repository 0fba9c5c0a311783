"""Notifications (站内消息 and e-mail): every step of an objection or a repair tells the parties.

One place writes them: `deliver` reads the event outbox after its cursor and turns each step's event into
inbox rows for the parties concerned — the subject, the department that must act or decided, the platform —
so a step taken at the counter (CLI), on the site, or by the deadline engine is told the same way, once
(the cursor, and a unique key on event and party). Call it in the transaction that made the change (the
web routes do) or later (the scheduled run does); a message whose party has an e-mail address on file is
left `pending`, and `send_pending` hands it to the outbound adapter after the commit, outside any
transaction. Messages name records by item and 文号 and subjects by USCC or platform reference, never by an
ID number or a person's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.clock import CHINA, Clock
from xinyong.events import events_after
from xinyong.rights.errors import Refused
from xinyong.rights.models import (
    PARTY_KINDS,
    notification_contacts,
    notifications,
    notifier_cursor,
    objections,
    repair_applications,
)
from xinyong.rights.outbound import DeliveryFailed, Outbound
from xinyong.security import audit
from xinyong.security.principal import Principal

_CURSOR = 1
BATCH = 500


@dataclass(frozen=True)
class Party:
    kind: str  # subject | organisation | platform
    key: str  # the subject's id, the organisation's USCC, or "platform"

    @classmethod
    def platform(cls) -> Party:
        return cls("platform", "platform")

    @classmethod
    def subject(cls, subject_id: int) -> Party:
        return cls("subject", str(subject_id))

    @classmethod
    def organisation(cls, uscc: str) -> Party:
        return cls("organisation", uscc)


@dataclass(frozen=True)
class Message:
    party: Party
    title: tuple[str, str]
    body: tuple[str, str]


OUTCOMES = {
    "upheld": ("维持", "upheld"),
    "corrected": ("更正", "corrected"),
    "removed": ("撤销", "removed"),
    "moved": ("移交至正确的信用主体", "moved to the subject it is about"),
}


def _record_words(payload: dict[str, Any]) -> tuple[str, str]:
    r = payload.get("record") or {}
    zh = f"信用记录 {r.get('id')}（{r.get('item_code')}，{r.get('source_key')}）"
    en = f"credit record {r.get('id')} ({r.get('item_code')}, {r.get('source_key')})"
    return zh, en


# ------------------------------------------------------------------------------- what each event says

STEP_WORDS = {
    "objection.platform_decide": ("作出异议处理决定", "decide the objection"),
    "objection.forward": ("转交信息提供单位核查", "forward the objection"),
    "objection.provider_decide": ("作出异议处理决定", "decide the objection"),
    "repair.decide": ("作出信用修复决定", "decide the repair application"),
}


def _reminder(event: dict[str, Any], matter: tuple[str, str], n: int) -> list[Message]:
    """The deadline engine's reminder, to the task's owner: what to do by which day."""
    payload = event["payload"]
    owner = payload.get("owner") or {}
    party = Party.organisation(owner["uscc"]) if owner.get("uscc") else Party.platform()
    zh, en = STEP_WORDS.get(payload.get("step", ""), (payload.get("step", ""), payload.get("step", "")))
    due = payload.get("due_on")
    return [
        Message(
            party,
            (f"{matter[0]} {n} 即将到期", f"{matter[1].capitalize()} {n} is due soon"),
            (
                f"请于 {due} 前{zh}（{matter[0]} {n}，办理时限 {payload.get('rule')}）。",
                f"Please {en} by {due} ({matter[1]} {n}, deadline rule {payload.get('rule')}).",
            ),
        )
    ]


def _objection_messages(conn: sa.Connection, event: dict[str, Any]) -> list[Message]:
    payload = event["payload"]
    row = conn.execute(sa.select(objections).where(objections.c.id == payload["objection_id"])).first()
    if row is None:
        return []
    rz, ren = _record_words(payload)
    n = row.id
    subject = Party.subject(row.subject_id)
    kind = event["type"]
    if kind == "deadline.reminder":
        return _reminder(event, ("异议", "objection"), n)
    if kind == "record.disputed":
        return [
            Message(
                subject,
                (f"异议 {n} 已受理", f"Objection {n} received"),
                (
                    f"您对{rz}提出的异议已受理，该记录已标注“异议处理中”。",
                    f"Your objection to {ren} was received; the record is marked as disputed.",
                ),
            ),
            Message(
                Party.platform(),
                (f"新异议 {n} 待处理", f"New objection {n} to handle"),
                (
                    f"{rz}收到异议，请按时限决定或转交。",
                    f"{ren} was objected to: decide or forward it in time.",
                ),
            ),
        ]
    if kind == "objection.forwarded":
        to = row.forwarded_to_uscc or payload.get("to")
        return [
            Message(
                subject,
                (f"异议 {n} 已转交核查", f"Objection {n} forwarded"),
                (
                    f"您对{rz}的异议已转交信息提供单位核查。",
                    f"Your objection to {ren} was forwarded to the providing department.",
                ),
            ),
            Message(
                Party.organisation(to),
                (f"异议 {n} 待本单位决定", f"Objection {n} awaits your decision"),
                (
                    f"信用信息平台转交了对{rz}的异议，请在时限内作出维持、更正或撤销的决定。",
                    f"The platform forwarded an objection to {ren}: uphold, correct or remove it in time.",
                ),
            ),
        ]
    if kind == "record.suspended":
        told = [
            Message(
                party,
                (f"异议 {n}：记录暂停披露", f"Objection {n}: record suspended"),
                (
                    f"信息提供单位未在时限内处理异议，{rz}暂停对外披露。",
                    f"The department missed its deadline: {ren} is no longer disclosed until decided.",
                ),
            )
            for party in (subject, Party.platform())
        ]
        if row.forwarded_to_uscc:
            told.append(
                Message(
                    Party.organisation(row.forwarded_to_uscc),
                    (f"异议 {n} 已超时", f"Objection {n} overdue"),
                    (
                        f"本单位未在时限内处理对{rz}的异议，该记录已暂停披露。",
                        f"Your department missed the deadline on {ren}; its disclosure is suspended.",
                    ),
                )
            )
        return told
    decided = ("record.corrected", "record.removed", "record.dispute_closed", "record.moved")
    if kind in decided and row.outcome:
        zh, en = OUTCOMES.get(row.outcome, (row.outcome, row.outcome))
        return [
            Message(
                subject,
                (f"异议 {n} 已办结：{zh}", f"Objection {n} decided: {en}"),
                (
                    f"您对{rz}的异议处理结果为“{zh}”。理由：{row.decision_reason}",
                    f"Your objection to {ren} was decided: {en}. Reason: {row.decision_reason}",
                ),
            )
        ]
    return []


def _repair_messages(conn: sa.Connection, event: dict[str, Any]) -> list[Message]:
    payload = event["payload"]
    a = repair_applications
    row = conn.execute(sa.select(a).where(a.c.id == payload["repair_id"])).first()
    if row is None:
        return []
    rz, ren = _record_words(payload)
    n = row.id
    subject = Party.subject(row.subject_id)
    decider = Party.organisation(row.decider_uscc) if row.decider_uscc else Party.platform()
    kind = event["type"]
    if kind == "deadline.reminder":
        return _reminder(event, ("信用修复申请", "repair application"), n)
    if kind == "repair.applied":
        return [
            Message(
                subject,
                (f"信用修复申请 {n} 已受理", f"Repair application {n} received"),
                (f"您就{rz}提出的信用修复申请已受理。", f"Your application to repair {ren} was received."),
            ),
            Message(
                decider,
                (f"信用修复申请 {n} 待决定", f"Repair application {n} to decide"),
                (f"{rz}的信用修复申请待决定。", f"An application to repair {ren} awaits the decision."),
            ),
        ]
    if kind in ("record.repaired", "repair.refused"):
        zh, en = ("准予修复", "approved") if kind == "record.repaired" else ("不予修复", "refused")
        return [
            Message(
                subject,
                (f"信用修复申请 {n}：{zh}", f"Repair application {n}: {en}"),
                (
                    f"您就{rz}提出的信用修复申请结果为“{zh}”。理由：{row.decision_reason}",
                    f"Your application to repair {ren} was {en}. Reason: {row.decision_reason}",
                ),
            )
        ]
    return []


def messages_for(conn: sa.Connection, event: dict[str, Any]) -> list[Message]:
    payload = event.get("payload") or {}
    if "objection_id" in payload:
        return _objection_messages(conn, event)
    if "repair_id" in payload:
        return _repair_messages(conn, event)
    return []


# ------------------------------------------------------------------------------------------- deliver


def deliver(conn: sa.Connection, *, clock: Clock) -> int:
    """Turn the events after the cursor into inbox rows, in the caller's transaction; returns rows written.

    The cursor row is locked by the first UPDATE until the transaction ends, so two deliverers take turns
    and an event is delivered once."""
    cursor = _lock_cursor(conn)
    written = 0
    while True:
        batch = events_after(conn, after=cursor, limit=BATCH)
        if not batch:
            break
        for event in batch:
            for message in messages_for(conn, event):
                written += _write(conn, event, message, clock=clock)
            cursor = int(event["id"])
        if len(batch) < BATCH:
            break
    conn.execute(notifier_cursor.update().where(notifier_cursor.c.id == _CURSOR).values(last_event_id=cursor))
    return written


def _lock_cursor(conn: sa.Connection) -> int:
    touch = (
        notifier_cursor.update()
        .where(notifier_cursor.c.id == _CURSOR)
        .values(last_event_id=notifier_cursor.c.last_event_id)
        .returning(notifier_cursor.c.last_event_id)
    )
    found = conn.execute(touch).scalar()
    if found is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conn.execute(insert(notifier_cursor).values(id=_CURSOR, last_event_id=0).on_conflict_do_nothing())
        found = conn.execute(touch).scalar_one()
    return int(found)


def _write(conn: sa.Connection, event: dict[str, Any], message: Message, *, clock: Clock) -> int:
    payload = event["payload"]
    matter_kind, matter_id = (
        ("objection", payload["objection_id"])
        if "objection_id" in payload
        else ("repair", payload["repair_id"])
    )
    email = contact(conn, message.party)["email"]
    exists = conn.execute(
        sa.select(notifications.c.id).where(
            notifications.c.event_id == event["id"],
            notifications.c.party_kind == message.party.kind,
            notifications.c.party_key == message.party.key,
        )
    ).first()
    if exists is not None:
        return 0
    conn.execute(
        notifications.insert().values(
            event_id=event["id"],
            party_kind=message.party.kind,
            party_key=message.party.key,
            matter_kind=matter_kind,
            matter_id=matter_id,
            record_id=event.get("record_id"),
            title_zh=message.title[0][:200],
            title_en=message.title[1][:200],
            body_zh=message.body[0],
            body_en=message.body[1],
            created_at=clock.now(),
            email_state="pending" if email else "none",
            email_to=email,
        )
    )
    return 1


# --------------------------------------------------------------------------------------------- inbox


def contact(conn: sa.Connection, party: Party) -> dict[str, str | None]:
    c = notification_contacts
    row = conn.execute(
        sa.select(c.c.email, c.c.phone).where(c.c.party_kind == party.kind, c.c.party_key == party.key)
    ).first()
    return {"email": row.email if row else None, "phone": row.phone if row else None}


def set_contact(
    conn: sa.Connection, party: Party, *, clock: Clock, email: str | None = None, phone: str | None = None
) -> None:
    """Where the party wants to be told (replacing what was on file)."""
    assert party.kind in PARTY_KINDS
    c = notification_contacts
    done = conn.execute(
        c.update()
        .where(c.c.party_kind == party.kind, c.c.party_key == party.key)
        .values(email=email, phone=phone)
    )
    if done.rowcount == 0:
        conn.execute(
            c.insert().values(
                party_kind=party.kind, party_key=party.key, email=email, phone=phone, created_at=clock.now()
            )
        )


EMAIL_MAX = 200  # notification_contacts.email
# One address, as a person types it: a local part, an @, a domain with a dot. Deliberately plain (no quoted
# local parts, no display names): the relay is the real judge, this catches typing mistakes.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def save_email(
    conn: sa.Connection, party: Party, *, email: str | None, clock: Clock, principal: Principal
) -> dict[str, str | None]:
    """Set (or, empty, clear) the address the party's notifications are mailed to; the phone on file stays.
    Refused with `contact.email` when it is not one e-mail address. Audited (the address is not logged)."""
    text = (email or "").strip()
    if text and (len(text) > EMAIL_MAX or not _EMAIL.match(text)):
        raise Refused.one(
            "contact.email",
            f"请填写一个有效的电子邮箱地址（例如 name@example.com，最长 {EMAIL_MAX} 个字符）",
            f"give one valid e-mail address (e.g. name@example.com, at most {EMAIL_MAX} characters)",
            field="email",
        )
    phone = contact(conn, party)["phone"]
    set_contact(conn, party, clock=clock, email=text or None, phone=phone)
    audit.record(
        conn,
        principal=principal,
        action="contact.set",
        clock=clock,
        object_type=f"contact:{party.kind}",
        object_id=party.key,
        detail={"party": party.kind, "email": "set" if text else "cleared"},
    )
    return contact(conn, party)


def inbox(conn: sa.Connection, party: Party, *, limit: int = 100) -> list[dict[str, Any]]:
    n = notifications
    rows = conn.execute(
        sa.select(n)
        .where(n.c.party_kind == party.kind, n.c.party_key == party.key)
        .order_by(n.c.id.desc())
        .limit(limit)
    ).mappings()
    return [
        {
            "id": r["id"],
            "matter": {"kind": r["matter_kind"], "id": r["matter_id"]},
            "record_id": r["record_id"],
            "title": {"zh": r["title_zh"], "en": r["title_en"]},
            "body": {"zh": r["body_zh"], "en": r["body_en"]},
            "at": r["created_at"].astimezone(CHINA).isoformat(),
            "read": r["read_at"] is not None,
            "email": r["email_state"],
        }
        for r in rows
    ]


def mark_read(conn: sa.Connection, party: Party, notification_id: int, *, clock: Clock) -> bool:
    n = notifications
    done = conn.execute(
        n.update()
        .where(
            n.c.id == notification_id,
            n.c.party_kind == party.kind,
            n.c.party_key == party.key,
            n.c.read_at.is_(None),
        )
        .values(read_at=clock.now())
    )
    return done.rowcount == 1


# ---------------------------------------------------------------------------------------------- send


def deliver_and_send(runtime: Any) -> dict[str, int]:
    """What `xinyong serve`'s schedule and `xinyong deadlines run` do after their work: the outbox into the
    inboxes (one transaction), then pending e-mail to the configured relay (XINYONG_SMTP_*), if any."""
    from xinyong.rights.outbound import SmtpEmail

    with runtime.engine.begin() as conn:
        written = deliver(conn, clock=runtime.clock)
    sent = send_pending(runtime.engine, SmtpEmail.from_settings(runtime.settings.extra), clock=runtime.clock)
    return {"written": written, **sent}


def send_pending(
    engine: sa.Engine, sender: Outbound | None, *, clock: Clock, limit: int = 200
) -> dict[str, int]:
    """Hand pending e-mails to the adapter, each claimed in its own short transaction first (so two
    senders never send one twice), then sent outside any transaction; a refusal marks it failed."""
    counts = {"sent": 0, "failed": 0}
    if sender is None:
        return counts
    n = notifications
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                sa.select(n.c.id).where(n.c.email_state == "pending").order_by(n.c.id).limit(limit)
            ).scalars()
        )
    for notification_id in ids:
        with engine.begin() as conn:
            claimed = conn.execute(
                n.update()
                .where(n.c.id == notification_id, n.c.email_state == "pending")
                .values(email_state="sent", email_at=clock.now())
                .returning(n.c.email_to, n.c.title_zh, n.c.title_en, n.c.body_zh, n.c.body_en)
            ).first()
        if claimed is None:
            continue
        try:
            sender.send(
                claimed.email_to,
                f"{claimed.title_zh} / {claimed.title_en}",
                f"{claimed.body_zh}\n\n{claimed.body_en}\n",
            )
            counts["sent"] += 1
        except DeliveryFailed:
            with engine.begin() as conn:
                conn.execute(n.update().where(n.c.id == notification_id).values(email_state="failed"))
            counts["failed"] += 1
    return counts


__all__ = [
    "Party",
    "contact",
    "deliver",
    "deliver_and_send",
    "inbox",
    "mark_read",
    "save_email",
    "send_pending",
    "set_contact",
]
