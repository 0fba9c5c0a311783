"""Emptying a PostgreSQL test database: the audit tables refuse TRUNCATE (migration 0005), so the owner
lifts that guard for the one statement, as only an owner can, and puts it back in the same transaction."""

from __future__ import annotations

import os

import sqlalchemy as sa

# The personal-identifier key of every test runtime and engine (a test wanting another makes its own).
TEST_KEY = bytes(range(64))

# The databases every storage test runs on; XINYONG_TEST_DATABASES=sqlite narrows a laptop run (never CI).
DATABASES = [
    d.strip() for d in os.environ.get("XINYONG_TEST_DATABASES", "sqlite,postgresql").split(",") if d.strip()
]

_GUARDS = ("audit_log_no_truncate", "audit_head_no_truncate")


_MODES = {"O": "", "A": "ALWAYS", "R": "REPLICA"}  # pg_trigger.tgenabled → ALTER TABLE … ENABLE … TRIGGER


def truncate_tables(conn: sa.Connection, names: list[str]) -> None:
    guarded = conn.exec_driver_sql(
        "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger WHERE tgname IN "
        f"({', '.join(repr(g) for g in _GUARDS)})"
    ).all()
    for table, trigger, _ in guarded:
        conn.exec_driver_sql(f"GRANT TRUNCATE ON {table} TO CURRENT_USER")
        conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    quoted = ", ".join(f'"{name}"' for name in names)
    conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    for table, trigger, mode in guarded:  # back as it was: an ALWAYS trigger stays one
        conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE {_MODES[mode]} TRIGGER {trigger}")
        conn.exec_driver_sql(f"REVOKE TRUNCATE ON {table} FROM CURRENT_USER")
