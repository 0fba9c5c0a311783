from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rights.builders import Rights, add_extra_records
from rights.cli_helpers import Run, make_cli
from web.conftest import Portal, _cheap_passwords, make_portal, rates  # noqa: F401  (the portal's world)
from xinyong.config import Settings
from xinyong.runtime import Runtime


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    return make_cli(settings, monkeypatch)


@pytest.fixture
def world(runtime: Runtime, tmp_path: Path) -> tuple[Portal, Rights]:
    """The portal (a government user of 武汉市政务服务和大数据管理局, a credit office operator) and the rights
    chapter's two penalties of 武汉市生态环境局, loaded on 2026-07-02."""
    portal = make_portal(runtime, tmp_path)
    return portal, add_extra_records(portal.timeline, tmp_path)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real webhook receiver on 127.0.0.1: every request it got, in order; `fail` answers 503."""

    url: str = ""
    got: list[Received] = field(default_factory=list)
    fail: bool = False


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.fail:
                self.send_response(503)
                self.end_headers()
                return
            state.got.append(Received({k: v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/credit"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
