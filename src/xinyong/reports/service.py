"""Issuing a credit report: decide who may have which kind, read through disclose(), number it, store its
canonical JSON and digest, typeset and sign the PDF, audit and count it. The only place that writes
reports; the API, the portal's buttons and `xinyong report make` all call `issue`.

- public      anyone; what the portal shows at the public level (flows.look_up at `public`)
- full        the subject itself (本人查询): the public and 授权查询 levels; free up to the policy's
              `self_query.free_reports_per_year` a calendar year
- authorised  a qualified agency holding the subject's authorisation for the declared purpose: the look-up
              is the authorised one (quota, query log, audit — flows.look_up at `authorised`)
- special     专项信用报告 over a period and domains (catalog/data/domains.yaml `special_report`)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.apply.queries import public_entries
from xinyong.catalog.domains import Domains, load_domains
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.clock import CHINA
from xinyong.disclose import flows
from xinyong.disclose.limits import QueryRefused
from xinyong.disclose.models import Disclosure
from xinyong.disclose.service import disclose, shown_subject_name
from xinyong.policy import Policy, load_policy
from xinyong.problems import Problem
from xinyong.reports import content
from xinyong.reports.document import report_pdf
from xinyong.reports.models import KINDS, reports
from xinyong.reports.settings import ReportSettings
from xinyong.reports.signing import ensure_keys, sign_pdf
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.access import audience_for, check
from xinyong.security.errors import AccessDenied
from xinyong.security.principal import Principal
from xinyong.subjects.models import subjects

SPECIAL_PURPOSE = "出具专项信用报告 / special credit report"
# Report numbers: XY, the issue day, and 8 characters from an alphabet without 0/O, 1/I/L: unguessable
# (a number is no key to anything but the verify page), unambiguous when read aloud from paper.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class ReportRefused(QueryRefused):
    """A report that cannot be issued (bad kind, period or domain; quota; not the subject itself)."""


@dataclass(frozen=True)
class Issued:
    number: str
    digest: str
    document: dict[str, Any]
    pdf: bytes
    pages: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {"number": self.number, "digest": self.digest, "pages": self.pages, "seconds": self.seconds}


def new_number(day: dt.date) -> str:
    return f"XY{day:%Y%m%d}" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def issue(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    code: str,
    kind: str,
    purpose: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    domains: list[str] | None = None,
    channel: str = "api",
    ip: str | None = None,
    catalog: Catalog | None = None,
    policy: Policy | None = None,
    domain_file: Domains | None = None,
) -> Issued:
    started = time.perf_counter()
    catalog = catalog or load_catalog()
    policy = policy or load_policy()
    domain_file = domain_file or load_domains()
    settings = ReportSettings.load(runtime.settings)
    clock = runtime.clock
    if kind not in KINDS:
        raise ReportRefused(
            "report.bad_kind",
            f"报告类型应为 {'、'.join(KINDS)} 之一",
            f"The report kind must be one of {', '.join(KINDS)}",
        )
    if kind == "special":
        subject_id, result, level, declared = _special(
            conn,
            runtime=runtime,
            principal=principal,
            code=code,
            catalog=catalog,
            policy=policy,
            domain_file=domain_file,
        )
        today = result.as_of
        period_to = date_to or today
        period_from = date_from or _years_before(period_to, domain_file.special.default_years)
        chosen = _chosen_domains(domains, domain_file)
        if period_from > period_to or period_to > today:
            raise ReportRefused(
                "report.bad_period",
                "查询期间无效：起始日不得晚于截止日，截止日不得晚于今天",
                "Invalid period: the start may not follow the end, nor the end follow today",
            )
    else:
        level = "public" if kind == "public" else "authorised"
        check(principal, "report.issue", route=True)
        found = flows.look_up(
            conn,
            runtime=runtime,
            principal=principal,
            code=code,
            level=level,  # type: ignore[arg-type]
            purpose=purpose,
            channel="report",  # query_log channel (QUERY_CHANNELS); the route is in the audit detail
            ip=ip,
            catalog=catalog,
            policy=policy,
        )
        subject_id, result, declared = found.subject_id, found.disclosure, found.purpose
        check(principal, "report.issue", level=level, audience=found.audience)
        wanted = {"full": "self", "authorised": "authorised"}.get(kind)
        if wanted is not None and found.audience != wanted:
            raise AccessDenied(
                Problem(
                    "report.wrong_audience",
                    "完整版仅限信用主体本人，授权查询版仅限持有其授权的信用服务机构",
                    "The full version is for the subject itself; the authorised version for an agency "
                    "holding its authorisation",
                )
            )
        if kind == "full":
            _within_free_quota(conn, subject_id, clock.now(), policy)
    entries = public_entries(conn, on=result.as_of, subject_id=subject_id)
    issued_at = clock.now()
    number = new_number(issued_at.astimezone(CHINA).date())
    head = {
        "number": number,
        "kind": kind,
        "issued_at": issued_at,
        "issuer": settings.issuer,
        "verify_url": f"{settings.public_url}/verify/{number}",
    }
    if kind == "special":
        document = content.special_report(
            result,
            entries,
            catalog,
            domain_file,
            date_from=period_from,
            date_to=period_to,
            chosen=chosen,
            **head,
        )
    else:
        document = content.credit_report(result, entries, catalog, **head)
    document = _json_plain(document)
    digest = content.digest(document)
    ensure_keys(settings, now=issued_at)
    pdf, signer = sign_pdf(report_pdf(document, digest), settings, number=number)
    pages = page_count(pdf)
    conn.execute(
        reports.insert().values(
            number=number,
            kind=kind,
            subject_id=subject_id,
            audience=result.audience,
            level=level,
            issued_at=issued_at,
            as_of=result.as_of,
            period_from=period_from if kind == "special" else None,
            period_to=period_to if kind == "special" else None,
            domains=chosen if kind == "special" else None,
            subject_label=_public_label(result, policy),
            records=document["records"],
            content_sealed=runtime.protector.encrypt(content.canonical(document).decode()),
            digest=digest,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            pages=pages,
            signer_sha256=signer,
            actor=principal.actor[:100],
            organisation_uscc=principal.organisation_uscc,
            channel=channel[:16],
        )
    )
    audit.record(
        conn,
        principal=principal,
        action="report.issue",
        clock=clock,
        object_type="report",
        object_id=number,
        subject=audit.SubjectRef.of_subject(conn, subject_id),
        level=level,
        purpose=declared,
        ip=ip,
        detail={
            "kind": kind,
            "digest": digest,
            "pages": pages,
            "records": document["records"],
            "channel": channel,
        },
    )
    return Issued(number, digest, document, pdf, pages, round(time.perf_counter() - started, 4))


def _special(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    code: str,
    catalog: Catalog,
    policy: Policy,
    domain_file: Domains,
) -> tuple[int, Disclosure, str, str]:
    """The special report reads as the domain file's audience says (government sharing by default): anyone
    may have an organisation's, only the person its own."""
    check(principal, "report.issue", level="public")
    subject_id = flows.resolve_code(conn, code, runtime)
    kind = conn.execute(sa.select(subjects.c.kind).where(subjects.c.id == subject_id)).scalar_one()
    spec = domain_file.special
    oneself = audience_for(conn, principal, subject_id=subject_id, clock=runtime.clock) == "self"
    if kind not in spec.public_for_kinds and not oneself:
        raise AccessDenied(
            Problem(
                "report.special_self_only",
                "自然人的专项信用报告仅限本人申请",
                "A natural person's special report is issued to the person only",
            )
        )
    result = disclose(
        conn,
        subject_id=subject_id,
        audience=spec.audience,
        clock=runtime.clock,
        catalog=catalog,
        policy=policy,
    )
    return subject_id, result, result.level, SPECIAL_PURPOSE


def _chosen_domains(domains: list[str] | None, domain_file: Domains) -> list[str]:
    known = [d.code for d in domain_file.domains]
    if not domains:
        return known
    unknown = [d for d in domains if d not in known]
    if unknown:
        raise ReportRefused(
            "report.unknown_domain",
            f"未知领域：{'、'.join(unknown)[:100]}；可选：{'、'.join(known)}",
            f"Unknown domain: {', '.join(unknown)[:100]}; choose from {', '.join(known)}",
        )
    return list(dict.fromkeys(domains))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28) + dt.timedelta(days=1)


def _within_free_quota(conn: sa.Connection, subject_id: int, now: dt.datetime, policy: Policy) -> None:
    free = int(policy.self_query.free_reports_per_year.value)
    year_start = dt.datetime(now.astimezone(CHINA).year, 1, 1, tzinfo=CHINA)
    used = conn.execute(
        sa.select(sa.func.count())
        .select_from(reports)
        .where(
            reports.c.subject_id == subject_id, reports.c.kind == "full", reports.c.issued_at >= year_start
        )
    ).scalar_one()
    if used >= free:
        raise ReportRefused(
            "report.quota_exhausted",
            f"本年度免费完整版信用报告（{free} 份）已用完",
            f"This year's free full reports ({free}) are used up",
            status=429,
        )


def _public_label(result: Disclosure, policy: Policy) -> str:
    subject = result.subject
    name = shown_subject_name(subject["name"], subject["kind"], "public", policy)
    return f"{name}（{subject['code']}）"[:300]


def _json_plain(document: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(content.canonical(document))


def page_count(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])


def counts(conn: sa.Connection) -> dict[str, int]:
    """How many reports were issued, by kind."""
    rows = conn.execute(sa.select(reports.c.kind, sa.func.count()).group_by(reports.c.kind))
    return {kind: n for kind, n in rows}
