"""Uploads: who is sending and how much are settled before the body is read (web/bodies.py).

The refusals are driven through the ASGI interface itself, as a server would call the app, with a client
that announces far more than it sends: if the app tried to read the body it would wait for bytes that
never come, and the test would time out instead of getting its answer.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from collect.conftest import CITY, DEPT, csv_bytes, penalty
from xinyong.collect import views as collect_views
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation, find_organisation
from xinyong.security.tokens import issue_token
from xinyong.store.tables import batches
from xinyong.web.app import create_app

BOUNDARY = "xinyong-test-boundary"
TWO_GB = 2 << 30


@dataclass
class Site:
    app: FastAPI
    runtime: Runtime
    token: str  # a provider's API token (DEPT)


def make_site(runtime: Runtime, rates: dict[str, str], **settings: str) -> Site:
    configured = Runtime(
        settings=Settings(
            home=runtime.settings.home,
            database_url=runtime.settings.database_url,
            extra={**rates, **settings},
        ),
        engine=runtime.engine,
        protector=runtime.protector,
        clock=runtime.clock,
    )
    with runtime.engine.begin() as conn:
        if find_organisation(conn, DEPT) is None:
            add_organisation(
                conn, name="武汉市市场监督管理局", uscc=DEPT, kind="provider", clock=runtime.clock
            )
            add_organisation(
                conn, name="武汉市公共信用信息共享平台", uscc=CITY, kind="credit_office", clock=runtime.clock
            )
        issued = issue_token(
            conn,
            organisation_uscc=DEPT,
            role="provider",
            name="报送系统",
            days=30,
            created_by="test",
            clock=runtime.clock,
            max_days=366,
        )
    return Site(create_app(configured), configured, issued.token)


@pytest.fixture
def site(runtime: Runtime, rates: dict[str, str]) -> Site:
    return make_site(runtime, rates, XINYONG_UPLOAD_MAX_MB="0.05")  # 52,428 bytes


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every temporary file of the process goes here, so that a test can see what is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def multipart(content: bytes, *, item: str = "XZCF", name: str = "处罚信息.csv") -> Iterator[bytes]:
    """A multipart upload in 4 KB pieces, as a client streams it."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="item"\r\n\r\n{item}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    for at in range(0, len(content), 4096):
        yield content[at : at + 4096]
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class Answer:
    status: int
    body: bytes
    pulled: int  # body bytes the app asked the client for


def call(app: FastAPI, headers: dict[str, str], chunks: list[bytes], *, endless: bool = False) -> Answer:
    """POST /api/v1/batches through ASGI. `endless`: the client never finishes its body."""
    pending = list(chunks)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pending:
            body = pending.pop(0)
            pulled += len(body)
            return {"type": "http.request", "body": body, "more_body": endless or bool(pending)}
        await asyncio.Event().wait()  # still sending, as far as the app can tell
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/batches",
        "raw_path": b"/api/v1/batches",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "client": ("203.0.113.9", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=20))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], body, pulled)


def batch_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(batches)).scalar_one()


ROWS = csv_bytes([penalty(1), penalty(2)]).encode("utf-8")


def test_an_anonymous_upload_is_refused_before_its_body_is_read(site: Site) -> None:
    answer = call(site.app, {"content-length": str(TWO_GB)}, [b"--"], endless=True)
    assert answer.status == 403 and answer.pulled == 0
    assert b"security.forbidden" in answer.body
    bad = call(site.app, {"content-length": str(TWO_GB), "authorization": "Bearer xyt_wrong"}, [b"--"])
    assert bad.status == 401 and bad.pulled == 0


def test_a_declared_length_over_the_limit_is_413_before_reading(site: Site) -> None:
    headers = {"authorization": f"Bearer {site.token}", "content-length": str(600 << 20)}
    answer = call(site.app, headers, [b"--"], endless=True)
    assert answer.status == 413 and answer.pulled == 0
    assert b"batch.too_large" in answer.body and b"0.05 MB" in answer.body
    assert batch_count(site.runtime.engine) == 0


def test_a_chunked_body_is_cut_off_at_the_limit_and_leaves_no_file(site: Site, temp_dir: Path) -> None:
    big = ROWS + b"x" * (200 << 10)  # 200 KB against a 52 KB limit, no length announced
    chunks = list(multipart(big))
    answer = call(site.app, {"authorization": f"Bearer {site.token}"}, chunks)
    assert answer.status == 413 and b"batch.too_large" in answer.body
    assert answer.pulled <= 52_428 + 4096  # stopped at the first piece past the limit
    assert answer.pulled < sum(map(len, chunks))  # it stopped reading
    assert not list(temp_dir.iterdir()) and batch_count(site.runtime.engine) == 0


def test_an_upload_within_the_limit_is_streamed_to_a_temporary_file_and_loaded(
    site: Site, temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Path, bool, int]] = []
    real_ingest = collect_views.ingest

    def observed(runtime: Runtime, *, path: Path, **kwargs: Any) -> Any:
        seen.append((path, path.exists(), path.stat().st_size))  # during the upload
        return real_ingest(runtime, path=path, **kwargs)

    monkeypatch.setattr(collect_views, "ingest", observed)
    client = TestClient(site.app, headers={"Authorization": f"Bearer {site.token}"})
    chunked = client.post(
        "/api/v1/batches",
        content=multipart(ROWS),  # a generator: sent chunked, with no Content-Length
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert chunked.status_code == 201, chunked.text
    declared = client.post(
        "/api/v1/batches", files={"file": ("处罚信息.csv", ROWS, "text/csv")}, data={"item": "XZCF"}
    )
    assert declared.status_code == 201, declared.text
    assert [(p.name.startswith("xinyong-upload-"), exists, size) for p, exists, size in seen] == [
        (True, True, len(ROWS)),
        (True, True, len(ROWS)),
    ]
    assert temp_dir in seen[0][0].parents
    assert not list(temp_dir.glob("xinyong-upload-*"))  # and removed afterwards
    assert batch_count(site.runtime.engine) == 2


def test_the_limit_is_the_xinyong_upload_max_mb_setting(
    runtime: Runtime, rates: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_UPLOAD_MAX_MB", "0.001")  # 1,048 bytes
    small = make_site(runtime, rates)
    headers = {"authorization": f"Bearer {small.token}", "content-length": "2000"}
    assert call(small.app, headers, [b"--"], endless=True).status == 413
    client = TestClient(small.app, headers={"Authorization": f"Bearer {small.token}"})
    fits = client.post(
        "/api/v1/batches", files={"file": ("a.csv", ROWS[:300], "text/csv")}, data={"item": "XZCF"}
    )
    assert fits.status_code in (201, 422), fits.text  # read and judged: a batch exists
    assert batch_count(runtime.engine) == 1


def test_other_requests_have_a_small_body_limit(site: Site) -> None:
    client = TestClient(site.app)
    huge = client.post("/api/v1/auth/login", json={"username": "x" * (2 << 20), "password": "p"})
    assert huge.status_code == 413 and huge.json()["detail"]["code"] == "request.too_large"
    assert "1024 KB" in huge.json()["detail"]["message_zh"]
    normal = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"})
    assert normal.status_code == 401
