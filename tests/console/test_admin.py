"""The administration pages, on both databases: each action done by the platform administrator, and the
same action refused to someone else (a provider's clerk gets 403, audited); one-time links that work once
and expire; the lock state read from where it lives (login_throttle) and cleared; API tokens shown once,
working, revoked; the audit log searched without showing personal data."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from collect.conftest import DEPT
from xinyong.console import admin as console_admin
from xinyong.security.models import audit_log, password_resets
from xinyong.web.deps import CSRF_HEADER

from .conftest import PASSWORD, World

NEW_PASSWORD = "a-new-and-long-passphrase"
LINK = re.compile(r"/console/reset/([A-Za-z0-9_-]{20,})")
TOKEN = re.compile(r'id="token-secret" readonly value="(xyt_[^"]+)"')


def entries(world: World, action: str) -> list[dict]:
    with world.runtime.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.seq)
        )
        return [dict(r) for r in rows.mappings()]


def test_a_provider_clerk_cannot_open_the_users_page_and_the_attempt_is_audited(world: World) -> None:
    assert world.client("admin").get("/console/admin/users").status_code == 200
    clerk = world.client("clerk")
    answer = clerk.get("/console/admin/users")
    assert answer.status_code == 403
    denied = entries(world, "access.denied")
    assert denied[-1]["actor"] == "user:clerk"
    assert denied[-1]["detail"]["path"] == "/console/admin/users"
    assert clerk.post("/console/admin/users/status", data={"username": "clerk2"}).status_code == 403
    assert entries(world, "user.disable") == []


def test_a_new_account_sets_its_password_through_its_link_once(world: World) -> None:
    admin = world.client("admin")
    answer = admin.post(
        "/console/admin/users",
        data={"username": "newclerk", "display_name": "新职员", "role": "provider", "organisation": DEPT},
    )
    assert answer.status_code == 200, answer.text
    token = LINK.search(answer.text).group(1)  # type: ignore[union-attr]
    with world.runtime.engine.connect() as conn:
        stored = conn.execute(sa.select(password_resets.c.token_hash)).scalars().all()
    assert token not in stored and len(stored) == 1  # only its hash is kept

    visitor = world.client()
    assert "newclerk" in visitor.get(f"/console/reset/{token}").text
    weak = visitor.post(f"/console/reset/{token}", data={"password": "short", "again": "short"})
    assert weak.status_code == 422  # refused before the link is spent
    done = visitor.post(f"/console/reset/{token}", data={"password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert done.status_code == 200 and "newclerk" in done.text
    signed = visitor.post("/console/login", data={"username": "newclerk", "password": NEW_PASSWORD})
    assert signed.status_code == 303

    again = world.client().post(f"/console/reset/{token}", data={"password": PASSWORD, "again": PASSWORD})
    assert again.status_code == 404 and "security.reset_link_invalid" in again.text
    assert world.client().get(f"/console/reset/{token}").status_code == 404
    assert [e["object_id"] for e in entries(world, "user.add")] == ["newclerk"]
    assert [e["actor"] for e in entries(world, "user.password_set")] == ["user:newclerk"]


def test_a_reset_link_expires_and_a_newer_one_voids_it(world: World) -> None:
    admin = world.client("admin")
    first = LINK.search(admin.post("/console/admin/users/reset", data={"username": "clerk"}).text).group(1)  # type: ignore[union-attr]
    second = LINK.search(admin.post("/console/admin/users/reset", data={"username": "clerk"}).text).group(1)  # type: ignore[union-attr]
    assert world.client().get(f"/console/reset/{first}").status_code == 404
    assert world.client().get(f"/console/reset/{second}").status_code == 200
    world.clock.advance(hours=24, seconds=1)
    late = world.client().post(
        f"/console/reset/{second}", data={"password": NEW_PASSWORD, "again": NEW_PASSWORD}
    )
    assert late.status_code == 404
    assert (
        world.client().post("/console/login", data={"username": "clerk", "password": PASSWORD}).status_code
        == 303
    )


def test_disabling_ends_the_sessions_and_enabling_lets_the_clerk_back(world: World) -> None:
    clerk = world.client("clerk")
    admin = world.client("admin")
    no_csrf = world.client("admin")
    del no_csrf.headers[CSRF_HEADER]
    assert no_csrf.post("/console/admin/users/status", data={"username": "clerk"}).status_code == 403
    assert clerk.get("/console/batches").status_code == 200

    done = admin.post("/console/admin/users/status", data={"username": "clerk", "status": "disabled"})
    assert done.status_code == 303
    assert clerk.get("/console/batches").status_code in (401, 403)
    assert 'data-user="clerk" data-status="disabled"' in admin.get("/console/admin/users").text
    admin.post("/console/admin/users/status", data={"username": "clerk", "status": "active"})
    assert world.client("clerk").get("/console/batches").status_code == 200
    assert [e["actor"] for e in entries(world, "user.disable")] == ["user:admin"]


def test_the_lock_state_comes_from_the_login_throttle_and_can_be_cleared(world: World) -> None:
    admin = world.client("admin")
    visitor = world.client()
    for _ in range(5):
        visitor.post("/console/login", data={"username": "clerk2", "password": "wrong-password-here"})
    page = admin.get("/console/admin/users").text
    assert 'data-user="clerk2" data-status="active" data-locked="yes"' in page
    assert 'data-user="clerk" data-status="active" data-locked="no"' in page
    refused = visitor.post("/console/login", data={"username": "clerk2", "password": PASSWORD})
    assert refused.status_code == 401  # locked out, even with the right password

    assert admin.post("/console/admin/users/unlock", data={"username": "clerk2"}).status_code == 303
    assert (
        'data-user="clerk2" data-status="active" data-locked="no"' in admin.get("/console/admin/users").text
    )
    assert (
        visitor.post("/console/login", data={"username": "clerk2", "password": PASSWORD}).status_code == 303
    )
    assert entries(world, "user.unlock")[-1]["detail"] == {"lockouts_lifted": 1}


def test_a_token_is_shown_once_works_within_its_scope_and_stops_when_revoked(world: World) -> None:
    admin = world.client("admin")
    beyond = admin.post(
        "/console/admin/tokens",
        data={
            "organisation": DEPT,
            "role": "provider",
            "name": "报送系统",
            "scope": ["audit.read"],
            "days": 30,
        },
    )
    assert beyond.status_code == 422 and "security.token_scope" in beyond.text
    too_long = admin.post(
        "/console/admin/tokens",
        data={"organisation": DEPT, "role": "provider", "name": "报送系统", "days": 9999},
    )
    assert too_long.status_code == 422 and "security.token_days" in too_long.text
    nobody = admin.post(
        "/console/admin/tokens", data={"organisation": DEPT, "role": "nobody", "name": "报送系统", "days": 30}
    )
    assert nobody.status_code == 422 and "security.role_unknown" in nobody.text  # was a 500 (fuzz)

    shown = admin.post(
        "/console/admin/tokens",
        data={
            "organisation": DEPT,
            "role": "provider",
            "name": "报送系统",
            "scope": ["batch.status"],
            "days": 30,
        },
    )
    assert shown.status_code == 200
    secret = TOKEN.search(shown.text).group(1)  # type: ignore[union-attr]
    prefix = secret[:12]  # xyt_ and 8 characters
    listing = admin.get("/console/admin/tokens").text
    assert prefix in listing and secret not in listing
    system = world.client()
    system.headers["Authorization"] = f"Bearer {secret}"
    assert system.get("/api/v1/batches").status_code == 200  # within its scope
    assert system.get("/api/v1/auth/me").status_code == 403  # beyond it

    assert admin.post("/console/admin/tokens/revoke", data={"prefix": prefix}).status_code == 303
    assert system.get("/api/v1/batches").status_code == 401
    assert f'data-token="{prefix}" data-state="revoked"' in admin.get("/console/admin/tokens").text
    assert [e["object_id"] for e in entries(world, "token.revoke")] == [prefix]


def test_the_audit_log_is_searched_paged_masked_and_its_chain_verified(world: World) -> None:
    admin = world.client("admin")
    person = "420106199001011231"
    page = admin.get("/console/admin/audit", params={"subject": person})
    assert page.status_code == 200
    assert person not in page.text and "4201**********1231" in page.text  # the masked label only
    assert "420106199001011237" not in admin.get("/console/admin/audit?subject=420106199001011237").text
    assert 'id="chain" data-ok="yes"' in page.text

    found = admin.get("/console/admin/audit", params={"actor": "admin", "action": "audit"}).text
    assert re.findall(r'data-action="([^"]+)"', found) == ["audit.search"] * 2  # the previous searches
    by_day = admin.get(
        "/console/admin/audit", params={"action": "auth.login", "from": "2026-06-15", "to": "2026-06-15"}
    )
    assert 'data-action="auth.login"' in by_day.text
    none = admin.get("/console/admin/audit", params={"action": "auth.login", "from": "2026-06-16"})
    assert "data-seq=" not in none.text
    assert admin.get("/console/admin/audit", params={"from": "15/06/2026"}).status_code == 400
    last = admin.get("/console/admin/audit", params={"page": 999}).text
    assert "data-seq=" in last  # past the end: the last page
    assert "上一页" not in last
    assert entries(world, "audit.search")[0]["subject_label"] != person


def test_the_audit_page_walks_only_the_newest_entries_and_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = world.client("admin")
    whole = admin.get("/console/admin/audit").text
    assert 'id="chain" data-ok="yes"' in whole and 'id="chain-latest"' not in whole
    monkeypatch.setattr(console_admin, "AUDIT_PAGE_VERIFIES", 1)
    newest = admin.get("/console/admin/audit").text
    assert 'id="chain" data-ok="yes"' in newest
    assert "最近 1 条审计记录完整" in newest and "xinyong audit verify" in newest


def test_the_organisation_tree_and_the_key_rotation_guide(world: World) -> None:
    admin = world.client("admin")
    tree = admin.get("/console/admin/organisations").text
    assert re.search(rf'data-uscc="{DEPT}" data-depth="1" data-parent="[0-9A-Z]+"', tree)
    keys = admin.get("/console/admin/keys").text
    for command in ("xinyong audit verify", "xinyong key generate", "--anchor SEQ:HASH"):
        assert command in keys
    assert world.client("operator").get("/console/admin/keys").status_code == 403
