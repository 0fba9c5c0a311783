"""Is this PDF a genuine, untouched report of this platform? One answer for the command line (offline:
the signature and the local register) and the verify page (online).

The reasons, in the order they are decided:

    not_pdf          the file is not a PDF
    not_signed       a PDF without the platform's signature
    modified         a byte changed (or was added) after signing: the signature no longer covers the file
                     as it is, or the file differs from the one issued under its number
    other_key        signed, intact, but by a key the platform does not hold
    unknown_number   signed by the platform, but no report was issued under its number
    ok               valid: the number, issue time and subject are the issued ones
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.clock import CHINA
from xinyong.reports.models import reports
from xinyong.reports.settings import ReportSettings
from xinyong.reports.signing import check_signature

NUMBER = re.compile(r"XY\d{8}[2-9A-Z]{8}")

REASONS: dict[str, tuple[str, str]] = {
    "ok": ("报告真实有效，与出具时一致", "genuine and unchanged since it was issued"),
    "not_pdf": ("文件不是 PDF", "the file is not a PDF"),
    "not_signed": ("文件没有本平台的电子签名", "the file carries no signature of this platform"),
    "modified": (
        "文件在签名后被改动（字节不一致）",
        "the file was changed after it was signed (bytes differ)",
    ),
    "other_key": (
        "文件由其他密钥签名，不是本平台出具",
        "the file was signed by another key, not this platform's",
    ),
    "unknown_number": ("本平台未出具该编号的报告", "this platform issued no report under that number"),
}


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str
    number: str | None = None
    issued_at: str | None = None
    subject: str | None = None

    def as_dict(self) -> dict[str, Any]:
        zh, en = REASONS[self.reason]
        return {
            "valid": self.valid,
            "number": self.number,
            "issued_at": self.issued_at,
            "subject": self.subject,
            "reason": self.reason,
            "message_zh": zh,
            "message_en": en,
        }


def find(conn: sa.Connection, number: str) -> Any:
    if not NUMBER.fullmatch(number):
        return None
    return conn.execute(sa.select(reports).where(reports.c.number == number)).first()


def verify_pdf(
    conn: sa.Connection, data: bytes, settings: ReportSettings, *, number: str | None = None
) -> Verification:
    """Check `data`; `number` (from the verify page's address) must then be the number it was signed under."""
    signed = check_signature(data, settings)
    found = NUMBER.search(signed.title or "")
    claimed = found.group(0) if found else None
    if signed.reason != "ok":
        return Verification(False, signed.reason, claimed)
    row = find(conn, claimed) if claimed else None
    if row is None:
        return Verification(False, "unknown_number", claimed)
    if number is not None and number != claimed:
        return Verification(False, "unknown_number", claimed)
    issued = row.issued_at.astimezone(CHINA).isoformat(timespec="seconds")
    if row.pdf_sha256 != hashlib.sha256(data).hexdigest():
        return Verification(False, "modified", claimed, issued, row.subject_label)
    return Verification(True, "ok", claimed, issued, row.subject_label)
