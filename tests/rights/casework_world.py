"""The rights world served by the web app, with a signed-in client for each party of a case:

subject     huaxin, the company's own account (the records OBJECTED and REPAIRED are its own)
platform    operator, the credit office
source      env, a clerk of 武汉市生态环境局 — the source department of OBJECTED and REPAIRED
other       water, a clerk of another provider department (not the records' source)
public      not signed in
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from disclose.builders import ENV_BUREAU
from web.conftest import PASSWORD, Portal, login, make_portal
from xinyong.codes import make_uscc
from xinyong.runtime import Runtime
from xinyong.security.accounts import create_user
from xinyong.security.organisations import add_organisation
from xinyong.security.settings import SecuritySettings

from .builders import Rights, add_extra_records

WATER_BUREAU = (make_uscc("1", "1", "420100", "Q0100301"), "武汉市水务局")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)


@dataclass
class Casework:
    portal: Portal
    rights: Rights
    clients: dict[str, TestClient]

    @property
    def runtime(self) -> Runtime:
        return self.portal.runtime

    def at(self, when: str) -> Casework:
        """Move the clock and sign every party in afresh (a session does not outlive days of the calendar)."""
        self.rights.clock.set(when)
        for party, username in ACCOUNTS.items():
            self.clients[party] = login(TestClient(self.portal.app), username)
        return self


def build_casework(runtime: Runtime, tmp: Path) -> Casework:
    portal = make_portal(runtime, tmp)
    rights = add_extra_records(portal.timeline, tmp)
    clock = runtime.clock
    sec = SecuritySettings.load(runtime.settings)
    with runtime.engine.begin() as conn:
        add_organisation(conn, name=WATER_BUREAU[1], uscc=WATER_BUREAU[0], kind="provider", clock=clock)
        for username, uscc in (("env", ENV_BUREAU[0]), ("water", WATER_BUREAU[0])):
            create_user(
                conn,
                username=username,
                display_name=username,
                role="provider",
                password=PASSWORD,
                organisation_uscc=uscc,
                clock=clock,
                settings=sec,
            )
    return Casework(portal, rights, {"public": portal.client("public")})


ACCOUNTS = {"subject": "huaxin", "platform": "operator", "source": "env", "other": "water"}
