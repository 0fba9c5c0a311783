"""The console in a real browser (Debian's Chromium, headless, Playwright), at 1280 px and on a tablet:

    clerk    signs in with the form, uploads a file with errors (drag-and-drop zone, progress bar), sees the
             batch with its problems grouped by code, downloads the feedback; opens another provider's
             batch by its address and gets 403;
    office   sees every provider's batch, the dashboards drawn by the vendored ECharts, the monthly 考核通报.

Screenshots of each page go to test-output/screenshots/console-*.png (docs/console.md lists them).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collect.conftest import DEPT2, csv_bytes, penalty
from web.test_browser import _free_port, browser, shot  # noqa: F401  (the module's Chromium)
from xinyong.clock import FixedClock
from xinyong.store.engine import make_engine

from .conftest import PASSWORD, World, build_world, dept2_rows

pytestmark = [pytest.mark.browser]
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
TABLET = {"viewport": {"width": 768, "height": 1024}, "locale": "zh-CN"}


@pytest.fixture
def served(
    tmp_path: Path, sqlite_template: Path, cheap_password_hashing: None
) -> Iterator[tuple[str, World]]:
    import uvicorn

    shutil.copyfile(sqlite_template, tmp_path / "xinyong.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'xinyong.db'}")
    world = build_world(engine, tmp_path / "home", FixedClock("2026-06-15T10:00:00"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", world
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def sign_in(browser: Any, base: str, username: str, viewport: dict[str, Any]) -> Any:  # noqa: F811
    page = browser.new_context(**viewport, accept_downloads=True).new_page()
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/console")
    return page


def no_sideways_scroll(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways"


def test_a_clerk_uploads_sees_the_batch_downloads_feedback_and_cannot_open_another(
    served: tuple[str, World],
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, world = served
    theirs = world.send(dept2_rows(3, bad=1), submitter=DEPT2)
    rows = [penalty(i) for i in range(1, 6)]
    rows[4]["行政相对人代码_1(统一社会信用代码)"] = "91420100MA4K00010X"
    upload = tmp_path / "处罚-6月.csv"
    upload.write_text(csv_bytes(rows), encoding="utf-8")

    page = sign_in(browser, base, "clerk", DESKTOP)
    shot(page, "console-01-overview")
    page.get_by_role("link", name="上传报送文件").click()
    page.get_by_label("目录事项").select_option("XZCF")
    page.get_by_label("报送文件").set_input_files(str(upload))
    shot(page, "console-02-upload")
    page.get_by_role("button", name="上传").click()
    page.wait_for_url("**/console/batches/*")
    assert page.locator('[data-count="rejected"] .n').text_content() == "1"
    assert page.locator("#problem-groups tbody tr").count() >= 1
    no_sideways_scroll(page, 1280)
    shot(page, "console-03-batch")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.goto(f"{base}/console/batches")
    shot(page, "console-04-batches")
    answer = page.goto(f"{base}/console/batches/{theirs.batch_id}")
    assert answer is not None and answer.status == 403
    assert page.get_by_text("只能处理本单位的信息").first.is_visible()
    shot(page, "console-05-forbidden")

    tablet = sign_in(browser, base, "clerk", TABLET)
    tablet.goto(f"{base}/console/feeds")
    no_sideways_scroll(tablet, 768)
    shot(tablet, "console-06-feeds-tablet")


def test_the_credit_office_sees_every_batch_the_dashboards_and_the_tongbao(
    served: tuple[str, World],
    browser: Any,  # noqa: F811
) -> None:
    base, world = served
    world.send([penalty(i) for i in range(1, 4)], submitter=world_dept())
    world.send(dept2_rows(4, bad=1), submitter=DEPT2)
    page = sign_in(browser, base, "operator", DESKTOP)
    page.goto(f"{base}/console/batches")
    assert page.locator("tr[data-batch]").count() == 2
    page.goto(f"{base}/console/stats?month=2026-06")
    page.wait_for_selector('[data-chart="records_by_provider"] svg')
    assert page.evaluate("window.echarts.version") == "6.1.0"
    shot(page, "console-07-stats")
    page.goto(f"{base}/console/assessment?month=2026-06")
    assert page.locator("#assessment tbody tr[data-uscc]").count() == 2
    shot(page, "console-08-assessment")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF 通报").click()
    assert download.value.suggested_filename == "kaohe-tongbao-2026-06.pdf"
    page.goto(f"{base}/console/tasks")
    shot(page, "console-09-tasks")
    tablet = sign_in(browser, base, "operator", TABLET)
    tablet.goto(f"{base}/console/stats?month=2026-06")
    no_sideways_scroll(tablet, 768)
    shot(tablet, "console-10-stats-tablet")


def world_dept() -> str:
    from collect.conftest import DEPT

    return DEPT


def test_the_administrator_walks_the_administration_pages(
    served: tuple[str, World],
    browser: Any,  # noqa: F811
) -> None:
    base, _world = served
    page = sign_in(browser, base, "admin", DESKTOP)
    page.get_by_role("link", name="系统管理").click()
    page.get_by_role("link", name="机构").first.click()
    assert page.locator("#org-tree tbody tr").count() == 3
    shot(page, "console-11-admin-organisations")

    page.goto(f"{base}/console/admin/users")
    page.get_by_label("用户名").fill("newclerk")
    page.get_by_label("姓名或名称").fill("新职员")
    page.get_by_label("所属机构").select_option(world_dept())
    page.get_by_label("角色").select_option("provider")
    page.get_by_role("button", name="创建").click()
    link = page.locator("#one-time-link").input_value()
    assert "/console/reset/" in link
    shot(page, "console-12-admin-one-time-link")
    page.goto(f"{base}/console/admin/users")
    no_sideways_scroll(page, 1280)
    shot(page, "console-13-admin-users")

    visitor = browser.new_context(**DESKTOP).new_page()
    visitor.goto(link)
    visitor.get_by_label("新密码", exact=True).fill("a-new-and-long-passphrase")
    visitor.get_by_label("再次输入新密码").fill("a-new-and-long-passphrase")
    shot(visitor, "console-14-set-password")
    visitor.get_by_role("button", name="设置密码").click()
    assert visitor.get_by_text("newclerk 的密码已设置").is_visible()

    page.goto(f"{base}/console/admin/tokens")
    page.get_by_label("所属机构").select_option(world_dept())
    page.get_by_label("角色").select_option("provider")
    page.get_by_label("使用系统名称").fill("报送系统")
    page.get_by_label("权限范围").select_option(["batch.submit", "batch.status"])
    page.get_by_role("button", name="签发令牌").click()
    assert page.locator("#token-secret").input_value().startswith("xyt_")
    shot(page, "console-15-admin-token-shown")
    page.goto(f"{base}/console/admin/tokens")
    shot(page, "console-16-admin-tokens")
    page.goto(f"{base}/console/admin/keys")
    shot(page, "console-17-admin-keys")
    page.goto(f"{base}/console/admin/audit?action=user")
    assert page.locator("#chain[data-ok=yes]").count() == 1
    assert page.locator("#audit-entries tbody tr").count() >= 2
    shot(page, "console-18-admin-audit")
    tablet = sign_in(browser, base, "admin", TABLET)
    tablet.goto(f"{base}/console/admin/audit")
    no_sideways_scroll(tablet, 768)
    shot(tablet, "console-19-admin-audit-tablet")
