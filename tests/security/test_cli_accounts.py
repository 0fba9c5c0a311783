"""`xinyong user enable` and `xinyong token list` through the real command line, on SQLite and PostgreSQL:
an account disabled then enabled signs in again (and a locked one is unlocked); the token list shows
prefixes, never a token."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.accounts import authenticate
from xinyong.security.models import audit_log
from xinyong.security.settings import SecuritySettings

from .conftest import AGENCY, CREDIT_OFFICE, PASSWORD, PROVIDER


@pytest.fixture
def xinyong(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("XINYONG_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0) -> Any:
        result = runner.invoke(app, list(args), input=input)
        assert result.exit_code == code, f"{args}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
        return result

    return run


def signs_in(runtime: Runtime, username: str, password: str = PASSWORD) -> bool:
    with runtime.engine.begin() as conn:
        outcome = authenticate(
            conn,
            login=username,
            password=password,
            clock=runtime.clock,
            protector=runtime.protector,
            settings=SecuritySettings.load(runtime.settings),
            ip="10.1.2.3",
        )
    return outcome.error is None


def test_user_enable_lets_a_disabled_or_locked_account_sign_in_again(xinyong: Any, runtime: Runtime) -> None:
    xinyong("org", "add", "--name", "湖北省信用信息中心", "--uscc", CREDIT_OFFICE, "--kind", "credit_office")
    add = ("user", "add", "--org", CREDIT_OFFICE, "--role", "credit_office", "--name", "王芳")
    xinyong(*add, "--username", "operator", "--password-stdin", input=PASSWORD + "\n")
    assert signs_in(runtime, "operator")

    xinyong("user", "disable", "operator")
    assert not signs_in(runtime, "operator")
    enabled = xinyong("user", "enable", "operator")
    assert "operator: active" in enabled.stderr
    assert signs_in(runtime, "operator")

    for _ in range(SecuritySettings.load(runtime.settings).login_max_failures):
        assert not signs_in(runtime, "operator", "wrong password!")
    assert not signs_in(runtime, "operator")  # locked: even the right password is refused
    xinyong("user", "enable", "operator")  # enabling also unlocks
    assert signs_in(runtime, "operator")

    assert xinyong("user", "enable", "nobody", code=1).stderr
    with runtime.engine.connect() as conn:
        actions = [a for (a,) in conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.seq))]
    assert actions.count("user.enable") == 2 and actions.count("user.disable") == 1


def test_token_list_shows_prefixes_and_state_never_a_token(xinyong: Any) -> None:
    xinyong("org", "add", "--name", "湖北省市场监督管理局", "--uscc", PROVIDER, "--kind", "provider")
    xinyong("org", "add", "--name", "武汉某信用评级有限公司", "--uscc", AGENCY, "--kind", "agency")
    issue = ("token", "issue", "--days", "30")
    kept = xinyong(*issue, "--org", PROVIDER, "--role", "provider", "--name", "报送系统").stdout.strip()
    revoked = xinyong(*issue, "--org", PROVIDER, "--role", "provider", "--name", "旧系统").stdout.strip()
    other = xinyong(*issue, "--org", AGENCY, "--role", "agency", "--name", "评级系统").stdout.strip()
    xinyong("token", "revoke", revoked[:12])

    listed = xinyong("token", "list").stdout  # a table of 80 columns: no terminal here
    rows = {}
    for line in listed.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0].startswith("xyt_"):
            rows[cells[0]] = cells  # a row's first line: prefix, name, organisation, role, expires, revoked
    assert set(rows) == {kept[:12], revoked[:12], other[:12]}  # whole prefixes: what `token revoke` takes
    assert rows[kept[:12]][1:2] + rows[kept[:12]][3:4] == ["报送系统", "provider"]
    assert rows[other[:12]][1:2] + rows[other[:12]][3:4] == ["评级系统", "agency"]
    assert rows[kept[:12]][5] == "" and rows[revoked[:12]][5] != ""  # only the revoked one says so
    assert not any(token[12:] in listed for token in (kept, revoked, other))  # the secret part: never

    only_provider = xinyong("token", "list", "--org", PROVIDER).stdout
    assert kept[:12] in only_provider and revoked[:12] in only_provider and other[:12] not in only_provider
