"""Organisations as a tree (province → prefecture / 直管市 → county), and agencies' qualification review.

Every account belongs to an organisation (or is a natural person acting for themself): that is the
"named responsibility" of the security duties. The seed tree of Hubei is `data/hubei-organisations.yaml`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from xinyong.clock import Clock
from xinyong.codes import check_uscc, normalize_code
from xinyong.problems import Problem, ProblemError
from xinyong.security.models import QUALIFICATION_STATES, agency_qualifications
from xinyong.store.tables import ORG_KINDS, organisations

KIND_LABELS = {
    "credit_office": "信用办/信用信息中心 credit office",
    "provider": "信息提供单位 provider department",
    "government": "政务共享用户单位 government user",
    "agency": "信用服务机构 credit service agency",
    "enterprise": "企业（信用主体本身）enterprise acting for itself",
    "platform": "平台运维单位 platform operator",
}


def add_organisation(
    conn: sa.Connection,
    *,
    name: str,
    uscc: str,
    kind: str,
    clock: Clock,
    parent_uscc: str | None = None,
    division_code: str | None = None,
    name_en: str | None = None,
) -> int:
    code = normalize_code(uscc)
    result = check_uscc(code)
    if not result.valid:
        raise ProblemError(*result.errors)
    if kind not in ORG_KINDS:
        raise ProblemError(
            Problem(
                "security.org_kind",
                f"机构类型“{kind}”无效，可选：{'、'.join(ORG_KINDS)}",
                f"unknown organisation kind {kind!r}; one of {', '.join(ORG_KINDS)}",
                field="kind",
            )
        )
    if not name.strip():
        raise ProblemError(
            Problem("security.org_name", "机构名称不能为空", "an organisation needs a name", field="name")
        )
    if find_organisation(conn, code) is not None:
        raise ProblemError(
            Problem(
                "security.org_exists",
                f"统一社会信用代码 {code} 的机构已存在",
                f"an organisation with USCC {code} exists",
            )
        )
    parent_id = None
    if parent_uscc:
        parent = find_organisation(conn, normalize_code(parent_uscc))
        if parent is None:
            raise ProblemError(
                Problem(
                    "security.org_parent",
                    f"上级机构 {parent_uscc} 不存在",
                    f"no parent organisation with USCC {parent_uscc}",
                    field="parent",
                )
            )
        parent_id = parent["id"]
    return conn.execute(
        organisations.insert()
        .values(
            uscc=code,
            name=name.strip(),
            name_en=name_en,
            kind=kind,
            division_code=division_code or code[2:8],
            parent_id=parent_id,
            status="active",
            created_at=clock.now(),
        )
        .returning(organisations.c.id)
    ).scalar_one()


def find_organisation(conn: sa.Connection, uscc: str) -> dict[str, Any] | None:
    row = (
        conn.execute(sa.select(organisations).where(organisations.c.uscc == normalize_code(uscc)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def require_organisation(conn: sa.Connection, uscc: str) -> dict[str, Any]:
    org = find_organisation(conn, uscc)
    if org is None:
        raise ProblemError(
            Problem(
                "security.org_missing",
                f"统一社会信用代码 {uscc} 的机构不存在",
                f"no organisation with USCC {uscc}",
            )
        )
    return org


def subtree(conn: sa.Connection, uscc: str) -> dict[str, str]:
    """The organisation and every organisation below it in the tree, USCC -> name (empty if unknown).

    This is whose records the organisation may send: its own, and those of the departments and lower
    systems a collection system forwards for (汇集转报). One recursive query, on both databases.
    """
    o = organisations
    top = sa.select(o.c.id, o.c.uscc, o.c.name).where(o.c.uscc == normalize_code(uscc))
    tree = top.cte("tree", recursive=True)
    below = sa.select(o.c.id, o.c.uscc, o.c.name).join(tree, o.c.parent_id == tree.c.id)
    tree = tree.union(below)  # UNION, not UNION ALL: a cycle typed into the table ends, never loops
    return {row.uscc: row.name for row in conn.execute(sa.select(tree.c.uscc, tree.c.name))}


def list_organisations(conn: sa.Connection, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Organisations in tree order (each after its parent), with `depth` and `parent_uscc`."""
    parent = organisations.alias("parent")
    query = sa.select(organisations, parent.c.uscc.label("parent_uscc")).outerjoin(
        parent, parent.c.id == organisations.c.parent_id
    )
    rows = [dict(r) for r in conn.execute(query.order_by(organisations.c.id)).mappings()]
    children: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(row)
    ordered: list[dict[str, Any]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for row in children.get(parent_id, []):
            ordered.append({**row, "depth": depth})
            walk(row["id"], depth + 1)

    walk(None, 0)
    return [r for r in ordered if kind is None or r["kind"] == kind]


# --------------------------------------------------------------------------------------------- seed


@dataclass(frozen=True)
class SeedSummary:
    created: int
    existing: int


def load_organisations(conn: sa.Connection, clock: Clock, *, path: Path | None = None) -> SeedSummary:
    """Load the Hubei organisation tree (or another file of the same shape). Idempotent: organisations
    whose USCC is already present are left as they are."""
    text = path.read_text(encoding="utf-8") if path else _packaged_tree()
    tree = yaml.safe_load(text)["organisations"]
    created = existing = 0

    def walk(nodes: list[dict[str, Any]], parent: str | None) -> None:
        nonlocal created, existing
        for node in nodes:
            if find_organisation(conn, node["uscc"]) is None:
                add_organisation(
                    conn,
                    name=node["name"],
                    name_en=node.get("name_en"),
                    uscc=node["uscc"],
                    kind=node["kind"],
                    division_code=str(node["division_code"]),
                    parent_uscc=parent,
                    clock=clock,
                )
                created += 1
            else:
                existing += 1
            walk(node.get("children") or [], node["uscc"])

    walk(tree, None)
    return SeedSummary(created, existing)


def _packaged_tree() -> str:
    return (
        resources.files("xinyong.security")
        .joinpath("data/hubei-organisations.yaml")
        .read_text(encoding="utf-8")
    )


# --------------------------------------------------------------------------------------------- agencies


def review_agency(
    conn: sa.Connection,
    *,
    uscc: str,
    status: str,
    quota_per_month: int,
    reviewed_by: str,
    clock: Clock,
    valid_until: dt.date | None = None,
    note: str | None = None,
) -> None:
    """Record the qualification review of a credit service agency (approve, suspend, revoke) and its quota."""
    org = require_organisation(conn, uscc)
    if org["kind"] != "agency":
        raise ProblemError(
            Problem(
                "security.not_agency",
                f"{org['name']} 不是信用服务机构，无需资质审核",
                f"{org['name']} is not a credit service agency",
            )
        )
    if status not in QUALIFICATION_STATES or quota_per_month < 0:
        raise ValueError(f"status one of {QUALIFICATION_STATES}, quota >= 0")
    now = clock.now()
    values = {
        "status": status,
        "quota_per_month": quota_per_month,
        "valid_until": valid_until,
        "reviewed_by": reviewed_by,
        "reviewed_at": now,
        "note": note,
    }
    q = agency_qualifications
    updated = conn.execute(q.update().where(q.c.organisation_id == org["id"]).values(**values))
    if updated.rowcount == 0:
        conn.execute(q.insert().values(organisation_id=org["id"], created_at=now, **values))


def acting_for(conn: sa.Connection, org: str | None, *, actor: str, roles: dict[str, str]) -> Any:
    """The principal a command-line operator acts as: the platform itself without `org`, otherwise the
    registered organisation, in the role `roles` gives its kind (default provider). Each chapter's command
    line passes its own mapping; an unknown organisation is refused."""
    from xinyong.security.principal import Principal

    if not org:
        return Principal.system(actor)
    found = find_organisation(conn, org.strip().upper())
    if found is None:
        raise ProblemError(
            Problem(
                "security.org_unknown",
                f"机构 {org} 未在平台登记",
                f"no organisation {org} is registered",
                field="org",
            )
        )
    return Principal(
        kind="system",
        role=roles.get(found["kind"], "provider"),
        actor=f"system:{actor}"[:100],
        display_name=found["name"],
        organisation_id=found["id"],
        organisation_uscc=found["uscc"],
        organisation_name=found["name"],
    )
