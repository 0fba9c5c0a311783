"""The console's world: a city credit office over two market regulators, a clerk at each, an operator at
the office, feed declarations (XINYONG_HOME/feeds.yaml), the web app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from collect.conftest import CITY, DEPT, DEPT2, OF_DEPT2, csv_bytes, penalty
from xinyong.clock import FixedClock
from xinyong.collect.service import BatchSummary, ingest
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.accounts import create_user
from xinyong.security.organisations import add_organisation
from xinyong.security.pii import PersonalIdProtector
from xinyong.security.settings import SecuritySettings
from xinyong.web.app import create_app
from xinyong.web.deps import CSRF_HEADER

PASSWORD = "correct-horse-battery-staple"
RELAXED = {f"XINYONG_RATE_{k}": "off" for k in ("PUBLIC", "LOGIN", "USER", "TOKEN", "BAD_TOKEN")}
FEEDS = f"""
source: test declarations
providers:
  - uscc: {DEPT}
    name: 武汉市市场监督管理局
    feeds: [{{item: XZCF, frequency: monthly}}]
  - uscc: {DEPT2}
    name: 宜昌市市场监督管理局
    feeds: [{{item: XZCF, frequency: monthly}}, {{item: XZXK, frequency: monthly}}]
"""
ACCOUNTS = (
    ("clerk", "provider", DEPT),
    ("clerk2", "provider", DEPT2),
    ("operator", "credit_office", CITY),
    ("admin", "platform_admin", CITY),
)


@dataclass
class World:
    runtime: Runtime
    app: FastAPI
    clock: FixedClock
    home: Path

    def client(self, username: str | None = None) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        if username:
            answer = client.post("/console/login", data={"username": username, "password": PASSWORD})
            assert answer.status_code == 303, answer.text
            client.headers[CSRF_HEADER] = client.get("/api/v1/auth/me").json()["csrf_token"]
        return client

    def send(self, rows: list[dict[str, Any]], *, submitter: str, item: str = "XZCF") -> BatchSummary:
        path = self.home / f"send-{id(rows)}-{len(rows)}.csv"
        path.write_text(csv_bytes(rows), encoding="utf-8")
        return ingest(self.runtime, path=path, item_code=item, submitter_uscc=submitter)


def build_world(engine: sa.Engine, home: Path, clock: FixedClock) -> World:
    home.mkdir(parents=True, exist_ok=True)
    (home / "feeds.yaml").write_text(FEEDS, encoding="utf-8")
    runtime = Runtime(
        settings=Settings(
            home=home, database_url=engine.url.render_as_string(hide_password=False), extra=dict(RELAXED)
        ),
        engine=engine,
        protector=PersonalIdProtector(bytes(range(64))),
        clock=clock,
    )
    sec = SecuritySettings.load(runtime.settings)
    with engine.begin() as conn:
        for uscc, name, kind, parent in (
            (CITY, "武汉市公共信用信息共享平台", "credit_office", None),
            (DEPT, "武汉市市场监督管理局", "provider", CITY),
            (DEPT2, "宜昌市市场监督管理局", "provider", CITY),
        ):
            add_organisation(conn, name=name, uscc=uscc, kind=kind, parent_uscc=parent, clock=clock)
        for username, role, org in ACCOUNTS:
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
    return World(runtime, create_app(runtime), clock, home)


@pytest.fixture
def world(engine: sa.Engine, home: Path, clock: FixedClock, cheap_password_hashing: None) -> World:
    return build_world(engine, home, clock)


def dept2_rows(n: int, *, bad: int = 0) -> list[dict[str, Any]]:
    """n penalties of 宜昌 (DEPT2), the last `bad` of them with an invalid company code."""
    rows = [penalty(100 + i, **OF_DEPT2) for i in range(n)]
    for row in rows[n - bad :]:
        row["行政相对人代码_1(统一社会信用代码)"] = "91420100MA4K00010X"
    return rows
