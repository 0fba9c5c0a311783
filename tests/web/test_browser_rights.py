"""权益保护 in a real browser (Debian's Chromium, headless, driven by Playwright), on a phone-sized screen:

    object   the company objects to a penalty from 我的信用信息 with a PDF, the platform forwards it from
             its 待办, the environment bureau corrects the fine — and the public page shows the new value;
    repair   the company sees its repair conditions, applies with proof, the platform approves — and the
             record is gone from the public page and from its CSV export.

The web app is served by uvicorn on 127.0.0.1 over a SQLite database; each party signs in through the API
in its own browser context (the session cookie is the browser's). Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from disclose.builders import COMPANY
from rights.casework_world import PDF, Casework, build_casework
from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.engine import make_engine

from .conftest import PASSWORD, RELAXED
from .test_browser import _free_port, browser, shot  # noqa: F401  (the module's Chromium)

pytestmark = [pytest.mark.browser]
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "locale": "zh-CN"}


@pytest.fixture
def served(tmp_path: Path, sqlite_template: Path, _cheap_passwords: None) -> Iterator[tuple[str, Casework]]:
    import uvicorn

    shutil.copyfile(sqlite_template, tmp_path / "xinyong.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'xinyong.db'}")
    runtime = Runtime(
        settings=Settings(home=tmp_path, database_url=str(engine.url), extra=dict(RELAXED)),
        engine=engine,
        protector=PersonalIdProtector(bytes(range(64))),
        clock=FixedClock("2026-06-15T10:00:00"),
    )
    case = build_casework(runtime, tmp_path)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(case.portal.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", case
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def signed_in(browser: Any, base: str, username: str) -> Any:  # noqa: F811
    """A phone-sized browser context signed in as `username` (its cookie jar holds the session)."""
    context = browser.new_context(**PHONE)
    answer = context.request.post(
        f"{base}/api/v1/auth/login", data={"username": username, "password": PASSWORD}
    )
    assert answer.ok, answer.text()
    return context


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, f"{page.url} scrolls sideways"


def test_object_then_the_provider_corrects_and_the_public_page_shows_it(
    served: tuple[str, Casework],
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, case = served
    record, key = case.rights.ids["OBJECTED"], case.rights.keys["OBJECTED"]
    evidence = tmp_path / "缴款凭证.pdf"
    evidence.write_bytes(PDF)
    case.rights.clock.set("2026-09-30T09:00:00")
    subject = signed_in(browser, base, "huaxin").new_page()
    subject.goto(f"{base}/me/credit")
    no_sideways_scroll(subject)
    card = subject.locator(f'li.record[data-record-id="{record}"]')
    card.get_by_role("link", name="提出异议").click()
    subject.get_by_label("异议类型").select_option("wrong")
    subject.get_by_label("理由").fill("罚款金额应为 0.5 万元，附缴款凭证")
    subject.get_by_label("证明材料（PDF、JPG、PNG）").set_input_files(str(evidence))
    shot(subject, "rights-01-object-form")
    subject.get_by_role("button", name="提交").click()
    subject.wait_for_url("**/me/applications")
    assert subject.locator("[data-objection]").first.get_attribute("data-state") == "open"
    assert subject.get_by_text("2026-10-09").first.is_visible()  # forward by: across National Day
    no_sideways_scroll(subject)
    shot(subject, "rights-02-my-applications")

    case.rights.clock.set("2026-10-09T09:00:00")
    platform = signed_in(browser, base, "operator").new_page()
    platform.goto(f"{base}/tasks")
    platform.locator('[data-step="objection.forward"]').get_by_role("button", name="转交信息提供单位").click()
    platform.wait_for_url("**/tasks")

    source = signed_in(browser, base, "env").new_page()
    source.goto(f"{base}/tasks")
    no_sideways_scroll(source)
    task = source.locator('[data-step="objection.provider_decide"]')
    task.get_by_label("处理结果").select_option("corrected")
    task.get_by_label("更正后的字段值（每行 字段=值）").fill("cf_nr_fk=0.5")
    task.get_by_label("理由").fill("经核实，罚款金额为 0.5 万元，予以更正")
    shot(source, "rights-03-provider-decides")
    task.get_by_role("button", name="作出决定").click()
    source.wait_for_url("**/tasks")
    assert source.get_by_text("没有待办事项。").is_visible()

    public = browser.new_page(locale="zh-CN")
    public.goto(f"{base}/subjects/{COMPANY}")
    shown = public.locator(f'li.record[data-record-id="{record}"]')
    assert shown.locator(".mark-corrected").inner_text() == "已更正"
    shown.locator("details summary").click()
    assert shown.get_by_text("0.5", exact=True).is_visible() and key in shown.inner_text()
    shot(public, "rights-04-public-corrected")
    subject = signed_in(browser, base, "huaxin").new_page()  # days later: a new session
    subject.goto(f"{base}/inbox")
    assert subject.get_by_text("已办结：更正").first.is_visible()


def test_repair_takes_the_record_off_the_public_page_and_the_csv(
    served: tuple[str, Casework],
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, case = served
    record, key = case.rights.ids["REPAIRED"], case.rights.keys["REPAIRED"]
    receipt = tmp_path / "收据.pdf"
    receipt.write_bytes(PDF)
    public = browser.new_page(locale="zh-CN")
    public.goto(f"{base}/subjects/{COMPANY}")
    assert public.locator(f'li.record[data-record-id="{record}"]').count() == 1

    case.rights.clock.set("2026-10-08T10:00:00")
    subject = signed_in(browser, base, "huaxin").new_page()
    subject.goto(f"{base}/me/credit")
    subject.locator(f'li.record[data-record-id="{record}"]').get_by_role(
        "link", name="查看修复条件 / 申请修复"
    ).click()
    assert subject.get_by_text("符合信用修复条件，可以申请。").is_visible()  # the answer before the form
    for label in ("我已签署信用承诺书", "罚款已缴清", "已整改到位"):
        subject.get_by_label(label).check()
    subject.get_by_label("履行义务的证明（PDF、JPG、PNG）").set_input_files(str(receipt))
    no_sideways_scroll(subject)
    shot(subject, "rights-05-repair-form")
    subject.get_by_role("button", name="提交").click()
    subject.wait_for_url("**/me/applications")
    assert subject.locator("[data-repair]").first.get_attribute("data-state") == "submitted"

    platform = signed_in(browser, base, "operator").new_page()
    platform.goto(f"{base}/tasks")
    task = platform.locator('[data-step="repair.decide"]')
    task.get_by_label("准予修复").check()
    task.get_by_label("理由").fill("已履行行政处罚义务并完成整改，准予修复")
    task.get_by_role("button", name="作出决定").click()
    platform.wait_for_url("**/tasks")

    public.goto(f"{base}/subjects/{COMPANY}")
    assert public.locator(f'li.record[data-record-id="{record}"]').count() == 0
    assert key not in public.content()
    with public.expect_download() as download:
        public.get_by_role("link", name="导出 CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert case.rights.keys["OBJECTED"] in exported  # the company's other penalty is still exported
    assert key not in exported
    shot(public, "rights-06-public-after-repair")
    subject.goto(f"{base}/me/credit")
    assert subject.locator(f'li.record[data-record-id="{record}"] .mark-repaired').inner_text() == "已修复"


def test_the_subject_sets_its_address_then_is_mailed(
    served: tuple[str, Casework],
    browser: Any,  # noqa: F811
) -> None:
    from smtp_server import running_smtp
    from xinyong.rights.outbound import SmtpEmail

    base, case = served
    record = case.rights.ids["OBJECTED"]
    case.rights.clock.set("2026-09-30T09:00:00")
    with running_smtp() as (mailbox, port):
        case.portal.app.state.email = SmtpEmail(host="127.0.0.1", port=port)
        subject = signed_in(browser, base, "huaxin").new_page()
        subject.goto(f"{base}/inbox")
        subject.get_by_role("link", name="通知邮箱").click()
        subject.wait_for_url("**/me/contact")
        no_sideways_scroll(subject)
        subject.get_by_label("电子邮箱").fill("legal@huaxin.example")
        subject.get_by_role("button", name="保存").click()
        assert subject.get_by_text("已保存。").is_visible()
        assert subject.get_by_label("电子邮箱").input_value() == "legal@huaxin.example"
        shot(subject, "rights-07-contact")

        subject.goto(f"{base}/me/credit")
        subject.locator(f'li.record[data-record-id="{record}"]').get_by_role("link", name="提出异议").click()
        subject.get_by_label("异议类型").select_option("wrong")
        subject.get_by_label("理由").fill("罚款金额有误")
        subject.get_by_role("button", name="提交").click()
        subject.wait_for_url("**/me/applications")
        assert any(
            s.startswith("异议") and "已受理" in s for s in mailbox.subjects_to("legal@huaxin.example")
        )
