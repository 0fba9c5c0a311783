"""One subject, every channel, every audience: the page, the JSON API and the CSV export agree."""

from __future__ import annotations

import csv
import io
import re

import pytest

from disclose.builders import COMPANY
from xinyong.disclose.service import disclose

from .conftest import AUDIENCES, Portal

# What each audience sees of the company on the load day (tests/disclose/test_timeline.py explains why).
EXPECTED = {
    "public": {"P2", "P4", "L1", "L2"},
    "self": {"P1", "P2", "P3", "P4", "L1", "L2"},
    "authorised": {"P2", "P4", "L1", "L2"},
    "government": {"P1", "P2", "P3", "P4", "L1", "L2"},
    "platform": {"P1", "P2", "P3", "P4", "P5", "L1", "L2"},
}


def ask(portal: Portal, audience: str) -> tuple[list[int], list[int], list[int], dict[str, object]]:
    _, level, purpose = AUDIENCES[audience]
    client = portal.client(audience)
    params = {"level": level, **({"purpose": purpose} if purpose else {})}
    page = client.get(f"/subjects/{COMPANY}", params=params, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    page_ids = [int(i) for i in re.findall(r'data-record-id="(\d+)"', page.text)]
    api = client.get(f"/api/v1/subjects/{COMPANY}", params=params)
    assert api.status_code == 200, api.text
    body = api.json()
    api_ids = [r["id"] for r in body["records"]]
    exported = client.get(f"/api/v1/subjects/{COMPANY}", params={**params, "format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    csv_ids = [int(row[0]) for row in rows[1:]]
    assert f'data-audience="{audience}"' in page.text
    return page_ids, api_ids, csv_ids, body


@pytest.mark.parametrize("audience", list(AUDIENCES))
def test_page_api_and_csv_show_the_same_records(portal: Portal, audience: str) -> None:
    page_ids, api_ids, csv_ids, body = ask(portal, audience)
    assert page_ids == api_ids == csv_ids, "the three channels must list the same records in the same order"
    assert portal.timeline.labels(api_ids) == EXPECTED[audience]
    assert body["audience"] == audience
    # ...and the same as the service itself answers for that audience.
    with portal.runtime.engine.connect() as conn:
        direct = disclose(
            conn, subject_id=portal.timeline.company_id, audience=audience, clock=portal.runtime.clock
        )
    assert direct.record_ids == api_ids


def test_marks_and_reasons_agree_between_channels(portal: Portal) -> None:
    portal.timeline.set_state("P2", "disputed")
    *_, body = ask(portal, "public")
    p2 = next(r for r in body["records"] if r["id"] == portal.timeline.ids["P2"])
    assert [m["zh"] for m in p2["marks"]] == ["异议处理中"]
    page = portal.client("public").get(f"/subjects/{COMPANY}", headers={"accept": "text/html"}).text
    assert "异议处理中" in page
    exported = portal.client("public").get(f"/api/v1/subjects/{COMPANY}", params={"format": "csv"}).text
    assert "异议处理中" in exported


def test_asked_at_the_public_level_everyone_gets_the_public_answer(portal: Portal) -> None:
    for audience in AUDIENCES:
        response = portal.client(audience).get(f"/api/v1/subjects/{COMPANY}")
        assert response.status_code == 200
        assert portal.timeline.labels([r["id"] for r in response.json()["records"]]) == EXPECTED["public"]
        assert response.json()["audience"] == "public"


def test_non_public_queries_are_in_the_subjects_query_log(portal: Portal) -> None:
    for audience in ("authorised", "government", "platform"):
        ask(portal, audience)
    ask(portal, "self")  # the subject's own look is not a query about it by someone else
    queries = portal.client("self").get("/api/v1/me/queries").json()["queries"]
    assert len(queries) == 9  # three audiences × page, API, CSV
    who = {(q["who"], q["purpose"], q["level"], q["channel"]) for q in queries}
    assert ("武汉某信用评级有限公司", "贷款审批", "authorised", "portal") in who
    assert ("武汉市政务服务和大数据管理局", "行政许可审查", "government", "csv") in who
    assert all(q["shown"] >= 4 for q in queries)
    again = portal.client("platform").get(f"/api/v1/subjects/{COMPANY}/queries")
    assert again.status_code == 200 and len(again.json()["queries"]) == 9


# The public answer on later days (tests/disclose/test_timeline.py explains the dates): P4, under SAMR's
# three months from publication, is shown to its last day 2026-09-15 and gone on 2026-09-16; P2 (严重,
# 36 months from 2024-03-01) likewise on 2027-03-01 and 2027-03-02; L2 expires after 2026-08-31.
LATER_DAYS = [
    ("2026-08-31", {"P2", "P4", "L1", "L2"}),
    ("2026-09-01", {"P2", "P4", "L1"}),
    ("2026-09-15", {"P2", "P4", "L1"}),
    ("2026-09-16", {"P2", "L1"}),
    ("2027-03-01", {"P2", "L1"}),
    ("2027-03-02", {"L1"}),
]


def test_a_record_leaving_publicity_leaves_every_public_channel_on_that_day(portal: Portal) -> None:
    t, client = portal.timeline, portal.client("public")
    company_penalties = {"P1", "P2", "P3", "P4", "P5"}
    for on, expected in LATER_DAYS:
        # Half past midnight in China is still the day before in UTC: the day turns at China's midnight.
        portal.runtime.clock.set(f"{on}T00:30:00")  # type: ignore[attr-defined]
        page_ids, api_ids, csv_ids, _ = ask(portal, "public")
        assert t.labels(page_ids) == t.labels(api_ids) == t.labels(csv_ids) == expected, on
        # The 双公示 list of penalties: its page, its API and its CSV export.
        listed = client.get("/publicity/penalties", headers={"accept": "text/html"})
        assert listed.status_code == 200
        list_page = [int(i) for i in re.findall(r'data-record-id="(\d+)"', listed.text)]
        list_api = [r["id"] for r in client.get("/api/v1/records", params={"item": "XZCF"}).json()["items"]]
        exported = client.get("/api/v1/records", params={"item": "XZCF", "format": "csv"}).text
        list_csv = [int(row[-1]) for row in list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))[1:]]
        for channel, ids in (("page", list_page), ("api", list_api), ("csv", list_csv)):
            shown = {t.label(i) for i in ids if i in t.ids.values()} & company_penalties
            assert shown == expected & company_penalties, f"{on}: the penalty list's {channel}"
        # Each penalty's own notice, as a page and through the API.
        for label in ("P2", "P4"):
            status = 200 if label in expected else 404
            notice = client.get(f"/notices/{t.ids[label]}", headers={"accept": "text/html"})
            assert notice.status_code == status, f"{on}: notice page of {label}"
            assert client.get(f"/api/v1/records/{t.ids[label]}").status_code == status, f"{on}: {label}"
