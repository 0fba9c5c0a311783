"""A small world with one account per role, for the security tests.

The subject everyone looks at is an enterprise (GB 32100's example code) with its own account; a natural
person (GB 11643's example number) has one too. The agency is qualified, has quota, and holds the
enterprise's authorisation through a registered lookup (the rights chapter's table stands in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from xinyong.codes import make_uscc
from xinyong.rights import service as rights
from xinyong.runtime import Runtime
from xinyong.security import access
from xinyong.security.accounts import create_subject_account, create_user
from xinyong.security.organisations import add_organisation, review_agency
from xinyong.security.principal import Principal
from xinyong.security.proofing import CounterProofing, SubjectClaim
from xinyong.security.settings import SecuritySettings
from xinyong.subjects import service
from xinyong.subjects.service import Candidate
from xinyong.web.app import create_app
from xinyong.web.deps import CSRF_HEADER

PASSWORD = "correct-horse-battery-staple"
ENTERPRISE_USCC = "91350100M000100Y43"
PERSON_ID = "11010519491231002X"
CREDIT_OFFICE = make_uscc("1", "2", "420000", "Q0000002")
PROVIDER = make_uscc("1", "1", "420000", "Q0000023")
GOVERNMENT = make_uscc("1", "1", "420100", "Q0100050")
AGENCY = make_uscc("9", "1", "420100", "MA4K0001")
RELAXED = {
    "XINYONG_RATE_PUBLIC": "100000/minute",
    "XINYONG_RATE_LOGIN": "100000/minute",
    "XINYONG_RATE_USER": "100000/minute",
    "XINYONG_RATE_TOKEN": "100000/minute",
    "XINYONG_RATE_BAD_TOKEN": "100000/minute",
}


@pytest.fixture(autouse=True)
def _cheap_passwords(cheap_password_hashing: None) -> None:
    """Every test here signs in: hash passwords cheaply (the root conftest says why)."""


@pytest.fixture
def rates() -> dict[str, str]:
    return dict(RELAXED)


@pytest.fixture
def sec(runtime: Runtime) -> SecuritySettings:
    return SecuritySettings.load(runtime.settings)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
def authorised_everything() -> Iterator[None]:
    """Stand-in for the rights chapter: every agency holds every subject's authorisation."""
    access.register_authorisation_lookup(lambda conn, **_: True)
    yield
    access.register_authorisation_lookup(None)


@dataclass
class World:
    app: FastAPI
    runtime: Runtime
    enterprise_id: int
    person_id: int
    usernames: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None) -> TestClient:
        """A TestClient signed in as the account holding `role` (None or "public": not signed in)."""
        client = TestClient(self.app)
        if role in (None, "public"):
            return client
        return login(client, self.usernames[role])


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers[CSRF_HEADER] = response.json()["csrf_token"]
    return client


@pytest.fixture
def world(app: FastAPI, runtime: Runtime, sec: SecuritySettings, authorised_everything: None) -> World:
    return build_world(app, runtime, sec)


# The purpose the agency declares in route_matrix.yaml, and the one the enterprise authorises it for.
GRANTED_PURPOSE = "行政许可审查"


@pytest.fixture
def granted_world(app: FastAPI, runtime: Runtime, sec: SecuritySettings) -> World:
    """The same world with the rights chapter's real authorisation check: the enterprise has granted the
    agency a written authorisation (授权书) for one purpose, through the rights service."""
    rights.install()
    built = build_world(app, runtime, sec)
    with runtime.engine.begin() as conn:
        rights.grant(
            conn,
            subject_id=built.enterprise_id,
            organisation_uscc=AGENCY,
            purpose=GRANTED_PURPOSE,
            valid_until=dt.date(2027, 6, 30),
            clock=runtime.clock,
            principal=Principal.system("test"),
        )
    return built


def build_world(app: FastAPI, runtime: Runtime, sec: SecuritySettings) -> World:
    clock = runtime.clock
    with runtime.engine.begin() as conn:
        orgs: list[tuple[str, str, str]] = [
            (CREDIT_OFFICE, "湖北省信用信息中心", "credit_office"),
            (PROVIDER, "湖北省市场监督管理局", "provider"),
            (GOVERNMENT, "武汉市政务服务和大数据管理局", "government"),
            (AGENCY, "武汉某信用评级有限公司", "agency"),
        ]
        for uscc, name, kind in orgs:
            add_organisation(conn, name=name, uscc=uscc, kind=kind, clock=clock)
        review_agency(
            conn, uscc=AGENCY, status="approved", quota_per_month=1000, reviewed_by="test", clock=clock
        )
        enterprise, person = service.resolve_many(
            conn,
            [
                Candidate({"uscc": ENTERPRISE_USCC}, name="福州某某科技有限公司"),
                Candidate({"idcard": PERSON_ID}, name="张三丰", kind="natural_person"),
            ],
            clock=clock,
            protector=runtime.protector,
        )
        staff = {
            "platform_admin": ("admin", CREDIT_OFFICE),
            "credit_office": ("operator", CREDIT_OFFICE),
            "provider": ("samr", PROVIDER),
            "government": ("wuhan-gov", GOVERNMENT),
            "agency": ("rating", AGENCY),
        }
        for role, (username, org) in staff.items():
            create_user(
                conn,
                username=username,
                display_name=username,
                role=role,
                password=PASSWORD,
                organisation_uscc=org,
                clock=clock,
                settings=sec,
            )
        counter = {"checked_by": "operator", "document": "营业执照、法定代表人身份证"}
        create_subject_account(
            conn,
            claim=SubjectClaim("enterprise", ENTERPRISE_USCC, "福州某某科技有限公司", counter),
            proofing=CounterProofing(),
            password=PASSWORD,
            username="fuzhou-co",
            clock=clock,
            protector=runtime.protector,
            settings=sec,
        )
        create_subject_account(
            conn,
            claim=SubjectClaim(
                "person", PERSON_ID, "张三丰", {"checked_by": "operator", "document": "居民身份证"}
            ),
            proofing=CounterProofing(),
            password=PASSWORD,
            username="zhang",
            clock=clock,
            protector=runtime.protector,
            settings=sec,
        )
    usernames = {role: username for role, (username, _) in staff.items()} | {
        "subject": "fuzhou-co",
        "person": "zhang",
    }
    return World(app, runtime, enterprise.subject_id, person.subject_id, usernames)


def rows(engine: sa.Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query))
