"""Security settings: sessions, lock-out, rate limits, request sizes, trusted proxies, tokens, proofing.

Each is read from `Settings.extra` first (tests, embedding), then the environment, then the default
below. docs/security.md lists them all; a test fails when one is missing there.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, fields
from typing import Any

from xinyong.config import Settings
from xinyong.problems import Problem, ProblemError

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket: up to `capacity` requests at once, refilled at capacity per `period` seconds."""

    capacity: int
    period: float

    @property
    def per_second(self) -> float:
        return self.capacity / self.period

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """'60/minute' -> Rate(60, 60); 'off' -> None (no limit)."""
        text = text.strip().lower()
        if text in {"off", "none", "0"}:
            return None
        match = re.fullmatch(r"(\d+)\s*/\s*(second|minute|hour|day)", text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"a rate is N/second|minute|hour|day or 'off', not {text!r}")
        return cls(int(match.group(1)), float(_UNITS[match.group(2)]))


# field -> (environment variable, default); docs/security.md says what each one means.
ENV: dict[str, tuple[str, str]] = {
    "session_hours": ("XINYONG_SESSION_HOURS", "8"),
    "session_idle_minutes": ("XINYONG_SESSION_IDLE_MINUTES", "30"),
    "login_max_failures": ("XINYONG_LOGIN_MAX_FAILURES", "5"),
    "lockout_minutes": ("XINYONG_LOGIN_LOCKOUT_MINUTES", "15"),
    "lockout_max_minutes": ("XINYONG_LOGIN_LOCKOUT_MAX_MINUTES", "1440"),
    "password_min_length": ("XINYONG_PASSWORD_MIN_LENGTH", "12"),
    "rate_public": ("XINYONG_RATE_PUBLIC", "60/minute"),
    "rate_login": ("XINYONG_RATE_LOGIN", "10/minute"),
    "rate_user": ("XINYONG_RATE_USER", "600/minute"),
    "rate_token": ("XINYONG_RATE_TOKEN", "1200/minute"),
    "rate_bad_token": ("XINYONG_RATE_BAD_TOKEN", "20/minute"),
    "upload_max_mb": ("XINYONG_UPLOAD_MAX_MB", "512"),
    "request_max_kb": ("XINYONG_REQUEST_MAX_KB", "1024"),
    "trusted_proxies": ("XINYONG_TRUSTED_PROXIES", "none"),
    "token_max_days": ("XINYONG_TOKEN_MAX_DAYS", "366"),
    "reset_link_hours": ("XINYONG_RESET_LINK_HOURS", "24"),
    "cookie_secure": ("XINYONG_COOKIE_SECURE", "auto"),
    "identity_proofing": ("XINYONG_IDENTITY_PROOFING", "counter"),
}


@dataclass(frozen=True)
class SecuritySettings:
    session_hours: float
    session_idle_minutes: float
    login_max_failures: int
    lockout_minutes: float  # the first lock-out of one account from one client address
    lockout_max_minutes: float  # each further lock-out doubles, up to this
    password_min_length: int
    rate_public: Rate | None
    rate_login: Rate | None
    rate_user: Rate | None
    rate_token: Rate | None
    rate_bad_token: Rate | None  # requests with an invalid API token, per client address
    upload_max_mb: float  # the largest upload request (a provider's file)
    request_max_kb: int  # the largest body of any other request
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]  # may set X-Forwarded-For
    token_max_days: int
    reset_link_hours: float  # how long a one-time link to set a password works
    cookie_secure: str  # "auto" (secure when the request came over https), "true", "false"
    identity_proofing: str

    @classmethod
    def load(cls, settings: Settings | None = None) -> SecuritySettings:
        extra = settings.extra if settings else {}
        values: dict[str, Any] = {}
        for f in fields(cls):
            env, default = ENV[f.name]
            raw = extra.get(env) or os.environ.get(env) or default
            try:
                values[f.name] = _convert(f.name, raw)
            except ValueError as exc:
                raise ProblemError(
                    Problem(
                        "security.setting_invalid",
                        f"安全设置 {env}={raw!r} 无效：{exc}",
                        f"security setting {env}={raw!r} is invalid: {exc}",
                        field=env,
                    )
                ) from exc
        return cls(**values)

    @property
    def upload_max_bytes(self) -> int:
        return int(self.upload_max_mb * (1 << 20))

    @property
    def request_max_bytes(self) -> int:
        return self.request_max_kb << 10


def _convert(name: str, raw: str) -> Any:
    if name.startswith("rate_"):
        return Rate.parse(raw)
    if name in {"login_max_failures", "password_min_length", "token_max_days", "request_max_kb"}:
        value = int(raw)
        if value < 1:
            raise ValueError("must be at least 1")
        return value
    hours_or_minutes = {
        "session_hours",
        "session_idle_minutes",
        "lockout_minutes",
        "lockout_max_minutes",
        "reset_link_hours",
    }
    if name in hours_or_minutes:
        value = float(raw)
        if value <= 0:
            raise ValueError("must be positive")
        return value
    if name == "upload_max_mb":
        value = float(raw)
        if not 0 < value <= 1 << 20:
            raise ValueError("a size in MB above 0")
        return value
    if name == "trusted_proxies":
        # Addresses or networks of the reverse proxies in front of the platform, comma-separated.
        if raw.strip().lower() in {"", "none", "off"}:
            return ()
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)
    if name == "cookie_secure":
        if raw.lower() not in {"auto", "true", "false"}:
            raise ValueError("auto, true or false")
        return raw.lower()
    return raw
