"""A natural person's name never reaches the public unmasked, by any channel (page, API, CSV, search):
not the name field, not 法定代表人 / 负责人 / 经营者. Government and authorised audiences see what they may.

Three subjects beside the timeline's person 张三丰 (whose penalty here also names him as 法定代表人):
an 个体工商户 registered under its operator's bare name (李小龙, a person's name: masked, not searchable by
it) and one with a trade name (武汉市江岸区李记热干面馆: shown, its 经营者 李四光 masked).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from disclose.builders import PERSON_ID, PERSON_NAME, SUBMITTER, _penalty, write_file
from xinyong.codes import make_uscc
from xinyong.collect.service import ingest
from xinyong.rights import service as rights
from xinyong.security.principal import Principal

from .conftest import AGENCY, PURPOSE, Portal

HTML = {"accept": "text/html"}
BARE = ("李小龙", make_uscc("9", "2", "420102", "MA4KBR01"))
TRADE = ("武汉市江岸区李记热干面馆", make_uscc("9", "2", "420102", "MA4KBR02"))
OPERATOR = "李四光"
NAMES = (PERSON_NAME, BARE[0], OPERATOR)  # must never reach the public in full


@pytest.fixture
def people(portal: Portal, tmp_path: Path) -> Portal:
    rows = [
        _penalty(
            "武环罚〔2026〕21号",
            "2026-05-02",
            "罚款",
            fine="0.5",
            who=(PERSON_NAME, "自然人", PERSON_ID),
            fr=PERSON_NAME,
        ),
        _penalty(
            "武环罚〔2026〕22号",
            "2026-05-03",
            "罚款",
            fine="0.5",
            who=(BARE[0], "个体工商户", BARE[1]),
            fr=BARE[0],
        ),
        _penalty(
            "武环罚〔2026〕23号",
            "2026-05-04",
            "罚款",
            fine="0.5",
            who=(TRADE[0], "个体工商户", TRADE[1]),
            fr=OPERATOR,
        ),
    ]
    t = portal.timeline
    path = write_file(tmp_path / "people.csv", t.catalog, "XZCF", rows)
    assert ingest(portal.runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER).rejected == 0
    with portal.runtime.engine.begin() as conn:
        rights.grant(
            conn,
            subject_id=t.person_id,
            organisation_uscc=AGENCY,
            purpose=PURPOSE,
            valid_until=dt.date(2027, 6, 30),
            clock=portal.runtime.clock,
            principal=Principal.system("test"),
        )
    return portal


def listed(client, item: str = "XZCF") -> list[dict]:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/records", params={"item": item, "limit": 100}).json()
    return body["items"]


def no_names(text: str, where: str) -> None:
    leaked = [n for n in NAMES if n in text]
    assert not leaked, f"{where}: {leaked}"


def test_the_public_sees_no_persons_name_on_any_channel(people: Portal) -> None:
    client = people.client("public")
    rows = listed(client)
    mine = {r["source_key"]: r for r in rows if r["source_key"].startswith("武环罚〔2026〕2")}
    assert mine["武环罚〔2026〕21号"]["data"]["fr"] == "张**"
    assert mine["武环罚〔2026〕22号"]["subject"]["name"] == "李**"
    assert mine["武环罚〔2026〕22号"]["data"]["xdr_mc"] == "李**"
    assert mine["武环罚〔2026〕23号"]["subject"]["name"] == TRADE[0]  # a trade name is not a person's
    assert mine["武环罚〔2026〕23号"]["data"]["fr"] == "李**"
    codes = {r["subject"]["code"] for r in mine.values()}
    texts = {"list API": client.get("/api/v1/records", params={"item": "XZCF", "limit": 100}).text}
    texts["list CSV"] = client.get("/api/v1/records", params={"item": "XZCF", "format": "csv"}).text
    texts["list page"] = client.get("/publicity/penalties", headers=HTML).text
    for code in codes:
        texts[f"subject API {code}"] = client.get(f"/api/v1/subjects/{code}").text
        texts[f"subject CSV {code}"] = client.get(f"/api/v1/subjects/{code}", params={"format": "csv"}).text
        texts[f"subject page {code}"] = client.get(f"/subjects/{code}", headers=HTML).text
    for r in mine.values():
        texts[f"notice API {r['id']}"] = client.get(f"/api/v1/records/{r['id']}").text
        texts[f"notice page {r['id']}"] = client.get(f"/notices/{r['id']}", headers=HTML).text
    for q in (PERSON_ID, BARE[1], TRADE[1], "热干面馆", "李记"):
        texts[f"search API {q}"] = client.get("/api/v1/search", params={"q": q}).text
        texts[f"search CSV {q}"] = client.get("/api/v1/search", params={"q": q, "format": "csv"}).text
        texts[f"search page {q}"] = client.get("/search", params={"q": q}, headers=HTML).text
    assert all("李**" in texts[f"subject page {c}"] or "张**" in texts[f"subject page {c}"] for c in codes)
    for where, text in texts.items():
        no_names(text, where)


def test_a_bare_personal_name_is_no_search_key(people: Portal) -> None:
    client = people.client("public")
    by_name = client.get("/api/v1/search", params={"q": BARE[0]}).json()["results"]
    assert by_name == []  # searching 李小龙 does not confirm that 李小龙 has a record
    by_code = client.get("/api/v1/search", params={"q": BARE[1]}).json()["results"]
    assert [h["name"] for h in by_code] == ["李**"]
    trade = client.get("/api/v1/search", params={"q": "热干面馆"}).json()["results"]
    assert [h["name"] for h in trade] == [TRADE[0]]


def test_government_and_authorised_audiences_see_the_names(people: Portal) -> None:
    code = next(
        r["subject"]["code"]
        for r in listed(people.client("public"))
        if r["source_key"] == "武环罚〔2026〕21号"
    )
    for audience, level, purpose in (
        ("government", "government", "行政许可审查"),
        ("authorised", "authorised", PURPOSE),
    ):
        client = people.client(audience)
        body = client.get(f"/api/v1/subjects/{code}", params={"level": level, "purpose": purpose}).json()
        assert body["name"] == PERSON_NAME, audience
        frs = {r["source_key"]: r["data"].get("fr") for r in body["records"]}
        assert frs["武环罚〔2026〕21号"] == PERSON_NAME, audience
        page = client.get(f"/subjects/{code}", params={"level": level, "purpose": purpose}, headers=HTML)
        assert PERSON_NAME in page.text, audience
        exported = client.get(
            f"/api/v1/subjects/{code}", params={"level": level, "purpose": purpose, "format": "csv"}
        )
        assert exported.status_code == 200 and PERSON_NAME in exported.text, audience
