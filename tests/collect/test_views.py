"""The batches API: upload as a provider's system (token), poll, download the feedback; who may see what."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

from xinyong.clock import FixedClock
from xinyong.codes.uscc import make_uscc
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security import passwords
from xinyong.security.accounts import create_user
from xinyong.security.models import audit_log
from xinyong.security.organisations import add_organisation
from xinyong.security.settings import SecuritySettings
from xinyong.security.tokens import issue_token
from xinyong.store.tables import batches, organisations
from xinyong.web.app import create_app
from xinyong.web.deps import CSRF_HEADER

from . import hostile
from .conftest import (
    CITY,
    COMPANY,
    DEPT,
    DEPT2,
    OF_DEPT2,
    OTHER_COMPANY,
    PERSON,
    REWRITE,
    csv_bytes,
    penalty,
    person_penalty,
    record_of,
)

PASSWORD = "correct-horse-battery-staple"
RELAXED = {f"XINYONG_RATE_{k}": "100000/minute" for k in ("PUBLIC", "LOGIN", "USER", "TOKEN")}
FEEDS = f"""
source: test
providers:
  - {{uscc: {DEPT2}, name: 宜昌市市场监督管理局, feeds: [{{item: XZXK}}]}}
"""


@dataclass
class Api:
    dept: TestClient  # provider token of the department
    other: TestClient  # provider token of another department
    city: TestClient  # credit_office token of the city collection system
    admin: TestClient  # platform administrator, signed in
    public: TestClient
    token: Callable[[str, str], TestClient]  # a token client for any organisation and role


@pytest.fixture
def api(settings: Settings, runtime: Runtime, orgs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Api:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: cheap)
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "feeds.yaml").write_text(FEEDS, encoding="utf-8")
    relaxed = Runtime(
        settings=Settings(home=settings.home, database_url=settings.database_url, extra=dict(RELAXED)),
        engine=runtime.engine,
        protector=runtime.protector,
        clock=runtime.clock,
    )
    app = create_app(relaxed)
    sec = SecuritySettings.load(relaxed.settings)

    def token(uscc: str, role: str) -> TestClient:
        with relaxed.engine.begin() as conn:
            issued = issue_token(
                conn,
                organisation_uscc=uscc,
                role=role,
                name="报送系统",
                days=30,
                created_by="test",
                clock=relaxed.clock,
                max_days=366,
            )
        return TestClient(app, headers={"Authorization": f"Bearer {issued.token}"})

    with relaxed.engine.begin() as conn:
        create_user(
            conn,
            username="admin",
            display_name="admin",
            role="platform_admin",
            password=PASSWORD,
            organisation_uscc=CITY,
            clock=relaxed.clock,
            settings=sec,
        )
    admin = TestClient(app)
    login = admin.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert login.status_code == 200, login.text
    admin.headers[CSRF_HEADER] = login.json()["csrf_token"]
    return Api(
        dept=token(DEPT, "provider"),
        other=token(DEPT2, "provider"),
        city=token(CITY, "credit_office"),
        admin=admin,
        public=TestClient(app),
        token=token,
    )


def _upload(client: TestClient, rows: list[dict[str, str | None]], **form: str) -> object:
    content = csv_bytes(rows).encode("gb18030")
    return client.post(
        "/api/v1/batches",
        files={"file": ("处罚信息.csv", content, "text/csv")},
        data={"item": "XZCF", **form},
    )


ROWS = [penalty(1), penalty(2, cf_nr_fk=None), person_penalty(3, xdr_zjhm=PERSON[:-1] + "2")]
KEY1 = "武市监罚〔2026〕1号"


def test_upload_poll_and_feedback(api: Api, engine: sa.Engine) -> None:
    response = _upload(api.dept, ROWS)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["encoding"], body["received"], body["inserted"], body["rejected"]) == (
        "done",
        "gb18030",
        3,
        1,
        2,
    )
    assert body["filename"] == "处罚信息.csv"
    batch_id = body["batch_id"]
    assert response.headers["location"] == f"/api/v1/batches/{batch_id}"

    status = api.dept.get(f"/api/v1/batches/{batch_id}")
    assert status.status_code == 200
    shown = status.json()
    assert (shown["status"], shown["rejected"], shown["rejected_open"], shown["submitter"]["uscc"]) == (
        "done",
        2,
        2,
        DEPT,
    )
    assert PERSON[:-1] not in status.text  # status and counts only: no row content

    errors = api.dept.get(f"/api/v1/batches/{batch_id}/errors", params={"format": "csv"})
    assert errors.status_code == 200 and errors.headers["content-type"].startswith("text/csv")
    assert errors.content.startswith(b"\xef\xbb\xbf")
    assert f"batch-{batch_id}-XZCF-feedback.csv" in errors.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["3", "4"] and PERSON[:-1] + "2" in rows[2]

    xlsx = api.dept.get(f"/api/v1/batches/{batch_id}/errors", params={"format": "xlsx", "lang": "en"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    book = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content))
    assert book.get_sheet_by_name("问题数据").to_python()[0][-1] == "Problems"

    with engine.connect() as conn:
        entries = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.actor, audit_log.c.organisation_uscc)
        ).all()
    ours = [e for e in entries if e.action.startswith("batch.")]
    assert [e.action for e in ours] == ["batch.submit", "batch.status", "batch.errors", "batch.errors"]
    assert all(e.actor.startswith("token:") and e.organisation_uscc == DEPT for e in ours)


def test_who_sees_a_batch(api: Api) -> None:
    batch_id = _upload(api.dept, ROWS).json()["batch_id"]  # type: ignore[attr-defined]
    status = f"/api/v1/batches/{batch_id}"
    errors = f"{status}/errors"
    assert api.other.get(status).status_code == 403  # another provider: not its batch
    assert "本单位" in api.other.get(status).json()["detail"]["message_zh"]
    assert api.other.get(errors).status_code == 403
    assert api.city.get(status).status_code == 200  # the credit office follows every submission
    assert api.city.get(errors).status_code == 200
    assert api.admin.get(status).status_code == 200  # the administrator sees status and counts ...
    assert api.admin.get(errors).status_code == 403  # ... but not rows with personal data
    assert api.public.get(status).status_code == 403
    assert api.dept.get("/api/v1/batches/999999").status_code == 404


def test_refused_file_is_422_with_the_problems(api: Api, engine: sa.Engine) -> None:
    response = _upload(api.dept, [{**penalty(1), "血型": "A"}])
    assert response.status_code == 422
    body = response.json()
    assert body["detail"]["code"] == "file.forbidden_column" and body["detail"]["field"] == "血型"
    assert body["status"] == "refused" and body["batch_id"] is not None
    assert [p["code"] for p in body["problems"]] == ["file.forbidden_column"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(batches.c.status)).scalar_one() == "refused"


def test_unknown_item_and_unsupported_file(api: Api) -> None:
    unknown = _upload(api.dept, ROWS, item="NOPE")
    assert unknown.status_code == 422 and unknown.json()["detail"]["code"] == "catalog.unknown_item"
    pdf = api.dept.post(
        "/api/v1/batches", files={"file": ("x.pdf", b"%PDF-1.4", "application/pdf")}, data={"item": "XZCF"}
    )
    assert pdf.status_code == 422 and pdf.json()["detail"]["code"] == "file.format"
    assert ".pdf" in pdf.json()["detail"]["message_zh"]
    declared = api.dept.post(
        "/api/v1/batches",
        files={"file": ("export.dat", csv_bytes(ROWS).encode(), "text/plain")},
        data={"item": "XZCF", "format": "csv"},
    )
    assert declared.status_code == 201


def test_a_provider_submits_only_for_itself(api: Api, engine: sa.Engine) -> None:
    """Issue #8 item 1 through the API: the form field, and every row's 数据来源单位, new key or existing."""
    assert _upload(api.dept, ROWS, submitter=DEPT2).status_code == 403  # the form field
    # Positive control: the city collection system, which the tree places above DEPT2, forwards its record.
    forwarded = _upload(api.city, [penalty(1, **OF_DEPT2)])
    assert forwarded.status_code == 201 and forwarded.json()["inserted"] == 1, forwarded.text
    before = record_of(engine, DEPT2, KEY1)
    assert before is not None

    # The provider's token sends DEPT2's existing record changed (penalty, amount, company), a new record in
    # DEPT2's name, and one row of its own.
    attack = _upload(
        api.dept,
        [penalty(1, **OF_DEPT2, **REWRITE, **OTHER_COMPANY), penalty(7, **OF_DEPT2), penalty(2)],
    )
    assert attack.status_code == 201, attack.text
    body = attack.json()
    assert (body["inserted"], body["updated"], body["unchanged"], body["rejected"]) == (1, 0, 0, 2)
    after = record_of(engine, DEPT2, KEY1)
    assert after == before  # value, amount, subject, version: untouched
    assert (after["data"]["cf_nr_fk"], after["data"]["xdr_dm1"]) == ("3", COMPANY)  # type: ignore[index]
    assert record_of(engine, DEPT2, "武市监罚〔2026〕7号") is None
    assert record_of(engine, DEPT, "武市监罚〔2026〕2号") is not None  # the owner itself is accepted
    feedback = api.dept.get(f"/api/v1/batches/{body['batch_id']}/errors", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(feedback.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["2", "3"]
    assert all("无权新增或更改该单位的记录" in r[-1] and "宜昌市市场监督管理局" in r[-1] for r in rows[1:])

    # The credit office loading for a provider (form field) is held to that provider's rows, the same way.
    for_dept = _upload(api.city, [penalty(3), penalty(8, **OF_DEPT2, cf_nr_fk="9")], submitter=DEPT)
    assert for_dept.status_code == 201, for_dept.text
    assert (for_dept.json()["inserted"], for_dept.json()["rejected"]) == (1, 1)
    with engine.connect() as conn:
        submitters = conn.execute(
            sa.select(organisations.c.uscc)
            .join(batches, batches.c.submitter_id == organisations.c.id)
            .where(batches.c.id == for_dept.json()["batch_id"])
        ).scalar_one()
    assert submitters == DEPT
    assert api.dept.get(f"/api/v1/batches/{for_dept.json()['batch_id']}").status_code == 200
    assert record_of(engine, DEPT2, "武市监罚〔2026〕8号") is None


def test_feed_declaration_limits_a_providers_items(api: Api) -> None:
    response = _upload(api.other, ROWS)  # DEPT2 declared only XZXK
    assert response.status_code == 422 and response.json()["detail"]["code"] == "batch.item_not_declared"


def test_uploads_leave_no_temporary_files(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _upload(api.dept, ROWS)
    _upload(api.dept, [{**penalty(1), "血型": "A"}])
    assert not list(tmp_path.glob("xinyong-upload-*"))


def test_a_provider_lists_its_own_batches_and_the_credit_office_everyones(
    api: Api, engine: sa.Engine
) -> None:
    mine = [_upload(api.dept, [penalty(n)]).json()["batch_id"] for n in (1, 2, 3)]  # type: ignore[attr-defined]
    # The credit office loads for DEPT2, whose feeds list only XZXK: a refused batch, still listed.
    for_dept2 = _upload(api.city, [penalty(7)], submitter=DEPT2)
    assert for_dept2.status_code == 422
    other = for_dept2.json()["batch_id"]  # type: ignore[attr-defined]

    own = api.dept.get("/api/v1/batches", params={"limit": 2})
    assert own.status_code == 200, own.text
    body = own.json()
    assert [b["batch_id"] for b in body["items"]] == [mine[2], mine[1]] and body["total"] == 3
    rest = api.dept.get("/api/v1/batches", params={"limit": 2, "before": body["next"]}).json()
    assert [b["batch_id"] for b in rest["items"]] == [mine[0]] and rest["next"] is None
    assert all(b["submitter"]["uscc"] == DEPT for b in body["items"] + rest["items"])

    everyone = api.city.get("/api/v1/batches").json()
    assert [b["batch_id"] for b in everyone["items"]] == [other, *reversed(mine)] and everyone["total"] == 4
    assert api.admin.get("/api/v1/batches").json()["total"] == 4  # status and counts only
    assert [(b["batch_id"], b["status"]) for b in api.other.get("/api/v1/batches").json()["items"]] == [
        (other, "refused")
    ]

    # A provider cannot look at another organisation's list; it may name itself.
    refused = api.dept.get("/api/v1/batches", params={"submitter": DEPT2})
    assert refused.status_code == 403 and "本单位" in refused.json()["detail"]["message_zh"]
    assert api.dept.get("/api/v1/batches", params={"submitter": DEPT}).json()["total"] == 3
    assert api.public.get("/api/v1/batches").status_code == 403
    assert api.dept.get("/api/v1/batches", params={"limit": 0}).status_code == 422
    with engine.connect() as conn:
        listed = conn.execute(
            sa.select(sa.func.count()).select_from(audit_log).where(audit_log.c.action == "batch.list")
        ).scalar_one()
    assert listed == 6  # every listing answered is on the record


# --------------------------------------------------------------------- hostile files (issue 8, item 7)


def _send_file(client: TestClient, name: str, content: bytes, **form: str) -> Any:
    return client.post(
        "/api/v1/batches",
        files={"file": (name, content, "application/octet-stream")},
        data={"item": "XZCF", **form},
    )


@pytest.mark.parametrize("name", list(hostile.REFUSED))
def test_a_hostile_file_is_a_422_with_its_batch(api: Api, engine: sa.Engine, name: str) -> None:
    content, code = hostile.REFUSED[name]
    response = _send_file(api.dept, name, content)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == "refused" and body["detail"]["code"] == code and body["batch_id"] is not None
    assert body["detail"]["message_zh"] and body["detail"]["message_en"]
    shown = api.dept.get(f"/api/v1/batches/{body['batch_id']}")
    assert shown.status_code == 200 and shown.json()["status"] == "refused"
    with engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.object_id)).all()
    assert ("batch.submit", str(body["batch_id"])) in [(a.action, a.object_id) for a in actions]


def test_a_refused_files_answer_quotes_no_cell(api: Api) -> None:
    response = _send_file(api.dept, "处罚.csv", hostile.stray_quote())
    assert response.status_code == 422 and response.json()["detail"]["code"] == "file.csv"
    shown = api.dept.get(f"/api/v1/batches/{response.json()['batch_id']}")
    for text in (response.text, shown.text):
        assert PERSON not in text and PERSON[:14] not in text and "张伟" not in text


def test_header_row_form_field(api: Api) -> None:
    content = ("标题\r\n\r\n说明\r\n" + csv_bytes(ROWS)).encode("gb18030")
    named = _send_file(api.dept, "titled.csv", content, header_row="4")
    assert named.status_code == 201 and named.json()["received"] == 3
    wrong = _send_file(api.dept, "titled.csv", content, header_row="2")
    assert wrong.status_code == 422 and wrong.json()["detail"]["code"] == "file.header_row"
    assert _send_file(api.dept, "titled.csv", content, header_row="0").status_code == 422


def test_a_city_system_loads_only_for_the_departments_below_it(api: Api, engine: sa.Engine) -> None:
    """A credit office naming a submitter must sit above it in the tree: another city's system is refused,
    and nothing is loaded; the city's own system is heard (the same request, positive control)."""
    other_city = make_uscc("1", "2", "420500", "Q0100003")  # 宜昌市's system: not above DEPT
    with engine.begin() as conn:
        add_organisation(
            conn,
            name="宜昌市公共信用信息平台",
            uscc=other_city,
            kind="credit_office",
            clock=FixedClock("2026-06-15T10:00:00"),
        )
    refused = _upload(api.token(other_city, "credit_office"), [penalty(1)], submitter=DEPT)
    assert refused.status_code == 403, refused.text  # type: ignore[attr-defined]
    assert refused.json()["detail"]["code"] == "batch.submitter_not_below"  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(batches)).scalar_one() == 0
    heard = _upload(api.city, [penalty(1)], submitter=DEPT)
    assert heard.status_code == 201, heard.text  # type: ignore[attr-defined]
