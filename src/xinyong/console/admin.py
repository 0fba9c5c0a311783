"""The console's administration pages (/console/admin) and the page a one-time link opens (/console/reset).

Thin routes over `security.admin` (every change, audited — the same functions as `xinyong user|token …`),
`security.accounts.list_users`, `security.tokens.list_tokens`, `security.organisations.list_organisations`
and `security.audit.search/verify`. Each route declares its permission (roles.yaml: the platform
administrator holds them); an action on one organisation's account or token is checked again with that
organisation as the owner, so a grant scoped to `own_organisation` would limit an organisation's own
administrator to its own accounts. Refusals are answered and audited by web.deps.refusal_response.

    GET  /console/admin                     the administration index
    GET  /console/admin/organisations       the organisation tree, with each one's accounts
    GET  /console/admin/users, POST         accounts and their lock state; create (→ one-time link)
    POST /console/admin/users/status        disable / enable
    POST /console/admin/users/unlock        lift the sign-in lock-outs
    POST /console/admin/users/reset         a one-time link to set the password
    GET  /console/admin/tokens, POST        API tokens; create (the secret shown once)
    POST /console/admin/tokens/revoke       revoke
    GET  /console/admin/keys                the key-rotation procedure, with its commands
    GET  /console/admin/audit               the audit log, searched and paged, and the chain's verification
    GET  /console/reset/{token}, POST       set a password through a one-time link
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinyong.clock import CHINA
from xinyong.codes import normalize_code
from xinyong.console.views import render
from xinyong.problems import Problem, ProblemError
from xinyong.security import admin, audit
from xinyong.security.access import check, organisation_reach
from xinyong.security.accounts import list_users
from xinyong.security.errors import SecurityError
from xinyong.security.masking import mask_ids_in_text
from xinyong.security.models import users
from xinyong.security.organisations import KIND_LABELS, list_organisations
from xinyong.security.principal import Principal
from xinyong.security.roles import load_roles
from xinyong.security.tokens import list_tokens
from xinyong.web.deps import client_ip, permission, runtime_of, security_settings
from xinyong.web.portal.views import error_page

router = APIRouter(prefix="/console", include_in_schema=False)
AUDIT_PAGE_SIZE = 50
# Entries of the chain the audit page walks on each view, the newest (about 0.2 s at ~20 µs an entry); the
# whole chain is `xinyong audit verify`, which the page names when it walked less.
AUDIT_PAGE_VERIFIES = 10_000
_LINK = Annotated[str, Path(min_length=1, max_length=64)]
_NAME = Annotated[str, Form(max_length=64)]


def _refused_on(exc: SecurityError, object_type: str, object_id: str) -> SecurityError:
    exc.context.update(object_type=object_type, object_id=object_id)
    return exc


def _owner_check(
    principal: Principal, name: str, owner: str | None, *, object_type: str, object_id: str
) -> None:
    try:
        check(principal, name, owner=owner)
    except SecurityError as exc:
        raise _refused_on(exc, object_type, object_id) from None


def _failed(request: Request, exc: ProblemError) -> HTMLResponse:
    return error_page(request, 422, exc.problems[0])


def _roles_for(principal_kind: str) -> list[tuple[str, str]]:
    book = load_roles()
    return [
        (name, role.zh)
        for name, role in book.roles.items()
        if principal_kind in role.principals and role.organisation_kinds and name != "subject"
    ]


# ------------------------------------------------------------------------------------------ index


@router.get("/admin")
def admin_index(request: Request, principal: Principal = permission("console.view")) -> HTMLResponse:
    return render(request, "console/admin/index.html", "admin")


@router.get("/admin/organisations")
def organisations_page(request: Request, principal: Principal = permission("org.manage")) -> HTMLResponse:
    from xinyong.store.tables import organisations

    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        tree = list_organisations(conn)
        counted = conn.execute(
            sa.select(organisations.c.uscc, sa.func.count(users.c.id))
            .join(users, users.c.organisation_id == organisations.c.id)
            .group_by(organisations.c.uscc)
        ).all()
    accounts = {uscc: n for uscc, n in counted}
    return render(
        request,
        "console/admin/organisations.html",
        "organisations",
        tree=tree,
        accounts=accounts,
        kinds=KIND_LABELS,
    )


# ------------------------------------------------------------------------------------------ users


def _users_page(request: Request, principal: Principal, **extra: Any) -> HTMLResponse:
    runtime = runtime_of(request)
    own = organisation_reach(principal, "user.manage")
    now = runtime.clock.now()
    with runtime.engine.connect() as conn:
        rows = list_users(conn, organisation_uscc=own)
        organisations = [o for o in list_organisations(conn) if own is None or o["uscc"] == own]
    for row in rows:
        row["locked"] = row["locked_until"] is not None and row["locked_until"] > now
    return render(
        request,
        "console/admin/users.html",
        "users",
        rows=rows,
        organisations=organisations,
        roles=_roles_for("user"),
        link_hours=security_settings(request).reset_link_hours,
        **extra,
    )


@router.get("/admin/users")
def users_page(request: Request, principal: Principal = permission("user.manage")) -> HTMLResponse:
    return _users_page(request, principal, done=request.query_params.get("done", "")[:16])


@router.post("/admin/users")
def user_create(
    request: Request,
    username: _NAME = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    organisation: Annotated[str, Form(max_length=18)] = "",
    principal: Principal = permission("user.manage"),
) -> Response:
    """A new account without a password: the administrator hands its owner the one-time link shown."""
    runtime = runtime_of(request)
    organisation = organisation.strip().upper()
    _owner_check(principal, "user.manage", organisation, object_type="user", object_id=username[:64])
    try:
        with runtime.engine.begin() as conn:
            link = admin.add_user(
                conn,
                actor=principal,
                username=username,
                display_name=display_name or username,
                role=role,
                organisation_uscc=organisation,
                clock=runtime.clock,
                settings=security_settings(request),
                ip=client_ip(request),
            )
    except ProblemError as exc:
        return _failed(request, exc)
    return _link_page(request, link)


def _link_page(request: Request, link: admin.ResetLink | None) -> HTMLResponse:
    assert link is not None
    url = f"{str(request.base_url).rstrip('/')}{link.path}"
    return render(request, "console/admin/link.html", "reset_link", link=link, url=url)


def _account_action(request: Request, principal: Principal, username: str) -> str:
    """The account's organisation, once the caller may manage it (refused and audited otherwise)."""
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        owner = admin.user_organisation(conn, username)
    _owner_check(principal, "user.manage", owner, object_type="user", object_id=username)
    return owner or ""


@router.post("/admin/users/status")
def user_status(
    request: Request,
    username: _NAME = "",
    status: Annotated[Literal["active", "disabled"], Form()] = "disabled",
    principal: Principal = permission("user.manage"),
) -> Response:
    runtime = runtime_of(request)
    try:
        _account_action(request, principal, username)
        with runtime.engine.begin() as conn:
            admin.change_status(
                conn,
                actor=principal,
                username=username,
                status=status,
                clock=runtime.clock,
                ip=client_ip(request),
            )
    except ProblemError as exc:
        return _failed(request, exc)
    return RedirectResponse(f"/console/admin/users?{urlencode({'done': status})}", status_code=303)


@router.post("/admin/users/unlock")
def user_unlock(
    request: Request, username: _NAME = "", principal: Principal = permission("user.manage")
) -> Response:
    runtime = runtime_of(request)
    try:
        _account_action(request, principal, username)
        with runtime.engine.begin() as conn:
            admin.clear_lockouts(
                conn, actor=principal, username=username, clock=runtime.clock, ip=client_ip(request)
            )
    except ProblemError as exc:
        return _failed(request, exc)
    return RedirectResponse("/console/admin/users?done=unlocked", status_code=303)


@router.post("/admin/users/reset")
def user_reset(
    request: Request, username: _NAME = "", principal: Principal = permission("user.manage")
) -> Response:
    runtime = runtime_of(request)
    try:
        _account_action(request, principal, username)
        with runtime.engine.begin() as conn:
            link = admin.issue_reset_link(
                conn,
                actor=principal,
                username=username,
                clock=runtime.clock,
                settings=security_settings(request),
                ip=client_ip(request),
            )
    except ProblemError as exc:
        return _failed(request, exc)
    return _link_page(request, link)


# --------------------------------------------------------------------------------- one-time links


@router.get("/reset/{token}")
def reset_form(
    token: _LINK, request: Request, principal: Principal = permission("auth.login")
) -> HTMLResponse:
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        username = admin.reset_link_user(conn, token, clock=runtime.clock)
    if username is None:
        return error_page(request, 404, admin.LINK_INVALID)
    return render(request, "console/admin/reset.html", "set_password", username=username, token=token)


@router.post("/reset/{token}")
def reset_submit(
    token: _LINK,
    request: Request,
    password: Annotated[str, Form(max_length=1024)] = "",
    again: Annotated[str, Form(max_length=1024)] = "",
    principal: Principal = permission("auth.login"),
) -> Response:
    runtime = runtime_of(request)
    if password != again:
        problem = Problem("security.password_mismatch", "两次输入的密码不一致", "the two passwords differ")
        return error_page(request, 422, problem)
    try:
        with runtime.engine.begin() as conn:
            username = admin.redeem_reset_link(
                conn,
                token=token,
                password=password,
                clock=runtime.clock,
                settings=security_settings(request),
                ip=client_ip(request),
            )
    except ProblemError as exc:
        code = exc.problems[0].code
        return error_page(request, 404 if code == admin.LINK_INVALID.code else 422, exc.problems[0])
    return render(request, "console/admin/reset_done.html", "set_password", username=username)


# ----------------------------------------------------------------------------------------- tokens


def _tokens_page(request: Request, principal: Principal, **extra: Any) -> HTMLResponse:
    runtime = runtime_of(request)
    own = organisation_reach(principal, "token.manage")
    with runtime.engine.connect() as conn:
        rows = list_tokens(conn, organisation_uscc=own)
        organisations = [o for o in list_organisations(conn) if own is None or o["uscc"] == own]
    book = load_roles()
    roles = _roles_for("token")
    scopes = sorted({p for name, _ in roles for p in book.permissions_of(name)})
    return render(
        request,
        "console/admin/tokens.html",
        "tokens",
        rows=rows,
        organisations=organisations,
        roles=roles,
        scopes=scopes,
        now=runtime.clock.now(),
        max_days=security_settings(request).token_max_days,
        **extra,
    )


@router.get("/admin/tokens")
def tokens_page(request: Request, principal: Principal = permission("token.manage")) -> HTMLResponse:
    return _tokens_page(request, principal, done=request.query_params.get("done", "")[:16])


@router.post("/admin/tokens")
def token_create(
    request: Request,
    organisation: Annotated[str, Form(max_length=18)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[list[str] | None, Form(max_length=64)] = None,
    days: Annotated[int, Form(ge=-(2**31), le=2**31)] = 90,
    principal: Principal = permission("token.manage"),
) -> Response:
    """The secret is on this answer only (never stored, never in an address); the list shows its prefix."""
    runtime = runtime_of(request)
    organisation = organisation.strip().upper()
    _owner_check(principal, "token.manage", organisation, object_type="api_token", object_id=name[:64])
    if not name.strip():
        problem = Problem(
            "security.token_name", "请填写使用该令牌的系统名称", "name the system that uses the token"
        )
        return error_page(request, 422, problem)
    try:
        with runtime.engine.begin() as conn:
            issued = admin.issue_api_token(
                conn,
                actor=principal,
                organisation_uscc=organisation,
                role=role,
                name=name,
                scopes=[s for s in scope or [] if s] or None,
                days=days,
                clock=runtime.clock,
                settings=security_settings(request),
                ip=client_ip(request),
            )
    except ProblemError as exc:
        return _failed(request, exc)
    return render(request, "console/admin/token_shown.html", "tokens", issued=issued)


@router.post("/admin/tokens/revoke")
def token_revoke(
    request: Request,
    prefix: Annotated[str, Form(max_length=16)] = "",
    principal: Principal = permission("token.manage"),
) -> Response:
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        owner = admin.token_organisation(conn, prefix)
    _owner_check(principal, "token.manage", owner, object_type="api_token", object_id=prefix.strip())
    try:
        with runtime.engine.begin() as conn:
            admin.revoke_api_token(
                conn, actor=principal, prefix=prefix, clock=runtime.clock, ip=client_ip(request)
            )
    except ProblemError as exc:
        return _failed(request, exc)
    return RedirectResponse("/console/admin/tokens?done=revoked", status_code=303)


# ----------------------------------------------------------------------------------- key rotation


@router.get("/admin/keys")
def keys_page(request: Request, principal: Principal = permission("key.guide")) -> HTMLResponse:
    return render(request, "console/admin/keys.html", "keys")


# ------------------------------------------------------------------------------------------ audit


def _day(text: str | None, field: str) -> dt.date | None:
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ProblemError(
            Problem(
                "console.date",
                f"日期须为 YYYY-MM-DD 格式（{field}）",
                f"a date is YYYY-MM-DD ({field})",
                field=field,
            )
        ) from None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=CHINA)


def shown_ip(ip: str | None) -> str:
    """A client address as the audit page shows it: the last part hidden (an address can identify a
    person); the full one stays in the trail for an investigation."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "…"
    if address.version == 4:
        return ".".join([*ip.split(".")[:3], "*"])
    return str(ipaddress.ip_network(f"{address}/48", strict=False).network_address) + "/48"


def _subject(text: str | None, protector: Any) -> audit.SubjectRef | None:
    """What the subject filter means: a code (an ID number becomes its blind index), or `key:…` — the
    search's own links, which never carry an ID number."""
    if not text or not text.strip():
        return None
    text = text.strip()
    if text.startswith("key:"):
        return audit.SubjectRef(key=text[4:], label="（按索引检索 / by index）")
    ref = audit.SubjectRef.from_code(text, protector)
    if ref.key == ref.label and mask_ids_in_text(text) != text:  # shaped like an ID number, but not valid
        ref = audit.SubjectRef(key=protector.blind_index(normalize_code(text)), label=mask_ids_in_text(text))
    return ref


@router.get("/admin/audit")
def audit_page(
    request: Request,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    subject: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    page: Annotated[int, Query(ge=1, le=2**31)] = 1,
    principal: Principal = permission("audit.read"),
) -> HTMLResponse:
    """Searched by actor, subject (a USCC or an ID number, found by its blind index), action family and
    China-time dates; shown masked. The search itself is recorded (`audit.search`)."""
    runtime = runtime_of(request)
    try:
        first, last = _day(start, "from"), _day(end, "to")
    except ProblemError as exc:
        return error_page(request, 400, exc.problems[0])
    about = _subject(subject, runtime.protector)
    with runtime.engine.begin() as conn:
        found = audit.search(
            conn,
            actor=actor,
            subject=about,
            action=action,
            since=_midnight(first) if first else None,
            before=_midnight(last + dt.timedelta(days=1)) if last else None,
            page=page,
            per_page=AUDIT_PAGE_SIZE,
        )
        chain = audit.verify(conn, latest=AUDIT_PAGE_VERIFIES)
        audit.record(
            conn,
            principal=principal,
            action="audit.search",
            clock=runtime.clock,
            ip=client_ip(request),
            subject=about,
            detail={
                "actor": actor,
                "action": action,
                "from": start,
                "to": end,
                "page": found.page,
                "shown": len(found.entries),
            },
        )
    # An ID number typed into the search is never written back into the page: its links carry the blind
    # index instead (key:…), and the field shows the masked label.
    subject = f"key:{about.key}" if about is not None and about.key != about.label else subject
    query = {
        k: v
        for k, v in (("actor", actor), ("subject", subject), ("action", action), ("from", start), ("to", end))
        if v
    }
    entries = [
        {
            **e,
            "ip": shown_ip(e["ip"]),
            "object_id": mask_ids_in_text(e["object_id"] or ""),
            "detail": mask_ids_in_text(json.dumps(e["detail"], ensure_ascii=False)) if e["detail"] else "",
        }
        for e in found.entries
    ]
    return render(
        request,
        "console/admin/audit.html",
        "audit",
        found=found,
        entries=entries,
        chain=chain,
        subject_label=about.label if about is not None else "",
        filters={
            "actor": actor or "",
            "subject": "" if subject and subject.startswith("key:") else subject or "",
            "action": action or "",
            "from": start or "",
            "to": end or "",
        },
        query=urlencode(query),
        switch_query={**query, "page": str(found.page)},
    )
