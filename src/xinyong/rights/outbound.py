"""Telling a party outside the site: an e-mail adapter (SMTP) a deployment configures, and an SMS adapter
interface of the same shape. Both take (to, subject, body) and raise `DeliveryFailed` when the message
was not accepted; neither is called inside a database transaction (rights.notify.send_pending is).

    XINYONG_SMTP_HOST       the relay (unset: no e-mail is sent; the site inbox still has every message)
    XINYONG_SMTP_PORT       25 by default
    XINYONG_SMTP_FROM       the sender address, e.g. xinyong@credit.hubei.gov.cn
    XINYONG_SMTP_USER / XINYONG_SMTP_PASSWORD   login, when the relay asks for one
    XINYONG_SMTP_STARTTLS   1 to upgrade the connection with STARTTLS before logging in
    XINYONG_SMTP_TIMEOUT_S  seconds to wait for the relay, 10 by default
"""

from __future__ import annotations

import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol


class DeliveryFailed(Exception):
    """The relay or gateway did not accept the message (the notification is marked failed, not lost)."""


class Outbound(Protocol):
    """One outbound channel. `to` is an e-mail address or a mobile number, as the channel expects."""

    channel: str

    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpEmail:
    host: str
    port: int = 25
    sender: str = "xinyong@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0
    channel: str = "email"

    @classmethod
    def from_settings(cls, extra: Mapping[str, str] | None = None) -> SmtpEmail | None:
        """The relay from XINYONG_SMTP_* (settings first, then the environment); None if unset."""

        def value(name: str) -> str | None:
            return (extra or {}).get(f"XINYONG_SMTP_{name}") or os.environ.get(f"XINYONG_SMTP_{name}")

        host = value("HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(value("PORT") or 25),
            sender=value("FROM") or "xinyong@localhost",
            username=value("USER"),
            password=value("PASSWORD"),
            starttls=(value("STARTTLS") or "").lower() in {"1", "true", "yes"},
            timeout_s=float(value("TIMEOUT_S") or 10),
        )

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "localhost")
        message.set_content(body, charset="utf-8")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"{type(exc).__name__} from {self.host}:{self.port}") from None


class SmsGateway(Protocol):
    """A text-message provider's adapter: the same shape as e-mail (the subject is the message's first
    line). The platform ships no provider; a deployment plugs one in that implements `send`."""

    channel: str

    def send(self, to: str, subject: str, body: str) -> None: ...
