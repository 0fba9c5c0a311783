"""Shared fixtures. Every test that takes `engine` runs twice: on SQLite and on a real PostgreSQL.

PostgreSQL comes from XINYONG_TEST_PG_URL (the README's test command and .ci/run set it up). Setting
XINYONG_TEST_DATABASES=sqlite narrows the run on a laptop without PostgreSQL; CI never sets it.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings

from dbtools import DATABASES, TEST_KEY, truncate_tables
from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security import passwords
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.engine import make_engine, upgrade
from xinyong.store.meta import attach_sealer
from xinyong.store.schema import metadata

# Property tests (hypothesis): more examples in CI (CI=true, as .ci/run is started) than on a laptop. Failing
# examples are remembered in .hypothesis/ (gitignored), never in the repository; CI starts from a fresh clone
# and prints a reproduction blob instead. No deadline: the machine is shared, a slow example is not a bug.
# A test that checks many values per example may run fewer: settings.default.max_examples // N.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", max_examples=400, deadline=None, database=None, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


PG_URL = os.environ.get("XINYONG_TEST_PG_URL", "postgresql+psycopg://xinyong:xinyong@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"xinyong_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:  # pragma: no cover - environment problem, said plainly
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_URL}: {exc.orig}. Run the README's test command "
            "(it starts PostgreSQL) or set XINYONG_TEST_DATABASES=sqlite on a machine without it.",
            pytrace=False,
        )
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated, empty database: a copy of the SQLite template, or the PostgreSQL one truncated."""
    if request.param == "sqlite":
        path = tmp_path / "xinyong.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
    else:
        eng = make_engine(request.getfixturevalue("pg_database"))
        with eng.begin() as conn:
            truncate_tables(conn, [t.name for t in metadata.sorted_tables])
    attach_sealer(eng, PersonalIdProtector(TEST_KEY))
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock("2026-06-15T10:00:00")


@pytest.fixture
def protector() -> PersonalIdProtector:
    return PersonalIdProtector(TEST_KEY)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated XINYONG_HOME with a fixed personal-identifier key."""
    home = tmp_path / "home"
    monkeypatch.setenv("XINYONG_HOME", str(home))
    monkeypatch.setenv("XINYONG_PII_KEY", base64.b64encode(TEST_KEY).decode())
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    return home


@pytest.fixture
def settings(home: Path, engine: sa.Engine) -> Settings:
    return Settings(home=home, database_url=engine.url.render_as_string(hide_password=False))


# --- The whole suite's logs are scanned for ID numbers in clear (security issue #3) ----------------------
# Every test process sends its logs through xinyong.logging (the configuration the platform runs with) into
# one directory; at the end the controlling process (the only one under pytest-xdist) scans every file and
# fails the run if a valid ID number appears unmasked. XINYONG_TEST_LOG_DIR may name the directory (CI can
# keep it); xdist workers inherit it from the controller's environment.
LOG_DIR_ENV = "XINYONG_TEST_LOG_DIR"
_made_log_dir: list[str] = []  # set in the process that made the directory, which removes it if clean


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get(LOG_DIR_ENV):
        os.environ[LOG_DIR_ENV] = tempfile.mkdtemp(prefix="xinyong-test-logs-")
        _made_log_dir.append(os.environ[LOG_DIR_ENV])


@pytest.fixture(scope="session", autouse=True)
def suite_log() -> Path:
    from xinyong.logging import configure_logging

    path = Path(os.environ[LOG_DIR_ENV]) / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
    configure_logging(log_file=path, stderr=False, force=True)
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # a worker: the controller scans once every worker is done
    from xinyong.logging import find_id_numbers

    leaks = []
    for path in sorted(Path(os.environ[LOG_DIR_ENV]).glob("*.log*")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            leaks += [f"{path.name}:{line}: {number[:4]}…" for line, number in find_id_numbers(lines)]
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"ID numbers in clear in the logs ({os.environ[LOG_DIR_ENV]}):", red=True)
            for leak in leaks[:20]:
                reporter.write_line(f"  {leak}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif _made_log_dir:
        shutil.rmtree(_made_log_dir[0], ignore_errors=True)


_PRODUCTION_HASHER = passwords._hasher  # taken before any test can replace it


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost (64 MiB, 3 passes) takes ~0.1 s a hash; suites that hash hundreds of
    passwords opt in. tests/security/test_accounts.py checks the production parameters themselves."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: cheap)


@pytest.fixture
def production_password_hashing(cheap_password_hashing: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hasher the platform runs with, even in a directory that opts into cheap hashing."""
    monkeypatch.setattr(passwords, "_hasher", _PRODUCTION_HASHER)


@pytest.fixture
def rates() -> dict[str, str]:
    """Security settings for `runtime`; a directory that signs in many times overrides it to relax limits."""
    return {}


@pytest.fixture
def runtime(
    settings: Settings,
    engine: sa.Engine,
    protector: PersonalIdProtector,
    clock: FixedClock,
    rates: dict[str, str],
) -> Runtime:
    configured = Settings(home=settings.home, database_url=settings.database_url, extra=dict(rates))
    return Runtime(settings=configured, engine=engine, protector=protector, clock=clock)
