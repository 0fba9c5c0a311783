"""In a real browser (Chromium, headless): open the verify page at the address the report's QR code holds
— read from the PDF's text and its JSON, no image scanned — see what was issued, upload the PDF, and see
it confirmed; upload a changed copy and see it refused."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from disclose.builders import COMPANY, build_timeline
from web.test_browser import _free_port, browser  # noqa: F401  (the module's Chromium)
from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.engine import make_engine
from xinyong.web.app import create_app

from .conftest import pdf_text
from .test_verify import changed_byte

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    import uvicorn

    from web.conftest import RELAXED

    home = tmp_path_factory.mktemp("reports-site")
    shutil.copyfile(sqlite_template, home / "xinyong.db")
    engine = make_engine(f"sqlite:///{home / 'xinyong.db'}")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    runtime = Runtime(
        settings=Settings(
            home=home, database_url=str(engine.url), extra={**RELAXED, "XINYONG_PUBLIC_URL": url}
        ),
        engine=engine,
        protector=PersonalIdProtector(bytes(range(64))),
        clock=FixedClock("2026-06-15T10:00:00"),
    )
    build_timeline(runtime, home)
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield url
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def test_the_qr_address_opens_the_verify_page_which_checks_the_upload(
    site: str,
    browser: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    pdf = httpx.post(
        f"{site}/api/v1/reports?format=pdf", json={"subject": COMPANY, "kind": "special"}
    ).content
    number = re.search(r"XY\d{8}[2-9A-Z]{8}", pdf_text(pdf)).group(0)  # type: ignore[union-attr]
    address = re.search(r"核验地址(http://[^报内]+?/verify/XY\d{8}[2-9A-Z]{8})", pdf_text(pdf))
    assert address is not None
    assert address.group(1) == f"{site}/verify/{number}"  # the QR code's text, as printed beside it
    good, bad = tmp_path / f"{number}.pdf", tmp_path / "changed.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(changed_byte(pdf))

    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(address.group(1))
    assert page.locator("article.verify").get_attribute("data-number") == number
    assert page.locator("[data-kind]").get_attribute("data-kind") == "special"
    page.set_input_files("#file", str(good))
    page.click("form.verify-form button[type=submit]")
    assert page.locator(".verdict").get_attribute("data-reason") == "ok"
    assert "genuine" in page.locator(".verdict").inner_text()  # Chromium asks for English
    page.set_input_files("#file", str(bad))
    page.click("form.verify-form button[type=submit]")
    assert page.locator(".verdict").get_attribute("data-reason") == "modified"
    page.close()
