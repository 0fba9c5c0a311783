"""`xinyong demo`: a working platform on synthetic Hubei data, seeded through the real pipeline.

Organisations come from the packaged Hubei tree; subjects, their registrations, licences and penalties from
the generator (who issues what is data: demo/data/remits.yaml and trades.yaml). The files are written to
XINYONG_HOME/demo/ (so an operator can open what a provider sends) and loaded with the same ingest a
provider's upload uses: first the registrations (企业登记基础信息), sent by the provincial market regulator,
then the licences and penalties, which the credit information centre loads for the city departments. A few
of those rows are deliberately bad, so the feedback file has something to show. Seeding an already seeded
home does nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from rich.console import Console

from xinyong.catalog.loader import load_catalog
from xinyong.clock import Clock
from xinyong.collect.auditing import record_submission
from xinyong.collect.service import BatchSummary, ingest
from xinyong.demo.generate import licences, make_world, penalties, registrations
from xinyong.disclose.search import rebuild as rebuild_search
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.accounts import create_user
from xinyong.security.organisations import (
    add_organisation,
    find_organisation,
    list_organisations,
    load_organisations,
)
from xinyong.security.principal import Principal
from xinyong.security.roles import load_roles
from xinyong.security.settings import SecuritySettings
from xinyong.store.engine import upgrade
from xinyong.subjects.models import subjects as subjects_table

ACCOUNTS_FILE = "demo-accounts.txt"
CENTRE = "湖北省信用信息中心"  # runs the platform; loads the city departments' files in the demo
MARKET_REGULATOR = "湖北省市场监督管理局"  # the registration authority: sends 企业登记基础信息 (QYJC)
SEEDER = Principal.system("demo")  # who the audit trail says seeded the demo
# Who signs in to the demo: username, display name, role, organisation (by name, from the Hubei tree).
_DEMO_ACCOUNTS = (
    ("admin", "平台管理员", "platform_admin", CENTRE),
    ("operator", "信用中心操作员", "credit_office", CENTRE),
    ("provider", "市场监管局报送员", "provider", MARKET_REGULATOR),
    ("government", "住建厅审批人员", "government", "湖北省住房和城乡建设厅"),
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
    runtime.settings.ensure_home()
    upgrade(runtime.engine)
    with runtime.engine.connect() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(subjects_table)).scalar_one()
    if existing:
        return DemoSummary(subjects=existing, batches=[], accounts_file=None, already_seeded=True)

    with runtime.engine.begin() as conn:
        loaded = load_organisations(conn, runtime.clock)
        audit.record(
            conn,
            principal=SEEDER,
            action="org.seed",
            clock=runtime.clock,
            detail={"created": loaded.created, "existing": loaded.existing},
        )
        by_name = {o["name"]: o for o in list_organisations(conn)}
        accounts = _demo_accounts(conn, runtime, by_name)

    catalog = load_catalog()
    folder = runtime.settings.home / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    world = make_world(subjects, seed=seed)
    with runtime.engine.begin() as conn:
        register_departments(
            conn,
            world.departments,
            parent_of={"market": by_name[MARKET_REGULATOR]["uscc"]},
            parent_uscc=by_name[CENTRE]["uscc"],
            clock=runtime.clock,
        )
    end = runtime.clock.today()
    files = {  # registrations first: every organisation is on the platform before anything is said of it
        "QYJC": (registrations(world, item=catalog.item("QYJC"), end=end), by_name[MARKET_REGULATOR]),
        "XZXK": (
            licences(
                world, subjects * 2, item=catalog.item("XZXK"), seed=seed + 1, end=end, bad_fraction=0.005
            ),
            by_name[CENTRE],
        ),
        "XZCF": (
            penalties(world, subjects, item=catalog.item("XZCF"), seed=seed + 2, end=end, bad_fraction=0.01),
            by_name[CENTRE],
        ),
    }
    batches = []
    for item_code, (generated, submitter) in files.items():
        path = folder / f"{item_code}.csv"
        generated.frame.write_csv(path)
        with console.status(f"归集 {item_code} / ingesting {path.name} ..."):
            summary = ingest(
                runtime, path=path, item_code=item_code, submitter_uscc=submitter["uscc"], catalog=catalog
            )
        batches.append(summary)
        with runtime.engine.begin() as conn:
            record_submission(
                conn, principal=SEEDER, summary=summary, submitter=submitter["uscc"], clock=runtime.clock
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


def register_departments(
    conn: sa.Connection,
    departments: pl.DataFrame,
    *,
    parent_uscc: str,
    clock: Clock,
    parent_of: dict[str, str] | None = None,
) -> None:
    """The generated departments (World.departments) as organisations below the system sending their files.

    Only a data source itself, or an organisation above it in the organisation tree, may send its records
    (collect/ownership.py): the city market bureaus sit below the provincial market regulator, which sends
    their registrations; every other department below the centre, which sends their licences and penalties.
    """
    rows = departments.select("kind", "uscc", "name", "division").iter_rows()
    for kind, uscc, name, division in rows:
        if find_organisation(conn, uscc) is None:
            add_organisation(
                conn,
                name=name,
                uscc=uscc,
                kind="provider",
                parent_uscc=(parent_of or {}).get(kind, parent_uscc),
                division_code=division,
                clock=clock,
            )


def _demo_accounts(conn: sa.Connection, runtime: Runtime, by_name: dict[str, dict[str, Any]]) -> Path:
    """One account per role, sharing a password made for this home (never a password written in code)."""
    password = secrets.token_urlsafe(12)
    settings = SecuritySettings.load(runtime.settings)
    roles = load_roles()
    lines = [
        "# Xinyong 演示账号 / demo accounts — synthetic data only. Every account shares the password below.",
        '# 登录 / sign in: POST /api/v1/auth/login {"username": ..., "password": ...} (or try it at /docs)',
        f"password: {password}",
        "",
    ]
    for username, display, role, organisation in _DEMO_ACCOUNTS:
        org = by_name[organisation]
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
        role_zh = roles.roles[role].zh
        lines.append(f"username: {username:<10}  role: {role}（{role_zh}）  organisation: {org['name']}")
    path = runtime.settings.home / ACCOUNTS_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
