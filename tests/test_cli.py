"""The platform's own commands (src/xinyong/cli.py): `db upgrade`, `key generate` and `serve`, through the
real command line, on SQLite and PostgreSQL. `serve` runs as a real process on a free port."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dbtools import DATABASES
from xinyong.cli import app
from xinyong.config import Settings
from xinyong.security.pii import KEY_BYTES, PersonalIdProtector, load_protector
from xinyong.store.engine import current_revision, head_revision, is_current, make_engine

PII_KEY = base64.b64encode(bytes(range(64))).decode()
PG_URL = os.environ.get("XINYONG_TEST_PG_URL", "postgresql+psycopg://xinyong:xinyong@127.0.0.1:5432/postgres")


@pytest.fixture(params=DATABASES)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database that exists and holds nothing: a new SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new' / 'xinyong.db'}"
        return
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"xinyong_empty_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def invoke(*args: str, code: int = 0) -> object:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, f"{args}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def test_db_upgrade_migrates_an_empty_database_and_is_idempotent(
    empty_database: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_DATABASE_URL", empty_database)
    engine = make_engine(empty_database)
    assert current_revision(engine) is None
    refused = invoke("serve", code=2)  # an unmigrated database is not served: it says what to run
    assert "db.not_migrated" in refused.stderr and "xinyong db upgrade" in refused.stderr  # type: ignore[attr-defined]
    for _ in range(2):
        done = invoke("db", "upgrade")
        assert str(head_revision(engine)) in done.stderr  # type: ignore[attr-defined]
        assert is_current(engine)
    with engine.connect() as conn:
        assert {"records", "subjects", "batches", "audit_log"} <= set(sa.inspect(conn).get_table_names())
    engine.dispose()


def test_key_seal_names_refuses_an_unmigrated_database_and_runs_on_a_migrated_one(
    empty_database: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_DATABASE_URL", empty_database)
    refused = invoke("key", "seal-names", code=2)
    assert "xinyong db upgrade" in refused.stderr  # type: ignore[attr-defined]
    invoke("db", "upgrade")
    for _ in range(2):  # nothing to seal in an empty database, and running it again is harmless
        done = invoke("key", "seal-names")
        assert "subject names 0" in done.stderr and "records 0" in done.stderr  # type: ignore[attr-defined]


def test_key_generate_prints_a_fresh_key_the_platform_accepts(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [invoke("key", "generate").stdout.strip() for _ in range(2)]  # type: ignore[attr-defined]
    assert keys[0] != keys[1]
    assert all(len(base64.b64decode(k, validate=True)) == KEY_BYTES for k in keys)
    monkeypatch.setenv("XINYONG_PII_KEY", keys[0])
    protector = load_protector(Settings.from_env(demo=False))
    assert protector.decrypt(protector.encrypt("11010519491231002X")) == "11010519491231002X"
    # ...and another key does not read what this one wrote.
    other = PersonalIdProtector(base64.b64decode(keys[1]))
    assert other.blind_index("11010519491231002X") != protector.blind_index("11010519491231002X")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_serve_answers_health_checks_and_stops_cleanly(
    settings: Settings, engine: sa.Engine, tmp_path: Path
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINYONG_")}
    env |= {
        "XINYONG_HOME": str(tmp_path / "serve-home"),
        "XINYONG_DATABASE_URL": settings.database_url,
        "XINYONG_PII_KEY": PII_KEY,
        "XINYONG_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "xinyong.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:  # not listening yet
                time.sleep(0.2)
        assert health == (200, '{"status":"ok"}'), (health, server.poll())
        assert _get(f"http://127.0.0.1:{port}/readyz") == (200, '{"status":"ready"}')
        assert _get(f"http://127.0.0.1:{port}/")[0] == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            err = server.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            server.kill()
            err = server.communicate()[1]
    assert server.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in err
