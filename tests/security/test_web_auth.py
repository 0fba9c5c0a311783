"""The web side: sessions with CSRF, API tokens, rate limits, and how refusals look."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.audit import entries
from xinyong.security.settings import SecuritySettings
from xinyong.security.tokens import issue_token, revoke_token
from xinyong.web.app import create_app
from xinyong.web.deps import CSRF_HEADER, SESSION_COOKIE

from .conftest import ENTERPRISE_USCC, PASSWORD, PROVIDER, World, login


def test_login_sets_an_httponly_samesite_cookie_and_returns_the_csrf_token(world: World) -> None:
    client = TestClient(world.app)
    response = client.post("/api/v1/auth/login", json={"username": "operator", "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert response.status_code == 200 and SESSION_COOKIE in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain http here
    me = client.get("/api/v1/auth/me").json()
    assert me["principal"]["role"] == "credit_office" and me["csrf_token"] == response.json()["csrf_token"]


def test_state_changes_with_a_session_need_the_csrf_token(world: World) -> None:
    client = world.client("government")
    token = client.headers.pop(CSRF_HEADER)
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "security.csrf"
    wrong = client.post("/api/v1/auth/logout", headers={CSRF_HEADER: "0" * 64})
    assert wrong.status_code == 403
    foreign = client.post(
        "/api/v1/auth/logout", headers={CSRF_HEADER: token, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and foreign.json()["detail"]["code"] == "security.csrf_origin"
    form = client.post("/api/v1/auth/logout", data={"csrf_token": token})
    assert form.status_code == 200
    assert client.get("/api/v1/auth/me").json()["principal"]["role"] == "public"  # the session is over


def test_cross_site_posts_are_refused_even_before_sign_in(world: World) -> None:
    client = TestClient(world.app)
    body = {"username": "operator", "password": PASSWORD}
    refused = client.post("/api/v1/auth/login", json=body, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "security.csrf_origin"
    assert (
        client.post("/api/v1/auth/login", json=body, headers={"Origin": "http://testserver"}).status_code
        == 200
    )


def test_sessions_end_when_idle(world: World) -> None:
    idle = SecuritySettings.load(world.runtime.settings).session_idle_minutes
    assert idle == 30
    client = world.client("provider")
    role = lambda: client.get("/api/v1/auth/me").json()["principal"]["role"]  # noqa: E731
    clock = world.runtime.clock
    clock.advance(minutes=idle - 1)  # type: ignore[attr-defined]
    assert role() == "provider"  # alive just before the limit, and this use starts the idle time again
    clock.advance(minutes=idle - 1)  # type: ignore[attr-defined]
    assert role() == "provider"
    clock.advance(minutes=idle + 1)  # type: ignore[attr-defined]
    assert role() == "public"
    clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert role() == "public"  # an expired session does not come back


def test_api_tokens_authenticate_within_their_scopes(world: World) -> None:
    rt = world.runtime
    with rt.engine.begin() as conn:
        read_only = issue_token(
            conn,
            organisation_uscc=PROVIDER,
            role="provider",
            name="报送系统",
            scopes=["auth.whoami"],
            days=30,
            created_by="test",
            clock=rt.clock,
            max_days=366,
        )
    client = TestClient(world.app, headers={"Authorization": f"Bearer {read_only.token}"})
    me = client.get("/api/v1/auth/me").json()["principal"]
    assert (
        me["kind"] == "token"
        and me["actor"] == f"token:{read_only.prefix}"
        and me["scopes"] == ["auth.whoami"]
    )
    refused = client.get(f"/api/v1/subjects/{ENTERPRISE_USCC}")
    assert refused.status_code == 403 and "令牌" in refused.json()["detail"]["message_zh"]
    assert client.post("/api/v1/auth/logout").status_code == 403  # not in its scopes; and no CSRF needed


def test_bad_expired_and_revoked_tokens_are_401(world: World) -> None:
    rt = world.runtime
    with rt.engine.begin() as conn:
        issued = issue_token(
            conn,
            organisation_uscc=PROVIDER,
            role="provider",
            name="x",
            days=1,
            created_by="test",
            clock=rt.clock,
            max_days=366,
        )
    client = TestClient(world.app)
    ok = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert ok.status_code == 200
    for header in ("Bearer xyt_nonsense", "Basic dXNlcjpwYXNz", f"Bearer {issued.token}x"):
        response = client.get("/api/v1/auth/me", headers={"Authorization": header})
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    rt.clock.advance(days=1, seconds=1)  # type: ignore[attr-defined]
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued.token}"}).status_code == 401
    )


def test_a_revoked_token_is_401_at_once_and_its_siblings_still_work(world: World) -> None:
    rt = world.runtime
    with rt.engine.begin() as conn:
        kept, revoked = (
            issue_token(
                conn,
                organisation_uscc=PROVIDER,
                role="provider",
                name=name,
                days=30,
                created_by="test",
                clock=rt.clock,
                max_days=366,
            )
            for name in ("kept", "revoked")
        )
    client = TestClient(world.app)
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    assert client.get("/api/v1/auth/me", headers=bearer(revoked.token)).status_code == 200
    with rt.engine.begin() as conn:
        revoke_token(conn, prefix=revoked.prefix, revoked_by="test", clock=rt.clock)
    refused = client.get("/api/v1/auth/me", headers=bearer(revoked.token))
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/auth/me", headers=bearer(kept.token)).json()["principal"]["kind"] == "token"


def limited_app(world: World, **rates: str) -> FastAPI:
    rt = world.runtime
    settings = Settings(
        home=rt.settings.home, database_url=rt.settings.database_url, extra={**rt.settings.extra, **rates}
    )
    return create_app(Runtime(settings=settings, engine=rt.engine, protector=rt.protector, clock=rt.clock))


def test_the_public_api_is_rate_limited_per_client_with_retry_after(world: World) -> None:
    client = TestClient(limited_app(world, XINYONG_RATE_PUBLIC="3/minute"))
    statuses = [client.get(f"/api/v1/subjects/{ENTERPRISE_USCC}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/auth/me")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "20"
    detail = limited.json()["detail"]
    assert (
        detail["code"] == "security.rate_limited"
        and "20 秒" in detail["message_zh"]
        and detail["retry_after"] == 20
    )
    assert client.get("/healthz").status_code == 200  # probes are exempt
    world.runtime.clock.advance(seconds=20)  # type: ignore[attr-defined]
    assert client.get("/api/v1/auth/me").status_code == 200


def test_login_is_rate_limited_per_client(world: World) -> None:
    client = TestClient(limited_app(world, XINYONG_RATE_LOGIN="2/minute"))
    codes = [
        client.post("/api/v1/auth/login", json={"username": "x-y-z", "password": "nope"}).status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]


def test_signed_in_users_have_their_own_bucket(world: World) -> None:
    app = limited_app(world, XINYONG_RATE_PUBLIC="1/minute")
    client = login(TestClient(app), "wuhan-gov")  # the login itself spends the public bucket
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200
    assert TestClient(app).get("/api/v1/auth/me").status_code == 429


def test_refusals_of_pages_are_html_for_browsers(world: World) -> None:
    token_client = TestClient(world.app, headers={"Authorization": "Bearer bad", "Accept": "text/html"})
    page = token_client.get("/docs")
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert "接口令牌无效" in page.text


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_api_documentation_is_served_through_the_permission_check(world: World, path: str) -> None:
    assert TestClient(world.app).get(path).status_code == 200
    assert "/api/v1/subjects/{code}" in TestClient(world.app).get("/openapi.json").text


def test_the_api_document_says_how_to_authenticate_on_every_operation(world: World) -> None:
    """Swagger's "Authorize": a bearer token or the signed-in session, declared on every operation (written
    into the document, web.deps.document_security, not solved as a dependency on every request)."""
    doc = TestClient(world.app).get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["api_token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer xyt_…",
    }
    assert schemes["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "xinyong_session",
        "description": "signed-in browser",
    }
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert len(operations) > 40
    assert all(op["security"] == [{"api_token": []}, {"session": []}] for op in operations)


ATTACKER, OWNER, PROXY = ("203.0.113.66", 40000), ("198.51.100.7", 40000), ("10.0.0.5", 40000)


def login_as(client: TestClient, username: str, password: str, **headers: str) -> object:
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
    )


def test_a_name_alone_cannot_lock_its_owner_out_nor_tell_whether_it_exists(world: World) -> None:
    attacker = TestClient(world.app, client=ATTACKER)
    answers = [login_as(attacker, "admin", f"guess {i}") for i in range(6)]
    assert {a.status_code for a in answers} == {401}
    locked = login_as(attacker, "admin", PASSWORD)  # even the right password, from the locked-out client
    unknown = login_as(attacker, "no-such-admin", PASSWORD)
    assert locked.status_code == unknown.status_code == answers[0].status_code == 401
    assert locked.json() == unknown.json() == answers[0].json()
    assert "Retry-After" not in locked.headers
    owner = login_as(TestClient(world.app, client=OWNER), "admin", PASSWORD)
    assert owner.status_code == 200


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(world: World) -> None:
    spoofing = TestClient(world.app, client=ATTACKER)
    for i in range(5):
        login_as(spoofing, "operator", "wrong", **{"X-Forwarded-For": f"192.0.2.{i}"})
    # The header was not believed: the peer itself is locked out, whatever address it claims now.
    assert login_as(spoofing, "operator", PASSWORD, **{"X-Forwarded-For": "192.0.2.99"}).status_code == 401

    proxied = limited_app(world, XINYONG_TRUSTED_PROXIES="10.0.0.0/24")
    via_proxy = TestClient(proxied, client=PROXY)
    for _ in range(5):
        login_as(via_proxy, "wuhan-gov", "wrong", **{"X-Forwarded-For": "1.1.1.1, 192.0.2.10"})
    assert login_as(via_proxy, "wuhan-gov", PASSWORD, **{"X-Forwarded-For": "192.0.2.10"}).status_code == 401
    other = login_as(via_proxy, "wuhan-gov", PASSWORD, **{"X-Forwarded-For": "192.0.2.11, 10.0.0.7"})
    assert other.status_code == 200  # another client behind the same proxy
    with world.runtime.engine.connect() as conn:
        ips = [e["ip"] for e in entries(conn, actor="user:wuhan-gov", limit=20)]
    assert set(ips) == {"192.0.2.10", "192.0.2.11"}  # the client's address, never the proxy's or a claim


def test_wrong_tokens_are_rate_limited_per_client(world: World) -> None:
    rt = world.runtime
    with rt.engine.begin() as conn:
        good = issue_token(
            conn,
            organisation_uscc=PROVIDER,
            role="provider",
            name="报送系统",
            days=30,
            created_by="test",
            clock=rt.clock,
            max_days=366,
        ).token
    app = limited_app(world, XINYONG_RATE_BAD_TOKEN="3/minute")
    guesser, honest = TestClient(app, client=ATTACKER), TestClient(app, client=OWNER)
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    for _ in range(10):  # valid tokens spend nothing of this bucket
        assert honest.get("/api/v1/auth/me", headers=bearer(good)).status_code == 200
    statuses = [guesser.get("/api/v1/auth/me", headers=bearer(f"xyt_guess{i}")).status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    waiting = guesser.get("/api/v1/auth/me", headers=bearer(good))  # not even looked at now
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "20"
    assert honest.get("/api/v1/auth/me", headers=bearer(good)).status_code == 200  # per client address
    rt.clock.advance(seconds=20)  # type: ignore[attr-defined]
    assert guesser.get("/api/v1/auth/me", headers=bearer(good)).status_code == 200
    with rt.engine.connect() as conn:
        failed = [e for e in entries(conn, limit=50) if e["action"] == "auth.token"]
    assert len(failed) == 3 and all(e["ip"] == ATTACKER[0] and e["outcome"] == "failed" for e in failed)
