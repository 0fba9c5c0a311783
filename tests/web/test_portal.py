"""The portal's pages: language, forms with labels, no external assets, lists whose exports match."""

from __future__ import annotations

import csv
import html
import io
import re
from html.parser import HTMLParser

from disclose.builders import COMPANY, PERSON_ID
from xinyong.codes import make_uscc

from .conftest import Portal

HTML = {"accept": "text/html"}


class Controls(HTMLParser):
    """Every form control with its id, and every label's for=."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append(a)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])  # type: ignore[arg-type]
        for key in ("src", "href"):
            if a.get(key) and tag in ("script", "link", "img"):
                self.sources.append(a[key])  # type: ignore[arg-type]


def parse(text: str) -> Controls:
    parser = Controls()
    parser.feed(text)
    return parser


def test_every_page_labels_its_controls_and_loads_nothing_from_elsewhere(portal: Portal) -> None:
    client = portal.client("self")
    pages = [
        "/",
        "/search?q=华信",
        f"/subjects/{COMPANY}",
        f"/subjects/{COMPANY}?level=authorised",
        "/publicity/penalties",
        "/publicity/licences",
        f"/notices/{portal.timeline.ids['P2']}",
    ]
    for url in pages:
        response = client.get(url, headers=HTML)
        assert response.status_code == 200, url
        assert "default-src 'self'" in response.headers["content-security-policy"]
        found = parse(response.text)
        unlabelled = [c for c in found.controls if c.get("id") not in found.labels]
        assert not unlabelled, f"{url}: controls without a label: {unlabelled}"
        assert all(s.startswith("/") for s in found.sources), f"{url}: {found.sources}"
    docs = client.get("/docs").text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/..%2Fportal%2Fviews.py").status_code == 404


def test_chinese_first_english_on_request_and_remembered(portal: Portal) -> None:
    client = portal.client("public")
    home = client.get("/", headers=HTML)
    assert 'lang="zh-Hans"' in home.text and "信用信息查询" in home.text and "?lang=en" in home.text
    english = client.get("/?lang=en", headers=HTML)
    assert 'lang="en"' in english.text and "Credit search" in english.text
    assert client.get("/publicity/penalties", headers=HTML).text.count("Administrative penalties") == 1
    fresh = portal.app and type(client)(portal.app)
    assert "Credit search" in fresh.get("/", headers={**HTML, "accept-language": "en-GB,en;q=0.9"}).text


def test_search_finds_by_name_initials_and_code(portal: Portal) -> None:
    client = portal.client("public")
    for q in ("华信科技", "whhxkj", COMPANY):
        page = client.get("/search", params={"q": q}, headers=HTML)
        assert f'href="/subjects/{COMPANY}"' in page.text, q
    short = client.get("/search", params={"q": "华"}, headers=HTML)
    assert short.status_code == 200 and "至少" in short.text
    person = client.get("/search", params={"q": PERSON_ID}, headers=HTML).text
    results = person[person.index('id="results-title"') :]
    assert "张**" in results and "张三丰" not in person and PERSON_ID not in results


def test_subject_page_shows_provenance_and_masks_a_person(portal: Portal) -> None:
    client = portal.client("public")
    page = client.get(f"/subjects/{COMPANY}", headers=HTML).text
    for text in (
        "武汉华信科技有限公司",
        "武汉市生态环境局",
        "首次归集",
        "最近更新",
        "2026-06-15",
        "2027-03-01",
    ):
        assert text in page
    assert "违法行为武环罚〔2019〕5号" not in page  # P5: archived, not shown
    person = client.get(f"/subjects/{portal.timeline.address(portal.timeline.person_id)}", headers=HTML).text
    assert "张**" in person and "张三丰" not in person and "1101**********002X" in person


def test_list_filters_and_exports_show_the_same_rows(portal: Portal) -> None:
    client = portal.client("public")
    ids = portal.timeline.ids
    page = client.get(
        "/publicity/penalties", params={"category": "吊销许可证件", "region": "4201"}, headers=HTML
    )
    shown = [int(i) for i in re.findall(r'<tr data-record-id="(\d+)"', page.text)]
    assert shown == [ids["P2"]]
    csv_url = re.search(r'id="export-csv" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    json_url = re.search(r'id="export-json" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    rows = list(csv.reader(io.StringIO(client.get(csv_url).text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["行政相对人名称", "主体代码"] and [int(r[-1]) for r in rows[1:]] == shown
    assert [r["id"] for r in client.get(json_url).json()["items"]] == shown
    everything = client.get("/publicity/penalties", headers=HTML).text
    listed = {int(i) for i in re.findall(r'<tr data-record-id="(\d+)"', everything)}
    assert listed == {ids["P2"], ids["P4"], ids["PERSON"]}
    assert "张**" in everything and "张三丰" not in everything


def test_notice_page_and_refusals(portal: Portal) -> None:
    client = portal.client("public")
    notice = client.get(f"/notices/{portal.timeline.ids['P2']}", headers=HTML)
    assert notice.status_code == 200 and "吊销许可证件" in notice.text and "武汉市生态环境局" in notice.text
    gone = client.get(f"/notices/{portal.timeline.ids['P5']}", headers=HTML)
    assert gone.status_code == 404 and "不在公示期内" in gone.text
    unknown = make_uscc("9", "1", "420100", "MA4K9999")  # a valid code that no subject holds
    missing = client.get(f"/subjects/{unknown}", headers=HTML)
    assert missing.status_code == 404 and "未找到" in missing.text
    assert client.get(f"/api/v1/subjects/{unknown}").json()["detail"]["code"] == "subject.not_found"
    # A typo in the check character is named as such, not "not found": on the page, the API and the search.
    typo = unknown[:-1] + ("X" if unknown[-1] != "X" else "Y")
    page = client.get(f"/subjects/{typo}", headers=HTML)
    shown = html.unescape(page.text)
    assert page.status_code == 422 and "校验位应为'" + unknown[-1] + "'" in shown and "未找到" not in shown
    api = client.get(f"/api/v1/subjects/{typo}")
    assert api.status_code == 422 and api.json()["detail"]["code"] == "subject.invalid_code"
    assert "check character should be" in api.json()["detail"]["message_en"]
    searched = html.unescape(client.get("/search", params={"q": typo}, headers=HTML).text)
    assert "校验位应为'" + unknown[-1] + "'" in searched and "未找到匹配" not in searched


def test_subjects_without_a_public_code_have_opaque_addresses(portal: Portal) -> None:
    t = portal.timeline
    client = portal.client("public")
    rows = client.get("/api/v1/records", params={"item": "XZCF"}).json()["items"]
    code = next(r["subject"]["code"] for r in rows if r["id"] == t.ids["PERSON"])
    assert re.fullmatch(r"xy-[0-9a-f]{24}", code) and code == t.address(t.person_id)
    assert client.get(f"/api/v1/subjects/{code}").json()["name"] == "张**"
    assert client.get(f"/subjects/{code.upper()}", headers=HTML).status_code == 200
    # The old sequential addresses are gone: xy-1, xy-2, … cannot be walked through.
    for old in (f"xy-{t.person_id}", f"xy-{t.company_id}", "xy-" + "0" * 24):
        assert client.get(f"/api/v1/subjects/{old}").status_code == 404


def test_lists_show_their_total_and_say_whose_region_they_filter(portal: Portal) -> None:
    client = portal.client("public")
    body = client.get("/api/v1/records", params={"item": "XZCF", "limit": 1}).json()
    assert (body["total"], body["total_exact"]) == (3, True)  # P2, P4 and the person: in publicity today
    assert len(body["items"]) == 1  # the total counts the whole list, not the page
    page = client.get("/publicity/penalties", headers=HTML).text
    assert 'data-total="3"' in page and "共 3 条" in page
    assert "数据来源单位所在地区" in page  # the region filter is the department's, and says so
    filtered = client.get("/api/v1/records", params={"item": "XZCF", "category": "吊销许可证件"}).json()
    assert filtered["total"] == 1 and [r["id"] for r in filtered["items"]] == [portal.timeline.ids["P2"]]
    found = client.get("/search", params={"q": "华信"}, headers=HTML).text
    assert "共找到 1 个信用主体" in found
