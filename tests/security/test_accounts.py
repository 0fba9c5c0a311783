"""Accounts: roles fit organisations, passwords, lock-out, subject accounts and identity proofing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from xinyong.problems import ProblemError
from xinyong.runtime import Runtime
from xinyong.security import passwords
from xinyong.security.accounts import authenticate, create_subject_account, create_user, set_user_status
from xinyong.security.errors import AuthenticationFailed
from xinyong.security.models import user_sessions, users
from xinyong.security.organisations import add_organisation
from xinyong.security.proofing import CounterProofing, DemoProofing, SubjectClaim, load_proofing
from xinyong.security.settings import SecuritySettings

from .conftest import AGENCY, PASSWORD, PERSON_ID, PROVIDER, World


def sign_in(
    runtime: Runtime, sec: SecuritySettings, login: str, password: str = PASSWORD, ip: str = "10.1.2.3"
):
    with runtime.engine.begin() as conn:
        return authenticate(
            conn,
            login=login,
            password=password,
            clock=runtime.clock,
            protector=runtime.protector,
            settings=sec,
            ip=ip,
        )


def test_production_hashing_is_argon2id_at_rfc9106_cost(production_password_hashing: None) -> None:
    stored = passwords.hash_password("a long enough password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106 low-memory: 64 MiB, 3 passes
    assert passwords.verify_password(stored, "a long enough password")
    assert not passwords.verify_password(stored, "a long enough passwore")
    assert not passwords.needs_rehash(stored)
    # A hash made at a lower cost (an older release, or the test suites' cheap hasher) is upgraded at sign-in.
    assert passwords.needs_rehash(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("x"))


def test_roles_fit_organisation_kinds(runtime: Runtime, sec: SecuritySettings) -> None:
    with runtime.engine.begin() as conn:
        add_organisation(conn, name="某评级公司", uscc=AGENCY, kind="agency", clock=runtime.clock)
        add_organisation(conn, name="省市场监管局", uscc=PROVIDER, kind="provider", clock=runtime.clock)
        create_user(
            conn,
            username="ok-user",
            display_name="x",
            role="agency",
            password=PASSWORD,
            organisation_uscc=AGENCY,
            clock=runtime.clock,
            settings=sec,
        )
        for role, org in (
            ("government", AGENCY),
            ("platform_admin", PROVIDER),
            ("public", AGENCY),
            ("subject", AGENCY),
        ):
            with pytest.raises(ProblemError) as refused:
                create_user(
                    conn,
                    username=f"x-{role}",
                    display_name="x",
                    role=role,
                    password=PASSWORD,
                    organisation_uscc=org,
                    clock=runtime.clock,
                    settings=sec,
                )
            assert refused.value.problems[0].code in {"security.role_kind", "security.role_not_for_users"}


def test_password_and_username_rules(runtime: Runtime, sec: SecuritySettings) -> None:
    with runtime.engine.begin() as conn:
        add_organisation(conn, name="某评级公司", uscc=AGENCY, kind="agency", clock=runtime.clock)
        for username, password, code in (
            ("short-pw", "short", "security.password_short"),
            ("wang.wei", "wang.wei-is-my-password", "security.password_username"),
            ("Bad Name", PASSWORD, "security.username"),
        ):
            with pytest.raises(ProblemError) as refused:
                create_user(
                    conn,
                    username=username,
                    display_name="x",
                    role="agency",
                    password=password,
                    organisation_uscc=AGENCY,
                    clock=runtime.clock,
                    settings=sec,
                )
            assert refused.value.problems[0].code == code


def lock_out(rt: Runtime, sec: SecuritySettings, login: str, ip: str = "10.1.2.3") -> None:
    for _ in range(sec.login_max_failures):
        assert isinstance(sign_in(rt, sec, login, "wrong password!", ip).error, AuthenticationFailed)


def test_wrong_passwords_lock_out_that_client_only(world: World, sec: SecuritySettings) -> None:
    rt = world.runtime
    lock_out(rt, sec, "admin")
    locked = sign_in(rt, sec, "admin")  # the right password, from the locked-out address: refused
    assert isinstance(locked.error, AuthenticationFailed) and locked.user_id is None
    elsewhere = sign_in(rt, sec, "admin", ip="10.9.9.9")  # the owner, from their own address: in
    assert elsewhere.error is None and elsewhere.user_id is not None
    rt.clock.advance(minutes=sec.lockout_minutes + 1)  # type: ignore[attr-defined]
    assert sign_in(rt, sec, "admin").error is None
    with rt.engine.connect() as conn:
        from xinyong.security.audit import entries

        actions = [(e["action"], e["outcome"]) for e in entries(conn, actor="user:admin", limit=20)]
    assert ("auth.lock", "denied") in actions and actions[0] == ("auth.login", "ok")


def test_each_further_lock_out_of_a_client_doubles(world: World, sec: SecuritySettings) -> None:
    rt = world.runtime
    lock_out(rt, sec, "operator")
    rt.clock.advance(minutes=sec.lockout_minutes + 1)  # type: ignore[attr-defined]
    lock_out(rt, sec, "operator")  # the second lock-out of this address: twice as long
    rt.clock.advance(minutes=sec.lockout_minutes + 1)  # type: ignore[attr-defined]
    assert sign_in(rt, sec, "operator").error is not None  # still locked
    rt.clock.advance(minutes=sec.lockout_minutes)  # type: ignore[attr-defined]
    assert sign_in(rt, sec, "operator").error is None  # 2 x 15 minutes have passed
    with rt.engine.connect() as conn:
        from xinyong.security.audit import entries

        minutes = [
            e["detail"]["minutes"] for e in entries(conn, actor="user:operator") if e["action"] == "auth.lock"
        ]
    assert minutes == [2 * sec.lockout_minutes, sec.lockout_minutes]  # newest first
    lock_out(rt, sec, "operator")
    assert sign_in(rt, sec, "operator").error is not None
    with rt.engine.begin() as conn:  # an administrator re-enabling the account lifts lock-outs at once
        set_user_status(conn, username="operator", status="active", clock=rt.clock)
    assert sign_in(rt, sec, "operator").error is None


def test_every_failure_gets_the_same_answer_after_the_same_work(
    world: World, sec: SecuritySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = world.runtime
    verifications: list[str] = []
    hasher = passwords._hasher()

    class Counting(type(hasher)):  # type: ignore[misc]
        def verify(self, stored: str, password: str) -> bool:
            verifications.append(password)
            return hasher.verify(stored, password)

    counting = Counting(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: counting)
    lock_out(rt, sec, "admin", ip="10.5.5.5")
    with rt.engine.begin() as conn:
        set_user_status(conn, username="samr", status="disabled", clock=rt.clock)
    failures = {
        "unknown": sign_in(rt, sec, "nobody-here", "a guess"),
        "disabled": sign_in(rt, sec, "samr", "a guess"),
        "wrong password": sign_in(rt, sec, "operator", "a guess"),
        "locked out": sign_in(rt, sec, "admin", PASSWORD, ip="10.5.5.5"),
    }
    bodies = {name: outcome.error.body() for name, outcome in failures.items() if outcome.error}
    assert len(bodies) == 4 and len({str(b) for b in bodies.values()}) == 1, bodies
    assert {o.error.status for o in failures.values() if o.error} == {401}
    assert verifications[-4:] == ["a guess", "a guess", "a guess", PASSWORD]  # one hash each, every time
    assert len(verifications) == sec.login_max_failures + 4


def test_disabling_ends_sessions_at_once(world: World) -> None:
    client = world.client("provider")
    assert client.get("/api/v1/auth/me").json()["principal"]["role"] == "provider"
    with world.runtime.engine.begin() as conn:
        set_user_status(conn, username="samr", status="disabled", clock=world.runtime.clock)
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(user_sessions)
                .where(
                    user_sessions.c.revoked_at.is_(None),
                    user_sessions.c.user_id
                    == sa.select(users.c.id).where(users.c.username == "samr").scalar_subquery(),
                )
            ).scalar_one()
            == 0
        )
    assert client.get("/api/v1/auth/me").json()["principal"]["role"] == "public"


def test_a_person_signs_in_with_their_id_number_which_is_never_stored(
    world: World, sec: SecuritySettings
) -> None:
    outcome = sign_in(world.runtime, sec, PERSON_ID.lower())
    assert outcome.error is None
    with world.runtime.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == outcome.user_id)).mappings().one()
    assert row["username"].startswith("zhang") and row["person_masked"] == "1101**********002X"
    assert PERSON_ID not in str(dict(row)) and row["display_name"] == "张**"
    assert world.runtime.protector.decrypt(row["person_cipher"]) == PERSON_ID


def test_subject_accounts_need_proofing(runtime: Runtime, sec: SecuritySettings) -> None:
    claim = SubjectClaim("person", PERSON_ID, "张三丰")
    with runtime.engine.begin() as conn, pytest.raises(ProblemError, match="counter_evidence"):
        create_subject_account(
            conn,
            claim=claim,
            proofing=CounterProofing(),
            password=PASSWORD,
            clock=runtime.clock,
            protector=runtime.protector,
            settings=sec,
        )
    bad = SubjectClaim(
        "enterprise", "91350100M000100Y44", "错码公司", {"checked_by": "op", "document": "营业执照"}
    )
    with runtime.engine.begin() as conn, pytest.raises(ProblemError):
        create_subject_account(
            conn,
            claim=bad,
            proofing=CounterProofing(),
            password=PASSWORD,
            clock=runtime.clock,
            protector=runtime.protector,
            settings=sec,
        )


def test_proofing_adapters_load_by_name() -> None:
    assert isinstance(load_proofing("counter", demo=False), CounterProofing)
    assert isinstance(load_proofing("demo", demo=True), DemoProofing)
    assert isinstance(load_proofing("xinyong.security.proofing:CounterProofing", demo=False), CounterProofing)
    with pytest.raises(ProblemError, match="demo_refused"):
        load_proofing("demo", demo=False)
    with pytest.raises(ProblemError, match=r"proofing\.unknown"):
        load_proofing("face-scan", demo=False)
