"""The portal world: the disclosure timeline's subject, one account per audience, the web app.

public      not signed in
self        the company's own account (an enterprise acting for its USCC)
authorised  a qualified credit agency holding the company's authorisation for 贷款审批
government  a government user
platform    a credit office operator
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from disclose.builders import COMPANY, COMPANY_NAME, Timeline, build_timeline
from xinyong.catalog.loader import Catalog
from xinyong.codes import make_uscc
from xinyong.rights import service as rights
from xinyong.runtime import Runtime
from xinyong.security.accounts import create_subject_account, create_user
from xinyong.security.organisations import add_organisation, review_agency
from xinyong.security.principal import Principal
from xinyong.security.proofing import CounterProofing, SubjectClaim
from xinyong.security.settings import SecuritySettings
from xinyong.web.app import create_app
from xinyong.web.deps import CSRF_HEADER

PASSWORD = "correct-horse-battery-staple"
CREDIT_OFFICE = make_uscc("1", "2", "420000", "Q0000002")
GOVERNMENT = make_uscc("1", "1", "420100", "Q0100050")
AGENCY = make_uscc("9", "1", "420100", "MA4K0001")
PURPOSE = "贷款审批"
RELAXED = {f"XINYONG_RATE_{k}": "off" for k in ("PUBLIC", "LOGIN", "USER", "TOKEN", "BAD_TOKEN")}
# audience -> (account, the level it asks at, the purpose it declares)
AUDIENCES = {
    "public": (None, "public", None),
    "self": ("huaxin", "authorised", None),
    "authorised": ("rating", "authorised", PURPOSE),
    "government": ("wuhan-gov", "government", "行政许可审查"),
    "platform": ("operator", "government", "异议核查"),
}


@pytest.fixture(autouse=True)
def _cheap_passwords(cheap_password_hashing: None) -> None:
    """Every test here signs in: hash passwords cheaply (the root conftest says why)."""


@pytest.fixture
def rates() -> dict[str, str]:
    return dict(RELAXED)


@dataclass
class Portal:
    app: FastAPI
    timeline: Timeline
    clients: dict[str, TestClient] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        return self.timeline.runtime

    def client(self, audience: str) -> TestClient:
        if audience not in self.clients:
            client = TestClient(self.app)
            account = AUDIENCES[audience][0]
            if account:
                login(client, account)
            self.clients[audience] = client
        return self.clients[audience]


def login(client: TestClient, username: str) -> TestClient:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers[CSRF_HEADER] = response.json()["csrf_token"]
    return client


def make_portal(
    runtime: Runtime, tmp: Path, *, catalog: Catalog | None = None, authorise: bool = True
) -> Portal:
    timeline = build_timeline(runtime, tmp, catalog=catalog)
    clock = runtime.clock
    sec = SecuritySettings.load(runtime.settings)
    with runtime.engine.begin() as conn:
        for uscc, name, kind in (
            (CREDIT_OFFICE, "湖北省信用信息中心", "credit_office"),
            (GOVERNMENT, "武汉市政务服务和大数据管理局", "government"),
            (AGENCY, "武汉某信用评级有限公司", "agency"),
        ):
            add_organisation(conn, name=name, uscc=uscc, kind=kind, clock=clock)
        review_agency(
            conn, uscc=AGENCY, status="approved", quota_per_month=100, reviewed_by="test", clock=clock
        )
        for username, role, org in (
            ("operator", "credit_office", CREDIT_OFFICE),
            ("wuhan-gov", "government", GOVERNMENT),
            ("rating", "agency", AGENCY),
        ):
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
        create_subject_account(
            conn,
            claim=SubjectClaim(
                "enterprise", COMPANY, COMPANY_NAME, {"checked_by": "operator", "document": "营业执照"}
            ),
            proofing=CounterProofing(),
            password=PASSWORD,
            username="huaxin",
            clock=clock,
            protector=runtime.protector,
            settings=sec,
        )
        if authorise:
            rights.grant(
                conn,
                subject_id=timeline.company_id,
                organisation_uscc=AGENCY,
                purpose=PURPOSE,
                valid_until=dt.date(2027, 6, 30),
                clock=clock,
                principal=Principal.system("test"),
            )
    app = create_app(runtime)
    if catalog is not None:
        app.state.catalog = catalog
    return Portal(app, timeline)


@pytest.fixture
def portal(runtime: Runtime, tmp_path: Path) -> Portal:
    return make_portal(runtime, tmp_path)
