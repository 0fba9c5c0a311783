"""The report as a PDF: typeset with Typst from the report's own JSON (one input, shown as text), with a
QR code of its verify address (segno), then signed (signing.py)."""

from __future__ import annotations

import io
import json
from functools import cache
from importlib import resources
from typing import Any

import segno

from xinyong.documents.pdf import render_pdf
from xinyong.reports.content import _plain


@cache
def template() -> str:
    return resources.files("xinyong.reports").joinpath("report.typ").read_text(encoding="utf-8")


def qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", border=2, xmldecl=False)
    return out.getvalue().decode()


def report_pdf(document: dict[str, Any], digest: str) -> bytes:
    """The unsigned PDF of a report; `digest` (of its canonical JSON) is printed in the header."""
    data = json.dumps({**document, "digest": digest}, ensure_ascii=False, default=_plain)
    return render_pdf(template(), inputs={"data": data, "qr": qr_svg(document["issuer"]["verify_url"])})
