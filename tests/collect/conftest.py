"""A small collection world: two departments, a city collection system, and hand-written penalty rows.

Files are written by hand (real GB18030 bytes, real xlsx) so that each test shows exactly which cell is
wrong and which problem code must come back on which row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbtools import TEST_KEY
from xinyong.clock import FixedClock
from xinyong.collect.service import BatchSummary, ingest, reveal
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.tables import records, rejected_rows

# Synthetic but valid codes (GB 32100 / GB 11643 / 15-digit 注册号 check characters).
DEPT = "11420100Q0100001XM"  # 武汉市市场监督管理局: decides penalties, 数据来源单位
DEPT2 = "11420500Q05000017Y"  # 宜昌市市场监督管理局
CITY = "12420100Q01000028J"  # 武汉市公共信用信息平台: a city collection system forwarding departments' data
UNREGISTERED = "11420600Q06000019G"
COMPANY = "91420100MA4K00010R"
SHOP = "92420100MA4K00029K"
COMPANY2 = "91420106MA4K000378"
PERSON = "420106198001011237"
REGNO = "420106000000016"
PLACEHOLDER = "00000000000000000X"

H = {  # field code -> the catalogue's Chinese header (XZCF)
    "xdr_mc": "行政相对人名称",
    "xdr_lb": "行政相对人类别",
    "xdr_dm1": "行政相对人代码_1(统一社会信用代码)",
    "xdr_dm2": "行政相对人代码_2(工商注册号)",
    "xdr_dm3": "行政相对人代码_3(组织机构代码)",
    "xdr_zjlx": "证件类型",
    "xdr_zjhm": "证件号码",
    "cf_wsh": "行政处罚决定书文号",
    "cf_wfxw": "违法行为类型",
    "cf_sy": "违法事实",
    "cf_yj": "处罚依据",
    "cf_cflb": "处罚类别",
    "cf_nr": "处罚内容",
    "cf_nr_fk": "罚款金额(万元)",
    "cf_nr_wfff": "没收违法所得、没收非法财物的金额(万元)",
    "cf_nr_zkdx": "暂扣或吊销证照名称及编号",
    "cf_jdrq": "处罚决定日期",
    "cf_yxq": "处罚有效期",
    "cf_cfjg": "处罚机关",
    "cf_cfjgdm": "处罚机关统一社会信用代码",
    "cf_sjly": "数据来源单位",
    "cf_sjlydm": "数据来源单位统一社会信用代码",
}
HEADERS = [
    H[c]
    for c in (
        "xdr_mc",
        "xdr_lb",
        "xdr_dm1",
        "xdr_dm2",
        "xdr_zjlx",
        "xdr_zjhm",
        "cf_wsh",
        "cf_wfxw",
        "cf_sy",
        "cf_yj",
        "cf_cflb",
        "cf_nr",
        "cf_nr_fk",
        "cf_nr_wfff",
        "cf_nr_zkdx",
        "cf_jdrq",
        "cf_yxq",
        "cf_cfjg",
        "cf_cfjgdm",
        "cf_sjly",
        "cf_sjlydm",
    )
]


def penalty(n: int = 1, **changes: str | None) -> dict[str, str | None]:
    """A valid 行政处罚 row keyed by header: a company fined 3 万元; `changes` by field code."""
    row: dict[str, str | None] = {h: None for h in HEADERS}
    values = {
        "xdr_mc": "武汉华信科技有限公司",
        "xdr_lb": "法人及非法人组织",
        "xdr_dm1": COMPANY,
        "cf_wsh": f"武市监罚〔2026〕{n}号",
        "cf_wfxw": "发布虚假广告",
        "cf_sy": "经查，当事人发布虚假广告，违反了《中华人民共和国广告法》的规定。",
        "cf_yj": "《中华人民共和国广告法》第五十五条",
        "cf_cflb": "罚款",
        "cf_nr": "罚款三万元",
        "cf_nr_fk": "3",
        "cf_jdrq": "2026-06-10",
        "cf_yxq": "2029-06-10",
        "cf_cfjg": "武汉市市场监督管理局",
        "cf_cfjgdm": DEPT,
        "cf_sjly": "武汉市市场监督管理局",
        "cf_sjlydm": DEPT,
    }
    values.update(changes)
    for code, value in values.items():
        row[H[code]] = value
    return row


# A penalty of 宜昌市市场监督管理局: DEPT2 decided it and is its 数据来源单位.
OF_DEPT2 = {
    "cf_cfjg": "宜昌市市场监督管理局",
    "cf_cfjgdm": DEPT2,
    "cf_sjly": "宜昌市市场监督管理局",
    "cf_sjlydm": DEPT2,
}
# What the attacker of issue #8 changed in another department's record: the penalty, its amount, the company.
REWRITE = {"cf_cflb": "警告;罚款", "cf_nr": "警告并处罚款一百元", "cf_nr_fk": "0.01"}
OTHER_COMPANY = {"xdr_mc": "武汉某某贸易有限公司", "xdr_dm1": COMPANY2}


def person_penalty(n: int, **changes: str | None) -> dict[str, str | None]:
    return penalty(
        n,
        **{
            "xdr_mc": "张伟",
            "xdr_lb": "自然人",
            "xdr_dm1": None,
            "xdr_zjlx": "身份证",
            "xdr_zjhm": PERSON,
            "cf_cflb": "警告",
            "cf_nr": "警告",
            "cf_nr_fk": None,
            **changes,
        },
    )


def csv_bytes(rows: Iterable[Mapping[str, Any]], *, headers: list[str] | None = None) -> str:
    rows = list(rows)
    headers = headers or list({h: None for row in rows for h in row})  # every row's keys, in order
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else row.get(h) for h in headers])
    return buffer.getvalue()


def write_csv(
    path: Path,
    rows: Iterable[Mapping[str, Any]],
    *,
    encoding: str = "utf-8",
    headers: list[str] | None = None,
) -> Path:
    path.write_bytes(csv_bytes(rows, headers=headers).encode(encoding))
    return path


@pytest.fixture
def runtime(
    settings: Settings, engine: sa.Engine, protector: PersonalIdProtector, clock: FixedClock
) -> Runtime:
    return Runtime(settings=settings, engine=engine, protector=protector, clock=clock)


@pytest.fixture
def orgs(runtime: Runtime) -> dict[str, str]:
    """The city collection system forwards for both departments: the tree places them under it."""
    with runtime.engine.begin() as conn:
        for uscc, name, kind, parent in (
            (CITY, "武汉市公共信用信息共享平台", "credit_office", None),
            (DEPT, "武汉市市场监督管理局", "provider", CITY),
            (DEPT2, "宜昌市市场监督管理局", "provider", CITY),
        ):
            add_organisation(conn, name=name, uscc=uscc, kind=kind, parent_uscc=parent, clock=runtime.clock)
    return {"dept": DEPT, "dept2": DEPT2, "city": CITY}


Ingest = Callable[..., BatchSummary]


@pytest.fixture
def send(runtime: Runtime, orgs: dict[str, str], tmp_path: Path) -> Ingest:
    """send(rows or path, submitter=DEPT, name="f.csv", **ingest options) -> BatchSummary, reconciled."""
    counter = iter(range(1_000_000))

    def run(
        rows: Iterable[Mapping[str, Any]] | Path,
        *,
        submitter: str = DEPT,
        item: str = "XZCF",
        name: str | None = None,
        encoding: str = "utf-8",
        headers: list[str] | None = None,
        **options: Any,
    ) -> BatchSummary:
        if isinstance(rows, Path):
            path = rows
        else:
            path = write_csv(
                tmp_path / (name or f"send-{next(counter)}.csv"), rows, encoding=encoding, headers=headers
            )
        summary = ingest(runtime, path=path, item_code=item, submitter_uscc=submitter, **options)
        assert summary.reconciles, summary.as_dict()
        return summary

    return run


def reasons(engine: sa.Engine, batch_id: int | None) -> dict[int, list[str]]:
    """Row number -> the problem codes of that rejected row, for one batch."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(rejected_rows.c.row_number, rejected_rows.c.reasons)
            .where(rejected_rows.c.batch_id == batch_id)
            .order_by(rejected_rows.c.row_number)
        ).all()
    return {r.row_number: [p["code"] for p in r.reasons] for r in found}


def record_of(engine: sa.Engine, source: str, key: str) -> dict[str, Any] | None:
    """The record of one identity as stored (data decoded), or None."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(records).where(records.c.source_uscc == source, records.c.source_key == key)
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    data = row["data"]
    return {**row, "data": json.loads(data) if isinstance(data, str) else data}


def fields_of(engine: sa.Engine, batch_id: int | None) -> dict[int, list[tuple[str, str | None]]]:
    """Row number -> (problem code, field) pairs: which cell each problem is about."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(rejected_rows.c.row_number, rejected_rows.c.reasons).where(
                rejected_rows.c.batch_id == batch_id
            )
        ).all()
    return {r.row_number: [(p["code"], p.get("field")) for p in r.reasons] for r in found}


def revealed(raw: Any) -> dict[str, Any]:
    """A rejected row's kept cells as its provider's feedback shows them (names and ID numbers decrypted)."""
    return reveal(raw if isinstance(raw, dict) else json.loads(raw), PersonalIdProtector(TEST_KEY))
