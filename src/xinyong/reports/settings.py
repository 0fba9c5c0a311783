"""Settings of the reports chapter, from the environment (or Settings.extra in tests); docs/reports.md."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xinyong.config import Settings

DEFAULT_ISSUER = "湖北省公共信用信息平台（信用湖北）"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class ReportSettings:
    key_file: Path  # PEM private key the platform signs reports with
    cert_file: Path  # PEM certificate of that key
    key_password: bytes | None
    trusted_certs: tuple[Path, ...]  # further certificates a report may be signed by (an earlier key)
    demo_keys: bool  # no key configured: a demo key and certificate are made under XINYONG_HOME/reports
    public_url: str  # where /verify/{number} is served (the QR code's address)
    issuer: str

    @classmethod
    def load(cls, settings: Settings) -> ReportSettings:
        def get(name: str) -> str | None:
            return settings.extra.get(name) or os.environ.get(name) or None

        key, cert = get("XINYONG_REPORT_KEY"), get("XINYONG_REPORT_CERT")
        demo = not (key and cert)
        folder = settings.home / "reports"
        password = get("XINYONG_REPORT_KEY_PASSWORD")
        trusted = get("XINYONG_REPORT_TRUSTED_CERTS")
        return cls(
            key_file=Path(key) if key and cert else folder / "demo-signing-key.pem",
            cert_file=Path(cert) if key and cert else folder / "demo-signing-cert.pem",
            key_password=password.encode() if password else None,
            trusted_certs=tuple(Path(p) for p in trusted.split(os.pathsep) if p) if trusted else (),
            demo_keys=demo,
            public_url=(get("XINYONG_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            issuer=get("XINYONG_REPORT_ISSUER") or DEFAULT_ISSUER,
        )
