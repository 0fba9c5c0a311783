"""The portal in a real browser (Debian's Chromium, headless, driven by Playwright).

A small SQLite database — the disclosure timeline's subjects among a few hundred synthetic ones — is
served by uvicorn on 127.0.0.1 in a background thread. The tests search, open a subject, see an
in-period penalty and not an expired one, see a masked person, filter and export the 双公示 lists, and
save screenshots under test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from disclose.builders import (
    COMPANY_NAME,
    PENALTIES,
    PERSON_ID,
    PERSON_NAME,
    SUBMITTER,
    Timeline,
    _penalty,
    build_timeline,
    write_file,
)
from xinyong.catalog.loader import load_catalog
from xinyong.clock import FixedClock
from xinyong.collect.service import ingest
from xinyong.config import Settings
from xinyong.demo.generate import licences, make_world, penalties
from xinyong.demo.seed import register_departments
from xinyong.disclose.search import rebuild
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.engine import make_engine
from xinyong.web.app import create_app

from .conftest import RELAXED

CHROMIUM = os.environ.get("XINYONG_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
pytestmark = [pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, Timeline]]:
    import uvicorn

    home = tmp_path_factory.mktemp("portal")
    shutil.copyfile(sqlite_template, home / "xinyong.db")
    engine = make_engine(f"sqlite:///{home / 'xinyong.db'}")
    runtime = Runtime(
        settings=Settings(home=home, database_url=str(engine.url), extra=dict(RELAXED)),
        engine=engine,
        protector=PersonalIdProtector(bytes(range(64))),
        clock=FixedClock("2026-06-15T10:00:00"),
    )
    timeline = build_timeline(runtime, home)
    catalog = load_catalog()
    # The person is also named as 法定代表人 in one more penalty: masked there too.
    named = _penalty(
        "武环罚〔2026〕41号",
        "2026-05-21",
        "罚款",
        fine="0.5",
        who=(PERSON_NAME, "自然人", PERSON_ID),
        fr=PERSON_NAME,
    )
    path = write_file(home / "named.csv", catalog, "XZCF", [named])
    assert ingest(runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER).rejected == 0
    world = make_world(150, seed=11)
    with engine.begin() as conn:  # the system forwards for them: the tree must say so
        register_departments(conn, world.departments, parent_uscc=SUBMITTER, clock=runtime.clock)
    for make, code in ((penalties, "XZCF"), (licences, "XZXK")):
        generated = make(world, 200, item=catalog.item(code), seed=11, end=dt.date(2026, 6, 14))
        path = home / f"{code}-crowd.csv"
        generated.frame.write_csv(path)
        ingest(runtime, path=path, item_code=code, submitter_uscc=SUBMITTER)
    rebuild(engine, clock=runtime.clock)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", timeline
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():  # fail, never skip: a missing browser must not pass CI quietly
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run the README's test command (it installs Debian's chromium) "
            "or set XINYONG_CHROMIUM",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_search_open_a_subject_see_what_is_in_publicity(site: tuple[str, Timeline], browser: object) -> None:
    base, _ = site
    page = browser.new_page(locale="zh-CN")  # type: ignore[attr-defined]
    page.goto(base + "/")
    page.keyboard.press("Tab")  # the first stop is the skip link, for keyboard users
    assert page.evaluate("document.activeElement.textContent") == "跳到主要内容"
    shot(page, "01-home")
    page.get_by_label("主体名称、拼音首字母或代码").fill("whhxkj")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=whhxkj*")
    shot(page, "02-search-pinyin")
    page.get_by_role("link", name=COMPANY_NAME).click()
    page.wait_for_url("**/subjects/*")
    assert page.locator("h1").inner_text() == COMPANY_NAME
    assert page.get_by_role("link", name=PENALTIES["P2"]["cf_wfxw"]).is_visible()  # 严重, in publicity
    assert page.get_by_text(PENALTIES["P5"]["cf_wfxw"]).count() == 0  # decided 2019: archived
    assert page.get_by_text(PENALTIES["P1"]["cf_wfxw"]).count() == 0  # 一般: publicity ended 2026-01-10
    assert page.get_by_text("武汉市生态环境局").first.is_visible()
    shot(page, "03-subject")
    page.locator(".record details summary").first.click()
    shot(page, "04-subject-details")
    page.close()


def test_a_person_is_masked(site: tuple[str, Timeline], browser: object) -> None:
    base, timeline = site
    page = browser.new_page(locale="zh-CN")  # type: ignore[attr-defined]
    page.goto(f"{base}/publicity/penalties")
    row = page.locator(f'tr[data-record-id="{timeline.ids["PERSON"]}"]')
    assert row.get_by_role("link", name="张**").is_visible()
    assert page.get_by_text("张三丰").count() == 0
    row.get_by_role("link", name="张**").click()
    page.wait_for_url("**/subjects/xy-*")
    assert page.locator("h1").inner_text() == "张**"
    assert page.get_by_text("1101**********002X").first.is_visible()
    for summary in page.locator(".record details summary").all():
        summary.click()  # every field of every record open, 法定代表人 included
    legal = page.locator("dl.fields div", has_text="法定代表人").first
    assert legal.locator("dd").inner_text() == "张**"
    assert PERSON_NAME not in page.content()
    shot(page, "05-person-masked")
    page.close()


def test_an_unknown_page_is_the_portals_own_page(site: tuple[str, Timeline], browser: object) -> None:
    base, _ = site
    page = browser.new_page(locale="zh-CN")  # type: ignore[attr-defined]
    response = page.goto(f"{base}/no-such-page")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "未找到"
    assert page.get_by_role("link", name="返回首页").is_visible()
    assert page.get_by_role("navigation", name="主导航").is_visible()  # the site's frame, styled
    masthead = page.locator("header.masthead")
    assert masthead.evaluate("e => getComputedStyle(e).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
    shot(page, "12-not-found")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en*")
    assert page.locator("h1").inner_text() == "Not found"
    page.close()


def test_filter_and_export_the_penalty_list(site: tuple[str, Timeline], browser: object) -> None:
    base, timeline = site
    page = browser.new_page(locale="zh-CN", accept_downloads=True)  # type: ignore[attr-defined]
    page.goto(f"{base}/publicity/penalties")
    shot(page, "06-penalties")
    page.get_by_label("数据来源单位", exact=True).select_option(label="武汉市生态环境局")
    page.get_by_label("处罚类别").select_option("吊销许可证件")
    page.get_by_label("决定日期起").fill("2024-01-01")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/publicity/penalties?*category=*")
    rows = page.locator("table.list tbody tr[data-record-id]")
    assert rows.count() == 1 and rows.first.get_attribute("data-record-id") == str(timeline.ids["P2"])
    shot(page, "07-penalties-filtered")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.reader(io.StringIO(text)))
    assert exported[0][0] == "行政相对人名称" and len(exported) == 2
    assert exported[1][0] == COMPANY_NAME and PENALTIES["P2"]["cf_wsh"] in exported[1]
    page.goto(f"{base}/publicity/licences")
    page.get_by_label("许可类别").select_option("核准")
    page.get_by_role("button", name="筛选").click()
    shown = page.locator("table.list tbody tr[data-record-id]").count()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    exported = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert shown > 0 and len(exported) - 1 >= shown and all(r[4] == "核准" for r in exported[1:])
    shot(page, "08-licences-filtered")
    page.close()


def test_phone_and_english(site: tuple[str, Timeline], browser: object) -> None:
    base, timeline = site
    phone = browser.new_page(viewport={"width": 375, "height": 812}, is_mobile=True, locale="zh-CN")  # type: ignore[attr-defined]
    phone.goto(f"{base}/publicity/penalties")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "no sideways scrolling on a phone"
    shot(phone, "09-phone-penalties")
    phone.goto(f"{base}/subjects/{timeline.address(timeline.company_id)}")
    shot(phone, "10-phone-subject")
    phone.get_by_role("link", name="English").click()
    phone.wait_for_url("**lang=en*")
    assert phone.get_by_role("link", name="Credit search").is_visible()
    phone.goto(f"{base}/")  # the choice is remembered
    assert phone.get_by_role("heading", name="Credit search").is_visible()
    shot(phone, "11-phone-english-home")
    phone.close()
