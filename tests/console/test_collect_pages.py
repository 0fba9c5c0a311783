"""数据归集 in the console: a provider's clerk uploads, sees its batch with problems grouped by code and
downloads the feedback; another provider's batch is 403 and audited; the credit office sees everyone's."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from collect.conftest import DEPT, DEPT2, csv_bytes, penalty
from xinyong.security.models import audit_log

from .conftest import World, dept2_rows

BAD_CODE = "91420100MA4K00010X"


def upload(client: TestClient, item: str, rows: list[dict[str, Any]]) -> Any:
    return client.post(
        "/console/upload",
        data={"item": item},
        files={"file": ("处罚.csv", csv_bytes(rows).encode("utf-8"), "text/csv")},
    )


def test_a_clerk_uploads_a_file_with_errors_and_sees_them_grouped_with_the_feedback(world: World) -> None:
    clerk = world.client("clerk")
    form = clerk.get("/console/upload")
    assert form.status_code == 200
    assert 'value="XZCF"' in form.text and 'value="XZXK"' not in form.text  # its declaration: XZCF only
    rows = [penalty(i) for i in range(1, 6)]
    for row in rows[3:]:
        row["行政相对人代码_1(统一社会信用代码)"] = BAD_CODE
    answer = upload(clerk, "XZCF", rows)
    assert answer.status_code == 303
    page = clerk.get(answer.headers["location"])
    assert page.status_code == 200
    assert 'data-count="received"><span class="n">5<' in page.text
    assert 'data-count="rejected"><span class="n">2<' in page.text
    assert 'data-code="row.' in page.text  # the problems, grouped by code
    batch_id = int(answer.headers["location"].rsplit("/", 1)[1])
    feedback = clerk.get(f"/api/v1/batches/{batch_id}/errors?format=csv")
    assert feedback.status_code == 200 and BAD_CODE in feedback.text
    assert f"/api/v1/batches/{batch_id}/errors?format=xlsx" in page.text


def test_an_undeclared_item_is_refused_with_a_bilingual_page(world: World) -> None:
    clerk = world.client("clerk")
    answer = upload(clerk, "XZXK", [penalty(1)])
    batch = clerk.get(answer.headers["location"]) if answer.status_code == 303 else answer
    assert "XZXK" in batch.text and "refused" in batch.text  # a refused batch naming the item


def test_another_providers_batch_is_403_and_the_attempt_is_audited(world: World) -> None:
    theirs = world.send(dept2_rows(3, bad=1), submitter=DEPT2)
    mine = world.send([penalty(1)], submitter=DEPT)
    clerk = world.client("clerk")
    assert clerk.get(f"/console/batches/{mine.batch_id}").status_code == 200  # its own: shown
    refused = clerk.get(f"/console/batches/{theirs.batch_id}", headers={"accept": "text/html"})
    assert refused.status_code == 403
    assert "只能处理本单位的信息" in refused.text
    with world.runtime.engine.connect() as conn:
        denied = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.object_type, audit_log.c.object_id).where(
                audit_log.c.action == "access.denied"
            )
        ).all()
    assert ("user:clerk", "batch", str(theirs.batch_id)) in [(a, t, str(i)) for a, t, i in denied]


def test_the_clerk_lists_only_its_own_batches_the_credit_office_every_one(world: World) -> None:
    theirs = world.send(dept2_rows(2), submitter=DEPT2)
    mine = world.send([penalty(1)], submitter=DEPT)
    listed = world.client("clerk").get("/console/batches").text
    assert f'data-batch="{mine.batch_id}"' in listed and f'data-batch="{theirs.batch_id}"' not in listed
    office = world.client("operator")
    everyone = office.get("/console/batches").text
    assert f'data-batch="{mine.batch_id}"' in everyone and f'data-batch="{theirs.batch_id}"' in everyone
    assert office.get(f"/console/batches/{theirs.batch_id}").status_code == 200


def test_a_declared_feed_not_received_in_its_period_is_overdue(world: World) -> None:
    world.send(dept2_rows(2), submitter=DEPT2)  # June: XZCF from 宜昌; its XZXK never comes
    world.clock.set("2026-07-02T09:00:00")
    page = world.client("operator").get("/console/feeds").text
    assert f'data-feed="{DEPT2}-XZXK" data-overdue="yes"' in page
    assert f'data-feed="{DEPT2}-XZCF" data-overdue="no"' in page  # the sibling that came: on schedule
    assert f'data-feed="{DEPT}-XZCF" data-overdue="yes"' in page
    own = world.client("clerk2").get("/console/feeds").text
    assert DEPT not in own.replace(DEPT2, "")  # a clerk sees its own declarations only


def test_signing_in_with_a_wrong_password_shows_the_form_again(world: World) -> None:
    client = world.client()
    answer = client.post("/console/login", data={"username": "clerk", "password": "wrong-password-here"})
    assert answer.status_code == 401 and "用户名或密码错误" in answer.text
    assert client.get("/console/batches").status_code == 403
    assert world.client("clerk").get("/console/batches").status_code == 200
