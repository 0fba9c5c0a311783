"""Kill `xinyong ingest` with SIGKILL, run it again: the database is exactly one clean run's.

It is killed at two points: part-way through checking the chunks, and at the final commit (the last
chunk is checked and loaded; the batch is being finished and committed). Killed at the commit, the
ingest leaves all or nothing: the database as before (then the rerun makes it one clean run's), or
exactly one clean run's.

The ingest runs as a real process (`python -m xinyong.cli ingest`), in small chunks so that it reports a
checked chunk long before it commits. Its clock is fixed (XINYONG_FIXED_NOW, for tests only) so that two
runs write the same timestamps. Every table is compared row for row; the only transformation is that
AES-GCM ciphertexts (random nonces) are compared by their plaintext.

On PostgreSQL, sequences are not transactional: the killed run used up ids. They are set back after the
kill (and after checking that nothing else was left), which is "identical modulo sequence-generated ids".
"""

from __future__ import annotations

import base64
import functools
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbtools import DATABASES, truncate_tables
from xinyong.catalog.loader import load_catalog
from xinyong.clock import FixedClock
from xinyong.demo.generate import World, make_world, penalties
from xinyong.demo.seed import register_departments
from xinyong.security.organisations import add_organisation
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.engine import make_engine, upgrade

from .conftest import CITY

KEY = bytes(range(64))
NOW = "2026-06-15T10:00:00"
ROWS = 6_000
CHUNK = 1_500  # four chunks: the first is reported checked long before the commit


@functools.cache
def _world() -> World:
    return make_world(2000, seed=3)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thousands of rows as providers send them (GB18030, untidy, 2 % defective)."""
    generated = penalties(_world(), ROWS, item=load_catalog().item("XZCF"), seed=5, bad_fraction=0.02)
    path = tmp_path_factory.mktemp("kill") / "行政处罚.csv"
    path.write_bytes(generated.frame.write_csv().encode("gb18030"))
    return path


@pytest.mark.parametrize("database", DATABASES)
def test_kill_then_rerun_equals_one_clean_run(
    database: str, big_file: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        clean_url = f"sqlite:///{tmp_path / 'clean' / 'xinyong.db'}"
        killed_url = f"sqlite:///{tmp_path / 'killed' / 'xinyong.db'}"
    else:
        clean_url = killed_url = request.getfixturevalue("pg_database")

    _prepare(clean_url)
    clean = _ingest(big_file, clean_url, tmp_path / "clean")
    assert clean.returncode == 0, clean.stderr
    expected = _dump(clean_url)
    assert expected["records"] and expected["rejected_rows"] and expected["subjects"]

    # 1. Part-way: a chunk is checked, the others are not.
    before, after_kill, seen = _kill_at(big_file, killed_url, tmp_path / "killed", "checked")
    assert "loaded" not in seen and f"checked {ROWS}/" not in seen, seen
    assert after_kill == before, "the killed ingest left rows behind"
    _rerun_and_compare(big_file, killed_url, tmp_path / "killed", clean, expected)

    # 2. At the final commit: every chunk is checked and loaded, the batch is finished and committed.
    last_chunk = f"checked {ROWS}/{ROWS}"
    before, after_kill, seen = _kill_at(big_file, killed_url, tmp_path / "killed", last_chunk)
    assert "progress: loaded" not in seen, seen
    if after_kill == before:  # the commit had not happened: send again
        _rerun_and_compare(big_file, killed_url, tmp_path / "killed", clean, expected)
    else:  # it had: the whole batch, exactly as a clean run leaves it
        differs = [table for table in expected if after_kill.get(table) != expected[table]]
        assert not differs, f"the ingest killed at its commit left a partial batch: {differs} differ"


# --------------------------------------------------------------------------------------------- helpers


def _kill_at(
    path: Path, url: str, home: Path, line: str
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, list[tuple[Any, ...]]], str]:
    """Start the ingest on an empty database, SIGKILL it once it prints `line`: (before, after, seen)."""
    _prepare(url)
    before = _dump(url)
    process = _start(path, url, home)
    seen = _read_until(process, line)
    assert line in seen, seen
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    process.stderr.close()  # type: ignore[union-attr]
    return before, _dump(url), seen


def _rerun_and_compare(
    path: Path,
    url: str,
    home: Path,
    clean: subprocess.CompletedProcess[str],
    expected: dict[str, list[tuple[Any, ...]]],
) -> None:
    if url.startswith("postgresql"):
        _reset_sequences(url)  # the killed run used up ids
    rerun = _ingest(path, url, home)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["received"] == ROWS and summary["rejected"] > 0 and summary["seconds"] == 0
    assert json.loads(clean.stdout) == summary
    got = _dump(url)
    assert got.keys() == expected.keys()
    for table in expected:
        assert got[table] == expected[table], f"table {table} differs"


def _env(url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINYONG_")}
    env |= {
        "XINYONG_HOME": str(home),
        "XINYONG_DATABASE_URL": url,
        "XINYONG_PII_KEY": base64.b64encode(KEY).decode(),
        "XINYONG_FIXED_NOW": NOW,
        "XINYONG_INGEST_CHUNK_ROWS": str(CHUNK),
        "PYTHONUNBUFFERED": "1",
    }
    return env


def _command(path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "xinyong.cli",
        "ingest",
        str(path),
        "--item",
        "XZCF",
        "--provider",
        CITY,
        "--json",
    ]


def _ingest(path: Path, url: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(path), env=_env(url, home), capture_output=True, text=True, timeout=300)


def _start(path: Path, url: str, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(path), env=_env(url, home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _read_until(process: subprocess.Popen[str], word: str, timeout: float = 120) -> str:
    """stderr up to the first line holding `word` (the progress lines of a non-terminal run)."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.5)
        if ready:
            line = process.stderr.readline()
            if not line:
                break
            seen += line
            if word in line:
                return seen
        elif process.poll() is not None:
            break
    return seen


def _prepare(url: str) -> None:
    """An empty, migrated database holding the submitter, identical for every run."""
    if url.startswith("sqlite:///"):
        for leftover in Path(url.removeprefix("sqlite:///")).parent.glob("xinyong.db*"):
            leftover.unlink()
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            truncate_tables(conn, _tables(conn))
    upgrade(engine)
    with engine.begin() as conn:
        add_organisation(
            conn, name="武汉市公共信用信息共享平台", uscc=CITY, kind="credit_office", clock=FixedClock(NOW)
        )
        register_departments(conn, _world().departments, parent_uscc=CITY, clock=FixedClock(NOW))
    engine.dispose()


def _tables(conn: sa.Connection) -> list[str]:
    return sorted(t for t in sa.inspect(conn).get_table_names() if t != "alembic_version")


def _reset_sequences(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        for table in _tables(conn):
            if "id" not in {c["name"] for c in inspector.get_columns(table)}:
                continue
            sequence = conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('\"{table}\"', 'id')").scalar()
            if sequence is None:
                continue
            conn.exec_driver_sql(
                f"SELECT setval('{sequence}', COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
            )
    engine.dispose()


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (alembic_version included), ciphertexts as their plaintext."""
    protector = PersonalIdProtector(KEY)
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = sorted(sa.inspect(conn).get_table_names())
        dumped = {}
        for table in tables:
            result = conn.exec_driver_sql(f'SELECT * FROM "{table}"')
            random = {i for i, name in enumerate(result.keys()) if (table, name) in RANDOM_BY_DESIGN}
            dumped[table] = sorted(
                (
                    tuple(_drawn(v) if i in random else _plain(v, protector) for i, v in enumerate(row))
                    for row in result
                ),
                key=repr,
            )
    engine.dispose()
    return dumped


# Columns the database fills with random values (an opaque page address): compared as drawn, not by value.
RANDOM_BY_DESIGN = {("subjects", "public_ref")}


def _drawn(value: Any) -> str:
    return "drawn" if value else "missing"


def _plain(value: Any, protector: PersonalIdProtector) -> Any:
    if isinstance(value, bytes | memoryview):
        return ("decrypted", protector.decrypt(bytes(value)))
    if isinstance(value, str) and '"enc:' in value:
        return json.dumps(_plain(json.loads(value), protector), ensure_ascii=False, sort_keys=True)
    if isinstance(value, dict):
        return {k: _plain(v, protector) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, protector) for v in value]
    if isinstance(value, str) and value.startswith("enc:"):
        return ("decrypted", protector.decrypt(base64.b64decode(value[4:])))
    return value
