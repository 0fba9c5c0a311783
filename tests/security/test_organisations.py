"""The organisation tree and its Hubei seed; roles as data."""

from __future__ import annotations

import pytest

from xinyong.codes import check_uscc
from xinyong.problems import ProblemError
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation, list_organisations, load_organisations, subtree
from xinyong.security.roles import load_roles, parse_roles

from .conftest import PROVIDER


def test_hubei_seed_is_the_tree_of_the_inspection_report(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        first = load_organisations(conn, runtime.clock)
        again = load_organisations(conn, runtime.clock)
        tree = list_organisations(conn)
    assert (first.created, first.existing) == (135, 0) and (again.created, again.existing) == (0, 135)
    root = tree[0]
    assert root["depth"] == 0 and root["kind"] == "credit_office" and root["division_code"] == "420000"
    providers = [o for o in tree if o["kind"] == "provider"]
    systems = [o for o in tree if o["kind"] == "credit_office" and o["division_code"] != "420000"]
    assert len(providers) == 46 and all(o["parent_uscc"] == root["uscc"] for o in providers)
    assert len(systems) == 87  # 17 prefecture-level + 70 county-level collection systems
    prefectures = [o for o in systems if o["depth"] == 1]
    counties = [o for o in systems if o["depth"] == 2]
    assert len(prefectures) == 17 and len(counties) == 70
    by_id = {o["uscc"]: o for o in tree}
    assert all(by_id[c["parent_uscc"]]["division_code"][:4] == c["division_code"][:4] for c in counties)
    assert all(check_uscc(o["uscc"]).valid for o in tree)
    assert {"湖北省公安厅", "国家税务总局湖北省税务局", "湖北省高级人民法院"} <= {
        o["name"] for o in providers
    }


def test_adding_checks_code_kind_and_parent(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        add_organisation(
            conn, name="省市场监管局", uscc=PROVIDER.lower(), kind="provider", clock=runtime.clock
        )
        cases = [
            ({"uscc": "91350100M000100Y44", "kind": "provider"}, "code.check_char"),
            ({"uscc": "91350100M000100Y43", "kind": "bank"}, "security.org_kind"),
            ({"uscc": PROVIDER, "kind": "provider"}, "security.org_exists"),
            (
                {"uscc": "91350100M000100Y43", "kind": "agency", "parent_uscc": "91420100MA4K00016X"},
                "security.org_parent",
            ),
        ]
        for values, code in cases:
            with pytest.raises(ProblemError) as refused:
                add_organisation(conn, name="某机构", clock=runtime.clock, **values)  # type: ignore[arg-type]
            assert code in {p.code for p in refused.value.problems}, refused.value


def test_subtree_is_the_organisation_and_everything_below_it(runtime: Runtime) -> None:
    """Whose records an organisation may send (collect/ownership.py): itself and what it forwards for."""
    with runtime.engine.begin() as conn:
        load_organisations(conn, runtime.clock)
        tree = list_organisations(conn)
        root = tree[0]["uscc"]
        wuhan = next(o for o in tree if o["name"].startswith("武汉市社会信用体系建设领导小组办公室"))
        counties = {o["uscc"] for o in tree if o["parent_uscc"] == wuhan["uscc"]}
        police = next(o["uscc"] for o in tree if o["name"] == "湖北省公安厅")
        assert set(subtree(conn, wuhan["uscc"])) == {wuhan["uscc"], *counties} and len(counties) == 6
        assert set(subtree(conn, root)) == {o["uscc"] for o in tree}  # the root forwards for everyone
        assert subtree(conn, police) == {police: "湖北省公安厅"}  # a department: only itself
        county = sorted(counties)[0]
        assert set(subtree(conn, county.lower())) == {county}  # a code as typed finds the organisation
        assert subtree(conn, "91420100MA4K00016X") == {}  # unknown: nobody


def test_roles_file_is_complete_and_every_grant_has_a_source() -> None:
    book = load_roles()
    assert set(book.roles) == {
        "public",
        "subject",
        "agency",
        "provider",
        "government",
        "credit_office",
        "platform_admin",
    }
    assert all(g.source.strip() for role in book.roles.values() for g in role.grants)
    assert book.permissions_of("government") >= {"ops.health", "subject.read"}  # inherited from public
    assert "audit.read" not in book.permissions_of("credit_office")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("    grants: [{permission: nothing.like.it, source: x}]", "not declared"),
        ("    grants: [{permission: subject.read, source: x}]", "list `levels`"),
        ("    grants: [{permission: ops.health, levels: [public], source: x}]", "no disclosure levels"),
        ("    inherits: [b]\n", "cycle"),
    ],
)
def test_roles_file_is_validated(broken: str, message: str) -> None:
    head = """
version: 1
levels: {public: {zh: 公开, en: public}, authorised: {zh: 授权查询, en: a}, government: {zh: 政务共享, en: g}}
audiences: {public: {zh: 公众, en: p, sees: [public], source: s}}
permissions: {ops.health: {zh: x, en: x}, subject.read: {zh: x, en: x, levels: true}}
roles:
  a:
    zh: a
    en: a
    principals: [user]
    audience: public
"""
    tail = (
        "  b: {zh: b, en: b, principals: [user], audience: public, inherits: [a]}\n"
        if "cycle" in message
        else ""
    )
    with pytest.raises(ProblemError, match=message):
        parse_roles(head + broken + "\n" + tail)
