"""What a report says: built only from `disclose()` (the records) and the apply chapter's public list
entries (名单), so that a report, the subject page, the API and the CSV export cannot disagree.

A record appears in the report exactly as `ShownRecord.as_dict()` — the API's shape — with its fields
labelled in catalogue order for the document. The canonical JSON (`canonical`) is what is stored, digested
and returned to machines; the PDF is typeset from the same dictionary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from xinyong.catalog.domains import Domains
from xinyong.catalog.loader import Catalog
from xinyong.clock import CHINA
from xinyong.disclose.models import Disclosure, ShownRecord
from xinyong.security.roles import load_roles

FORMAT = "xinyong-report/1"

TITLES: dict[str, tuple[str, str]] = {
    "public": ("公共信用信息报告（公开版）", "Public credit information report (public version)"),
    "full": ("公共信用信息报告（完整版·本人查询）", "Public credit information report (full version, self)"),
    "authorised": ("公共信用信息报告（授权查询版）", "Public credit information report (authorised version)"),
    "special": (
        "专项信用报告（替代有无违法违规记录证明）",
        "Special credit report (in place of certificates of no violation)",
    ),
}

NOTICE_COMMON = (
    "本报告仅载明本平台依据公共信用信息目录归集、截至数据截止时间、按查询身份可披露的公共信用信息，"
    "不包括金融信用信息基础数据库的信贷信息、市场信用信息及目录以外的信息，也不是对信用主体的信用评价。",
    "信息以信息提供单位报送为准；标注“异议处理中”的信息正在核查。对内容有异议的，可向本平台提出异议。",
    "扫描二维码或访问核验地址，可核对本报告的编号、出具时间和摘要，并上传本文件逐字节核验；"
    "本文件带有本平台的电子签名（PAdES），任何改动都会使签名失效。",
)
NOTICE_SPECIAL = (
    "本专项报告仅反映所选期间、所选领域内本平台归集的行政处罚（含简易程序）、行政强制、"
    "严重失信主体名单和刑事判决信息；已完成信用修复或已撤销的记录不予载明；未选领域不在本报告证明范围内。",
)


def canonical(document: dict[str, Any]) -> bytes:
    """The one byte form of a report: sorted keys, no spaces, UTF-8 — what the digest is taken over."""
    return json.dumps(
        document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain
    ).encode()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def labelled(record: ShownRecord, catalog: Catalog) -> dict[str, Any]:
    """The record as the API shows it, plus its fields labelled in catalogue order (for the document). The
    document leaves out the fields that repeat the subject's identity or the source department, which the
    report shows once (`data` keeps every field)."""
    item = catalog.item(record.item_code)
    shown = record.as_dict()
    shown["fields"] = [
        {"code": spec.code, "name_zh": spec.name_zh, "value": _text(record.data.get(spec.code))}
        for spec in item.fields
        if record.data.get(spec.code) not in (None, "", []) and spec.code not in _repeated(item)
    ]
    return shown


def _repeated(item: Any) -> frozenset[str]:
    fields = {v for v in item.subject_fields.model_dump().values() if isinstance(v, str)}
    if item.data_source is not None:
        fields |= {v for v in item.data_source.model_dump().values() if isinstance(v, str)}
    return frozenset(fields)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "；".join(str(v) for v in value)
    return str(_plain(value)) if isinstance(value, dt.date | Decimal) else str(value)


def header(
    *, number: str, kind: str, issued_at: dt.datetime, result: Disclosure, issuer: str, verify_url: str
) -> dict[str, Any]:
    audience = load_roles().audiences[result.audience]
    title_zh, title_en = TITLES[kind]
    return {
        "format": FORMAT,
        "number": number,
        "kind": kind,
        "title_zh": title_zh,
        "title_en": title_en,
        "issued_at": issued_at.astimezone(CHINA).isoformat(timespec="seconds"),
        "data_as_of": issued_at.astimezone(CHINA).isoformat(timespec="seconds"),
        "as_of": result.as_of.isoformat(),
        "issuer": {"name": issuer, "verify_url": verify_url},
        "audience": {"code": result.audience, "zh": audience.zh, "en": audience.en},
        "level": result.level,
        "subject": result.subject,
    }


def credit_report(
    result: Disclosure, entries: list[dict[str, Any]], catalog: Catalog, **head: Any
) -> dict[str, Any]:
    """The public, full or authorised report: every record the audience may see, by catalogue item."""
    sections = [
        {
            "item": {"code": code, "name_zh": rows[0].item_name_zh, "name_en": rows[0].item_name_en},
            "records": [labelled(r, catalog) for r in rows],
        }
        for code, rows in result.by_item().items()
    ]
    return {
        **header(result=result, **head),
        "sections": sections,
        "lists": entries,
        "records": len(result.records),
        "notice": list(NOTICE_COMMON),
    }


def special_report(
    result: Disclosure,
    entries: list[dict[str, Any]],
    catalog: Catalog,
    domains: Domains,
    *,
    date_from: dt.date,
    date_to: dt.date,
    chosen: list[str],
    **head: Any,
) -> dict[str, Any]:
    """The special report: for each chosen domain, the covered records decided within the period (or "no
    record found"), and the black-list entries decided within it that are in force."""
    spec = domains.special
    by_domain: dict[str, dict[str, list[Any]]] = {code: {"records": [], "lists": []} for code in chosen}
    for record in result.records:
        if record.item_code not in spec.items or record.state in spec.omit_states:
            continue
        if record.decision_date is None or not (date_from <= record.decision_date <= date_to):
            continue
        domain = domains.of_record(record.item_code, record.source_name)
        if domain in by_domain:
            by_domain[domain]["records"].append(labelled(record, catalog))
    for entry in entries:
        if entry["kind"] not in spec.list_kinds:
            continue
        decided = dt.date.fromisoformat(entry["decided_on"])
        domain = domains.of_list_type(entry["list_type"])
        if date_from <= decided <= date_to and domain in by_domain:
            by_domain[domain]["lists"].append(entry)
    covered = [
        {"code": c, "name_zh": catalog.item(c).name_zh, "name_en": catalog.item(c).name_en}
        for c in spec.items
    ]
    rows = []
    for code in chosen:
        d = domains.domain(code)
        found = by_domain[code]
        rows.append(
            {
                "code": code,
                "zh": d.zh,
                "en": d.en,
                "found": bool(found["records"] or found["lists"]),
                "records": found["records"],
                "lists": found["lists"],
            }
        )
    return {
        **header(result=result, **head),
        "special": {
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "items": covered,
            "domains": rows,
        },
        "records": sum(len(r["records"]) + len(r["lists"]) for r in rows),
        "notice": list(NOTICE_SPECIAL + NOTICE_COMMON),
    }
