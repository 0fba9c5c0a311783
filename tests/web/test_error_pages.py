"""What a browser gets when something is wrong: the portal's own page, in Chinese first (English on
request), the message in both languages — never raw JSON. Clients of /api/ keep their JSON problems."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from xinyong.runtime import Runtime
from xinyong.web.app import create_app

from .conftest import RELAXED

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
STYLED = '<link rel="stylesheet" href="/static/portal.css">'


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime))


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.text)


def test_an_unknown_page_is_the_portals_page_in_chinese_and_english(client: TestClient) -> None:
    missing = client.get("/no-such-page", headers=BROWSER)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    text = page_text(missing)
    assert STYLED in text and 'lang="zh-Hans"' in text and "<h1>未找到</h1>" in text
    assert "返回首页" in text and 'lang="en"' in text  # the English words beneath, and a way on
    english = page_text(client.get("/no-such-page", params={"lang": "en"}, headers=BROWSER))
    assert "<h1>Not found</h1>" in english and STYLED in english
    # The same address asked for by a program, and anything under /api/, stay JSON.
    assert client.get("/no-such-page").headers["content-type"].startswith("application/json")
    api = client.get("/api/v1/no-such", headers=BROWSER)
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


def test_a_malformed_request_is_a_bilingual_page(client: TestClient) -> None:
    bad = client.get("/notices/not-a-number", headers=BROWSER)
    assert bad.status_code == 422 and STYLED in bad.text
    text = page_text(bad)
    assert "应为整数" in text and "must be an integer" in text  # both languages on one page
    assert client.get("/api/v1/records/not-a-number").headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "cursor", ["2026-13-45.1", "0000-01-01.1", "2026-01-01.99999999999999999999999", "x"]
)
def test_a_tampered_cursor_is_refused_not_a_500(client: TestClient, cursor: str) -> None:
    api = client.get("/api/v1/records", params={"item": "XZCF", "cursor": cursor})
    assert api.status_code in (400, 422), api.text
    detail = api.json()["detail"]
    assert (
        detail["code"] == "list.cursor"
        and "翻页" in detail["message_zh"]
        and "cursor" in detail["message_en"]
    )
    page = client.get("/publicity/penalties", params={"cursor": cursor}, headers=BROWSER)
    assert page.status_code in (400, 422) and STYLED in page.text and "翻页参数" in page_text(page)
    # ...while a well-formed cursor is accepted.
    assert client.get("/api/v1/records", params={"item": "XZCF", "cursor": "2026-01-01.1"}).status_code == 200


class TestRateLimited:
    @pytest.fixture
    def rates(self) -> dict[str, str]:
        return {**RELAXED, "XINYONG_RATE_PUBLIC": "2/minute"}

    def test_too_many_requests_is_a_page_for_a_browser_and_json_for_the_api(self, client: TestClient) -> None:
        for _ in range(2):
            assert client.get("/", headers=BROWSER).status_code == 200
        limited = client.get("/", headers=BROWSER)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        text = page_text(limited)
        assert STYLED in text and "请求过于频繁" in text and "Too many requests" in text
        api = client.get("/api/v1/search", params={"q": "华信"})
        assert api.status_code == 429 and api.json()["detail"]["code"] == "security.rate_limited"
