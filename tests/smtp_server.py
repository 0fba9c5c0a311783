"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the tests that mail: never a mock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def subjects_to(self, address: str) -> list[str]:
        """The decoded Subject lines of the mails sent to `address`, in order."""
        return [
            str(make_header(decode_header(message_from_bytes(e.content)["Subject"])))
            for e in self.received
            if address in e.rcpt_tos
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
