"""The one permission check, and audiences: deny by default, levels, owners, self, tokens, agencies."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xinyong.security import access
from xinyong.security.access import audience_for, check, consume_quota, declared_purpose
from xinyong.security.errors import AccessDenied, PurposeRequired
from xinyong.security.models import agency_qualifications
from xinyong.security.organisations import review_agency
from xinyong.security.principal import Principal
from xinyong.security.roles import LEVELS, load_roles

from .conftest import AGENCY, PROVIDER, World


def who(role: str, **kw: object) -> Principal:
    return Principal(kind="user", role=role, actor=f"user:{role}", **kw)  # type: ignore[arg-type]


def test_anonymous_sees_public_only_and_is_told_to_sign_in() -> None:
    check(Principal.anonymous(), "subject.read", level="public")
    with pytest.raises(AccessDenied) as refused:
        check(Principal.anonymous(), "subject.read", level="authorised")
    assert refused.value.problem.code == "security.forbidden"
    assert "请先登录" in refused.value.problem.message_zh and "Sign in" in refused.value.problem.message_en


def test_deny_by_default_for_unknown_roles_and_ungranted_permissions() -> None:
    with pytest.raises(AccessDenied):
        check(Principal.system("cli:x"), "ops.health")
    with pytest.raises(AccessDenied):
        check(who("provider"), "audit.read")
    with pytest.raises(ValueError, match="unknown permission"):
        check(who("provider"), "no.such.permission")


def test_level_bearing_permission_needs_a_level_except_at_the_route() -> None:
    check(who("government"), "record.read", route=True)
    with pytest.raises(ValueError, match="level"):
        check(who("government"), "record.read")
    with pytest.raises(ValueError, match="unknown disclosure level"):
        check(who("government"), "record.read", level="secret")


@pytest.mark.parametrize("role", sorted(load_roles().roles))
def test_each_role_reaches_exactly_the_levels_of_its_audience(role: str) -> None:
    """Without a subject, self/authorised audiences are the public; the others reach what they see."""
    book = load_roles()
    reach = book.audiences[book.base_audience(role)].sees
    granted = {lv for g in book.grants(role, "subject.read") for lv in g.levels}
    for level in LEVELS:
        if level in reach and level in granted:
            check(who(role), "subject.read", level=level)
        else:
            with pytest.raises(AccessDenied):
                check(who(role), "subject.read", level=level)


def test_subject_and_agency_reach_authorised_only_as_their_audience_allows() -> None:
    check(who("subject"), "subject.read", level="authorised", audience="self")
    check(who("agency"), "subject.read", level="authorised", audience="authorised")
    with pytest.raises(AccessDenied) as refused:
        check(who("agency"), "subject.read", level="authorised", audience="public")
    assert "资质审核" in refused.value.problem.message_zh  # says what an agency needs
    with pytest.raises(AccessDenied):
        check(who("subject"), "subject.read", level="government", audience="self")


def test_provider_acts_on_its_own_organisation_only() -> None:
    provider = who("provider", organisation_uscc=PROVIDER)
    check(provider, "batch.submit", route=True)
    check(provider, "batch.submit", owner=PROVIDER)
    with pytest.raises(AccessDenied, match="本单位"):
        check(provider, "batch.submit", owner=AGENCY)
    with pytest.raises(AccessDenied):
        check(provider, "batch.submit")  # an owner-scoped grant without the owner does not apply
    check(who("credit_office"), "batch.submit", owner=AGENCY)  # unscoped grant


def test_self_scoped_permissions_need_the_subject_itself() -> None:
    check(who("subject"), "objection.file", audience="self")
    with pytest.raises(AccessDenied, match="本人"):
        check(who("subject"), "objection.file", audience="public")


def test_a_token_cannot_exceed_its_scopes() -> None:
    token = Principal(kind="token", role="provider", actor="token:xyt_x", scopes=frozenset({"batch.read"}))
    check(token, "batch.read", route=True)
    with pytest.raises(AccessDenied) as refused:
        check(token, "batch.submit", route=True)
    assert "令牌" in refused.value.problem.message_zh


def test_audience_of_each_principal(world: World) -> None:
    rt = world.runtime
    with rt.engine.begin() as conn:
        from xinyong.security.accounts import principal_for_user
        from xinyong.security.models import users

        def principal(username: str) -> Principal:
            user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar_one()
            found = principal_for_user(conn, user_id, session_id=None)
            assert found is not None
            return found

        def aud(username: str, subject_id: int) -> str:
            return audience_for(conn, principal(username), subject_id=subject_id, clock=rt.clock)

        assert aud("fuzhou-co", world.enterprise_id) == "self"
        assert aud("fuzhou-co", world.person_id) == "public"
        assert aud("zhang", world.person_id) == "self"  # matched on the blind index of the ID number
        assert aud("zhang", world.enterprise_id) == "public"
        assert aud("rating", world.enterprise_id) == "authorised"
        assert aud("wuhan-gov", world.person_id) == "government"
        assert aud("operator", world.person_id) == "platform"
        assert aud("admin", world.person_id) == "public"
        assert aud("samr", world.person_id) == "public"
        assert (
            audience_for(conn, Principal.anonymous(), subject_id=world.person_id, clock=rt.clock) == "public"
        )


def test_agency_needs_authorisation_qualification_and_quota(world: World) -> None:
    rt = world.runtime
    with rt.engine.begin() as conn:
        from xinyong.security.accounts import principal_for_user
        from xinyong.security.models import users

        uid = conn.execute(sa.select(users.c.id).where(users.c.username == "rating")).scalar_one()
        agency = principal_for_user(conn, uid, session_id=None)
        assert agency is not None

        def aud() -> str:
            return audience_for(
                conn, agency, subject_id=world.enterprise_id, clock=rt.clock, purpose="贷款审查"
            )

        assert aud() == "authorised"
        access.register_authorisation_lookup(
            lambda conn, *, subject_id, **_: subject_id != world.enterprise_id
        )
        assert aud() == "public"  # no authorisation from this subject
        access.register_authorisation_lookup(lambda conn, **_: True)
        review_agency(
            conn, uscc=AGENCY, status="suspended", quota_per_month=1000, reviewed_by="t", clock=rt.clock
        )
        assert aud() == "public"
        review_agency(
            conn, uscc=AGENCY, status="approved", quota_per_month=2, reviewed_by="t", clock=rt.clock
        )
        consume_quota(conn, agency, rt.clock)
        consume_quota(conn, agency, rt.clock)
        assert aud() == "public"  # quota spent
        with pytest.raises(AccessDenied, match="配额"):
            consume_quota(conn, agency, rt.clock)
        rt.clock.advance(days=31)  # type: ignore[attr-defined]
        assert aud() == "authorised"  # a new month, a new quota
        consume_quota(conn, agency, rt.clock)
        used = conn.execute(sa.select(agency_qualifications.c.quota_used)).scalar_one()
        assert used == 1


def test_non_public_information_needs_a_declared_purpose() -> None:
    assert declared_purpose(None, level="public", audience="public") is None
    assert declared_purpose(" 贷款审查 ", level="authorised", audience="authorised") == "贷款审查"
    assert declared_purpose(None, level="authorised", audience="self") == access.SELF_QUERY_PURPOSE
    with pytest.raises(PurposeRequired) as refused:
        declared_purpose("  ", level="government", audience="government")
    assert refused.value.status == 400


def test_api_refuses_non_public_view_without_purpose_and_audits_with_it(world: World) -> None:
    gov = world.client("government")
    url = "/api/v1/subjects/11010519491231002X"
    assert gov.get(url, params={"level": "government"}).status_code == 400
    shown = gov.get(url, params={"level": "government", "purpose": "行政许可审查"}).json()
    assert shown["name"] == "张三丰" and shown["audience"] == "government"
    public = world.client().get(url).json()
    assert public["name"] == "张**" and all(
        "002X" not in i["value"] or "*" in i["value"] for i in public["identifiers"]
    )
    with world.runtime.engine.connect() as conn:
        from xinyong.security.audit import entries

        (entry,) = [e for e in entries(conn, subject_id=world.person_id) if e["action"] == "subject.read"]
    assert (
        entry["actor"] == "user:wuhan-gov"
        and entry["purpose"] == "行政许可审查"
        and entry["level"] == "government"
    )
    assert entry["subject_label"] == "张** 1101**********002X" and entry["ip"] == "testclient"
