"""Verification: an untouched report passes; a changed byte, another key and an unknown number are each
named — online (the API upload and the verify page) and offline (`xinyong report verify FILE --json`)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from disclose.builders import COMPANY
from web.conftest import Portal
from xinyong.cli import app as cli
from xinyong.documents.pdf import render_pdf
from xinyong.reports.settings import ReportSettings
from xinyong.reports.signing import make_demo_keys, sign_pdf


def issued(portal: Portal) -> tuple[str, bytes]:
    response = portal.client("public").post("/api/v1/reports?format=pdf", json={"subject": COMPANY})
    assert response.status_code == 200
    return response.headers["X-Report-Number"], response.content


def changed_byte(pdf: bytes) -> bytes:
    """One byte of the signed content (a digit of the report's text stream region) flipped."""
    data = bytearray(pdf)
    data[len(data) // 3] ^= 0x01
    return bytes(data)


def other_key(portal: Portal, tmp_path: Path, pdf: bytes, number: str) -> bytes:
    """The same document, signed by a key the platform does not hold."""
    own = ReportSettings.load(portal.runtime.settings)
    key, cert = tmp_path / "other-key.pem", tmp_path / "other-cert.pem"
    make_demo_keys(key, cert, issuer="某某伪造平台", now=portal.runtime.clock.now())
    from dataclasses import replace

    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: F401  (the same library signs)

    unsigned = render_pdf(
        '#set document(title: sys.inputs.at("t"))\n#sys.inputs.at("t")', inputs={"t": f"信用报告 {number}"}
    )
    signed, _ = sign_pdf(unsigned, replace(own, key_file=key, cert_file=cert), number=number)
    return signed


def unknown_number(portal: Portal) -> bytes:
    """Signed by the platform's own key, under a number it never issued."""
    number = "XY20260615ZZZZZZZZ"
    unsigned = render_pdf(
        '#set document(title: sys.inputs.at("t"))\n#sys.inputs.at("t")', inputs={"t": f"信用报告 {number}"}
    )
    return sign_pdf(unsigned, ReportSettings.load(portal.runtime.settings), number=number)[0]


def tampered(portal: Portal, tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    number, pdf = issued(portal)
    return {
        "ok": (pdf, number),
        "modified": (changed_byte(pdf), number),
        "appended": (pdf + b"\n% one more line\n", number),
        "other_key": (other_key(portal, tmp_path, pdf, number), number),
        "unknown_number": (unknown_number(portal), number),
        "not_pdf": (b"hello, not a report", number),
    }


EXPECTED = {
    "ok": "ok",
    "modified": "modified",
    "appended": "modified",
    "other_key": "other_key",
    "unknown_number": "unknown_number",
    "not_pdf": "not_pdf",
}


def test_online_the_api_names_each_tampering(portal: Portal, tmp_path: Path) -> None:
    client = portal.client("public")
    for case, (data, number) in tampered(portal, tmp_path).items():
        response = client.post("/api/v1/reports/verify", files={"file": ("r.pdf", data, "application/pdf")})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["reason"] == EXPECTED[case], case
        assert body["valid"] is (case == "ok")
        if case == "ok":
            assert body["number"] == number and body["issued_at"].startswith("2026-06-15")
            assert COMPANY in body["subject"]


def test_online_the_verify_page_shows_what_was_issued_and_checks_the_upload(
    portal: Portal, tmp_path: Path
) -> None:
    client = portal.client("public")
    cases = tampered(portal, tmp_path)
    data, number = cases["ok"]
    page = client.get(f"/verify/{number}")
    assert page.status_code == 200 and number in page.text and "专项" not in page.text
    summary = client.get(f"/api/v1/reports/{number}").json()
    assert summary["digest"] in page.text and summary["kind"] == "public"
    good = client.post(f"/verify/{number}", files={"file": ("r.pdf", data, "application/pdf")})
    assert good.status_code == 200 and 'data-reason="ok"' in good.text
    bad = client.post(f"/verify/{number}", files={"file": ("r.pdf", cases["modified"][0], "application/pdf")})
    assert bad.status_code == 422 and 'data-reason="modified"' in bad.text
    assert client.get("/verify/XY20260615ZZZZZZZZ").status_code == 404


@pytest.fixture
def cli_env(portal: Portal) -> dict[str, str]:
    settings = portal.runtime.settings
    return {
        "XINYONG_HOME": str(settings.home),
        "XINYONG_DATABASE_URL": settings.database_url,
        "XINYONG_PII_KEY": base64.b64encode(bytes(range(64))).decode(),  # the suite's TEST_KEY
    }


def test_offline_the_command_line_names_each_tampering(
    portal: Portal, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    runner = CliRunner()
    for case, (data, number) in tampered(portal, tmp_path).items():
        path = tmp_path / f"{case}.pdf"
        path.write_bytes(data)
        result = runner.invoke(cli, ["report", "verify", str(path), "--json"], env=cli_env)
        body = json.loads(result.stdout)
        assert set(body) == {"valid", "number", "issued_at", "subject", "reason"}
        assert body["reason"] == EXPECTED[case], case
        assert result.exit_code == (0 if case == "ok" else 1)
        if case in ("ok", "modified"):
            assert body["number"] == number


def test_the_command_line_makes_a_special_report(
    portal: Portal, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    out = tmp_path / "special.pdf"
    args = ["report", "make", COMPANY, "--kind", "special", "--from", "2024-01-01", "--to", "2026-06-15"]
    args += ["--domains", "environment,tax", "--out", str(out), "--json", "--now", "2026-06-15T10:00:00"]
    result = CliRunner().invoke(cli, args, env=cli_env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"number", "digest", "pages", "seconds"} and body["pages"] >= 1
    checked = CliRunner().invoke(cli, ["report", "verify", str(out), "--json"], env=cli_env)
    assert json.loads(checked.stdout)["valid"] is True
    refused = CliRunner().invoke(cli, [*args[:-2], "--domains", "nowhere"], env=cli_env)
    assert refused.exit_code == 1 and "report.unknown_domain" in refused.output
