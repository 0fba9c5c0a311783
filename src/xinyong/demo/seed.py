"""`xinyong demo`: a working platform on synthetic Hubei data, seeded through the real pipeline.

Organisations come from the packaged Hubei tree; subjects, licences and penalties from the generator;
the files are written to XINYONG_HOME/demo/ (so an operator can open what a provider sends) and loaded
with the same ingest a provider's upload uses — a few rows are deliberately bad, so the feedback file
has something to show. Seeding an already seeded home does nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console

from xinyong.catalog.loader import load_catalog
from xinyong.collect.auditing import record_submission
from xinyong.collect.service import BatchSummary, ingest
from xinyong.demo.generate import licences, make_world, penalties
from xinyong.disclose.search import rebuild as rebuild_search
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.accounts import create_user
from xinyong.security.organisations import list_organisations, load_organisations
from xinyong.security.principal import Principal
from xinyong.security.settings import SecuritySettings
from xinyong.store.engine import upgrade
from xinyong.subjects.models import subjects as subjects_table

ACCOUNTS_FILE = "demo-accounts.txt"
SEEDER = Principal.system("demo")  # who the audit trail says seeded the demo
# Who signs in to the demo, as which role, in which kind of organisation.
_DEMO_ACCOUNTS = (
    ("admin", "平台管理员", "platform_admin", "credit_office"),
    ("operator", "信用中心操作员", "credit_office", "credit_office"),
    ("provider", "省直部门报送员", "provider", "provider"),
    ("government", "政务用户", "government", "government"),
)


@dataclass
class DemoSummary:
    subjects: int
    batches: list[BatchSummary]
    accounts_file: Path | None
    already_seeded: bool = False

    def __rich__(self) -> str:
        if self.already_seeded:
            return f"演示数据已存在（{self.subjects} 个信用主体），未重复生成 / demo data already present"
        lines = [f"演示数据已生成 / demo data seeded: {self.subjects} 个信用主体 subjects"]
        for b in self.batches:
            lines.append(
                f"  批次 {b.batch_id} {b.item}: 接收 {b.received} = 新增 {b.inserted} + 更新 {b.updated} + "
                f"未变 {b.unchanged} + 退回 {b.rejected}（编码 {b.encoding}）"
            )
        if self.accounts_file:
            lines.append(f"  演示账号与密码见 / demo accounts in: {self.accounts_file}")
        return "\n".join(lines)


def seed_demo(runtime: Runtime, *, subjects: int, seed: int, console: Console | None = None) -> DemoSummary:
    console = console or Console(stderr=True)
    upgrade(runtime.engine)
    with runtime.engine.connect() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(subjects_table)).scalar_one()
    if existing:
        return DemoSummary(subjects=existing, batches=[], accounts_file=None, already_seeded=True)

    with runtime.engine.begin() as conn:
        loaded = load_organisations(conn, runtime.clock)
        centre = next(
            o for o in list_organisations(conn, kind="credit_office") if "信用信息中心" in o["name"]
        )
        audit.record(
            conn,
            principal=SEEDER,
            action="org.seed",
            clock=runtime.clock,
            detail={"created": loaded.created, "existing": loaded.existing},
        )
        accounts = _demo_accounts(conn, runtime)

    catalog = load_catalog()
    folder = runtime.settings.home / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    world = make_world(subjects, seed=seed)
    end = runtime.clock.today()
    files = {
        "XZXK": licences(
            world, subjects * 2, item=catalog.item("XZXK"), seed=seed + 1, end=end, bad_fraction=0.005
        ),
        "XZCF": penalties(
            world, subjects, item=catalog.item("XZCF"), seed=seed + 2, end=end, bad_fraction=0.01
        ),
    }
    batches = []
    for item_code, generated in files.items():
        path = folder / f"{item_code}.csv"
        generated.frame.write_csv(path)
        with console.status(f"归集 {item_code} / ingesting {path.name} ..."):
            summary = ingest(
                runtime, path=path, item_code=item_code, submitter_uscc=centre["uscc"], catalog=catalog
            )
        batches.append(summary)
        with runtime.engine.begin() as conn:
            record_submission(
                conn, principal=SEEDER, summary=summary, submitter=centre["uscc"], clock=runtime.clock
            )
    with console.status("建立名称检索索引 / building the name search index ..."):
        rebuild_search(runtime.engine, clock=runtime.clock)
    with runtime.engine.begin() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(subjects_table)).scalar_one()
        audit.record(
            conn,
            principal=SEEDER,
            action="demo.seed",
            clock=runtime.clock,
            detail={"subjects": count, "seed": seed, "batches": [b.batch_id for b in batches]},
        )
    return DemoSummary(subjects=count, batches=batches, accounts_file=accounts)


def _demo_accounts(conn: sa.Connection, runtime: Runtime) -> Path:
    """One account per role, sharing a password made for this home (never a password written in code)."""
    password = secrets.token_urlsafe(12)
    settings = SecuritySettings.load(runtime.settings)
    lines = [
        "# Xinyong 演示账号 / demo accounts — synthetic data only; every account shares this password.",
        f"password: {password}",
    ]
    for username, display, role, org_kind in _DEMO_ACCOUNTS:
        orgs = list_organisations(conn, kind=org_kind)
        if not orgs:
            continue
        org = next((o for o in orgs if "信用信息中心" in o["name"]), orgs[0])
        create_user(
            conn,
            username=username,
            display_name=display,
            role=role,
            password=password,
            organisation_uscc=org["uscc"],
            clock=runtime.clock,
            settings=settings,
        )
        audit.record(
            conn,
            principal=SEEDER,
            action="user.add",
            clock=runtime.clock,
            object_type="user",
            object_id=username,
            detail={"role": role, "organisation": org["uscc"]},
        )
        lines.append(f"{username}: {role} @ {org['name']}")
    path = runtime.settings.home / ACCOUNTS_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
