"""`xinyong org|user|token|audit`, run through the real command line against SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.config import Settings
from xinyong.security.models import api_tokens, audit_log, password_resets, users

from .conftest import AGENCY, CREDIT_OFFICE, PASSWORD, PERSON_ID, PROVIDER
from .test_audit import emptying, tampering


@pytest.fixture
def xinyong(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XINYONG_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, ok: bool = True):
        result = runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, f"{args}: {result.output}{result.stderr}"
        return result

    return run


def test_organisations_users_and_tokens_from_the_command_line(xinyong, engine: sa.Engine) -> None:
    xinyong("org", "add", "--name", "湖北省信用信息中心", "--uscc", CREDIT_OFFICE, "--kind", "credit_office")
    xinyong(
        "org",
        "add",
        "--name",
        "湖北省市场监督管理局",
        "--uscc",
        PROVIDER,
        "--kind",
        "provider",
        "--parent",
        CREDIT_OFFICE,
    )
    refused = xinyong(
        "org", "add", "--name", "x", "--uscc", "91350100M000100Y44", "--kind", "provider", ok=False
    )
    assert refused.exit_code == 1 and "校验位" in refused.stderr
    listed = json.loads(xinyong("org", "list", "--json").stdout)
    assert [(o["uscc"], o["depth"], o["parent_uscc"]) for o in listed] == [
        (CREDIT_OFFICE, 0, None),
        (PROVIDER, 1, CREDIT_OFFICE),
    ]

    xinyong(
        "user",
        "add",
        "--username",
        "operator",
        "--org",
        CREDIT_OFFICE,
        "--role",
        "credit_office",
        "--name",
        "王芳",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    xinyong(
        "user",
        "add-subject",
        "--kind",
        "person",
        "--name",
        "张三丰",
        "--checked-by",
        "operator",
        "--document",
        "居民身份证",
        "--username",
        "zhang",
        "--password-stdin",
        input=f"{PERSON_ID}\n{PASSWORD}\n",
    )
    people = json.loads(xinyong("user", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["person_masked"]) for u in people] == [
        ("operator", "credit_office", None),
        ("zhang", "subject", "1101**********002X"),
    ]
    xinyong("user", "disable", "operator")
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(users.c.status).where(users.c.username == "operator")).scalar_one()
            == "disabled"
        )
        assert PASSWORD not in str(conn.execute(sa.select(users)).all())

    issued = xinyong(
        "token",
        "issue",
        "--org",
        PROVIDER,
        "--role",
        "provider",
        "--name",
        "报送系统",
        "--scope",
        "batch.submit",
        "--days",
        "30",
    )
    token = issued.stdout.strip()
    assert token.startswith("xyt_") and "唯一一次" in issued.stderr
    prefix = token[:12]  # xyt_ and 8 characters
    with engine.connect() as conn:
        row = conn.execute(sa.select(api_tokens)).mappings().one()
    assert row["prefix"] == prefix and token not in str(dict(row)) and row["scopes"] == ["batch.submit"]
    too_much = xinyong(
        "token",
        "issue",
        "--org",
        PROVIDER,
        "--role",
        "provider",
        "--name",
        "x",
        "--scope",
        "audit.read",
        ok=False,
    )
    assert too_much.exit_code == 1 and "audit.read" in too_much.stderr
    xinyong("token", "revoke", prefix)
    assert xinyong("token", "revoke", prefix, ok=False).exit_code == 1

    # A one-time link from the command line: the same service (and audit entry) as the console's.
    link = xinyong("user", "reset-link", "zhang").stdout.strip()
    assert link.startswith("/console/reset/")
    with engine.connect() as conn:
        stored = conn.execute(sa.select(password_resets.c.token_hash)).scalars().all()
        actions = conn.execute(
            sa.select(audit_log.c.action).where(audit_log.c.action == "user.reset_link")
        ).all()
    assert len(stored) == 1 and link.rsplit("/", 1)[1] not in stored and len(actions) == 1
    assert xinyong("user", "reset-link", "nobody", ok=False).exit_code == 1


def test_audit_verify_passes_untouched_and_names_the_tampered_entry(xinyong, engine: sa.Engine) -> None:
    xinyong("org", "seed")
    xinyong("org", "add", "--name", "某信用评级公司", "--uscc", AGENCY, "--kind", "agency")
    xinyong("org", "qualify", "--uscc", AGENCY, "--quota", "500", "--valid-until", "2027-06-30")
    verified = xinyong("audit", "verify")
    assert "审计链完整" in verified.stderr and verified.stdout.startswith("3:")
    assert "进度 / progress: verify 3/3" in verified.stderr  # a long walk shows how far it is
    anchor = verified.stdout.strip()
    with tampering(engine) as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 2).values(detail={"uscc": "改过"}))
    broken = xinyong("audit", "verify", ok=False)
    assert broken.exit_code == 1
    assert (
        "第 2 条" in broken.stderr and "entry 2" in broken.stderr and "audit.entry_altered" in broken.stderr
    )
    assert xinyong("audit", "verify", "--anchor", anchor, ok=False).exit_code == 1


def test_audit_verify_passes_an_intact_chain_and_keeps_its_head_outside_the_database(
    xinyong, engine: sa.Engine, settings: Settings
) -> None:
    xinyong("org", "seed")
    first = xinyong("audit", "verify")
    anchor = first.stdout.strip()
    again = xinyong("audit", "verify", "--anchor", anchor)  # an intact chain passes its own anchor
    assert "审计链完整" in again.stderr and again.stdout.strip() == anchor
    kept = list((settings.home / "audit").glob("anchor-*"))
    assert len(kept) == 1 and kept[0].read_text().strip() == anchor
    with emptying(engine):
        pass
    gone = xinyong("audit", "verify", ok=False)
    assert gone.exit_code == 1 and "audit.history_missing" in gone.stderr and "清空或截断" in gone.stderr


def test_audit_show_lists_who_looked_at_a_subject(xinyong, engine: sa.Engine) -> None:
    xinyong("org", "add", "--name", "湖北省信用信息中心", "--uscc", CREDIT_OFFICE, "--kind", "credit_office")
    xinyong(
        "user",
        "add-subject",
        "--kind",
        "person",
        "--name",
        "张三丰",
        "--checked-by",
        "operator",
        "--document",
        "居民身份证",
        "--code",
        PERSON_ID,
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    shown = json.loads(xinyong("audit", "show", "--subject", PERSON_ID.lower(), "--json").stdout)
    assert [e["action"] for e in shown] == ["user.add_subject"]
    assert shown[0]["subject_label"] == "1101**********002X" and PERSON_ID not in json.dumps(shown)
    with engine.connect() as conn:
        last = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq.desc())).mappings().first()
    assert last is not None and last["action"] == "audit.show"  # reading the trail is itself recorded
