"""One subject's records, loaded through the real collection pipeline, for the disclosure tests.

武汉华信科技有限公司 (a valid synthetic USCC) has seven records that exercise every period rule, loaded on
2026-06-15 (the suite's clock) from provider files with Chinese headers, exactly as a provider sends them:

    P1  XZCF 一般 (罚款 1 万元)         2025-01-10  publicity ended 2026-01-10, provided to 2030-01-10
    P2  XZCF 严重 (吊销许可证件)        2024-03-01  publicity to 2027-03-01
    P3  XZCF 轻微 (警告 only)           2026-05-01  not published; the subject and government see it
    P4  XZCF SAMR (警告;罚款 0.3 万元)  2026-06-01  总局令第45号: 3 months from publication, to 2026-09-15
    P5  XZCF 一般, old                  2019-02-01  archived since 2024-02-01 (platform only)
    L1  XZXK long-term (有效期至 2099-12-31)        shown without end
    L2  XZXK valid until 2026-08-31                 shown to 2026-08-31

A natural person (张三丰, GB 11643's example number) has one penalty in publicity: the public sees 张**.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.clock import FixedClock
from xinyong.codes import make_uscc
from xinyong.collect.service import ingest
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation
from xinyong.store.tables import records
from xinyong.subjects.models import subjects

LOAD_DAY = "2026-06-15T10:00:00"
SUBMITTER = make_uscc("1", "1", "420000", "Q0000023")  # the provincial collection system
COMPANY = make_uscc("9", "1", "420106", "MA4KHX01")
COMPANY_NAME = "武汉华信科技有限公司"
PERSON_ID = "11010519491231002X"
PERSON_NAME = "张三丰"
ENV_BUREAU = (make_uscc("1", "1", "420100", "Q0100201"), "武汉市生态环境局")
SAMR_BUREAU = (make_uscc("1", "1", "420100", "Q0100202"), "武汉市市场监督管理局")
LICENSER = (make_uscc("1", "1", "420100", "Q0100203"), "武汉市行政审批局")


@dataclass
class Timeline:
    runtime: Runtime
    catalog: Catalog
    company_id: int
    person_id: int
    ids: dict[str, int] = field(default_factory=dict)  # label (P1…, L1…, PERSON) -> record id
    keys: dict[str, str] = field(default_factory=dict)  # label -> source key (文书号)

    def label(self, record_id: int) -> str:
        return next(k for k, v in self.ids.items() if v == record_id)

    def labels(self, record_ids: list[int]) -> set[str]:
        return {self.label(i) for i in record_ids}

    def address(self, subject_id: int) -> str:
        """The subject's page address when it has no public code: xy- and its opaque reference."""
        with self.runtime.engine.connect() as conn:
            ref = conn.execute(
                sa.select(subjects.c.public_ref).where(subjects.c.id == subject_id)
            ).scalar_one()
        return f"xy-{ref}"

    def set_state(self, label: str, state: str) -> None:
        with self.runtime.engine.begin() as conn:
            conn.execute(records.update().where(records.c.id == self.ids[label]).values(state=state))


def _penalty(
    key: str,
    decided: str,
    kinds: str,
    *,
    fine: str | None = None,
    dept: tuple[str, str] = ENV_BUREAU,
    who: tuple[str, str, str] = (COMPANY_NAME, "法人及非法人组织", COMPANY),
    **extra: str,
) -> dict[str, Any]:
    name, kind, code = who
    person = kind == "自然人"
    return {
        "xdr_mc": name,
        "xdr_lb": kind,
        "xdr_dm1": None if person else code,
        "xdr_zjlx": "身份证" if person else None,
        "xdr_zjhm": code if person else None,
        "fr": None if person else "李华",
        "cf_wsh": key,
        "cf_wfxw": f"违法行为{key}",
        "cf_sy": "经查，当事人存在违法行为。",
        "cf_yj": "《中华人民共和国行政处罚法》",
        "cf_cflb": kinds,
        "cf_nr": f"决定给予{kinds}的行政处罚",
        "cf_nr_fk": fine,
        "cf_nr_zkdx": "许可证（编号00000001）" if "吊销" in kinds else None,
        "cf_jdrq": decided,
        "cf_yxq": "2099-12-31",
        "cf_cfjg": dept[1],
        "cf_cfjgdm": dept[0],
        "cf_sjly": dept[1],
        "cf_sjlydm": dept[0],
        **extra,
    }


def _licence(key: str, decided: str, until: str, title: str) -> dict[str, Any]:
    return {
        "xdr_mc": COMPANY_NAME,
        "xdr_lb": "法人及非法人组织",
        "xdr_dm1": COMPANY,
        "xk_xkws": f"准予行政许可决定书（{title}）",
        "xk_wsh": key,
        "xk_xklb": "普通",
        "xk_xkzs": title,
        "xk_xkbh": f"XK{key[-4:]}",
        "xk_nr": f"准予核发{title}",
        "xk_jdrq": decided,
        "xk_yxqz": decided,
        "xk_yxqzhi": until,
        "xk_xkjg": LICENSER[1],
        "xk_xkjgdm": LICENSER[0],
        "xk_zt": "1",
        "xk_sjly": LICENSER[1],
        "xk_sjlydm": LICENSER[0],
    }


PENALTIES = {
    "P1": _penalty("武环罚〔2025〕1号", "2025-01-10", "罚款", fine="1"),
    "P2": _penalty("武环罚〔2024〕2号", "2024-03-01", "吊销许可证件"),
    "P3": _penalty("武环罚〔2026〕3号", "2026-05-01", "警告"),
    "P4": _penalty("武市监罚〔2026〕4号", "2026-06-01", "警告;罚款", fine="0.3", dept=SAMR_BUREAU),
    "P5": _penalty("武环罚〔2019〕5号", "2019-02-01", "罚款", fine="2"),
    "PERSON": _penalty(
        "武环罚〔2026〕6号", "2026-04-20", "罚款", fine="0.5", who=(PERSON_NAME, "自然人", PERSON_ID)
    ),
}
LICENCES = {
    "L1": _licence("武审许〔2020〕1号", "2020-05-20", "2099-12-31", "排污许可证"),
    "L2": _licence("武审许〔2021〕2号", "2021-09-01", "2026-08-31", "食品经营许可证"),
}


def write_file(path: Path, catalog: Catalog, item_code: str, rows: list[dict[str, Any]]) -> Path:
    item = catalog.item(item_code)
    codes = [f.code for f in item.fields if any(row.get(f.code) is not None for row in rows)]
    frame = pl.DataFrame(
        {item.field(c).name_zh: [row.get(c) for row in rows] for c in codes},
        schema={item.field(c).name_zh: pl.String for c in codes},
    )
    frame.write_csv(path)
    return path


def build_timeline(runtime: Runtime, tmp: Path, *, catalog: Catalog | None = None) -> Timeline:
    catalog = catalog or load_catalog()
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    clock.set(LOAD_DAY)
    with runtime.engine.begin() as conn:
        add_organisation(
            conn, name="湖北省社会信用信息归集系统", uscc=SUBMITTER, kind="provider", clock=clock
        )
        # The departments whose records the system forwards sit below it in the organisation tree.
        for uscc, name in (ENV_BUREAU, SAMR_BUREAU, LICENSER):
            add_organisation(conn, name=name, uscc=uscc, kind="provider", parent_uscc=SUBMITTER, clock=clock)
    for item_code, rows in (("XZCF", PENALTIES), ("XZXK", LICENCES)):
        path = write_file(tmp / f"{item_code}.csv", catalog, item_code, list(rows.values()))
        summary = ingest(runtime, path=path, item_code=item_code, submitter_uscc=SUBMITTER, catalog=catalog)
        assert summary.rejected == 0, summary.as_dict()
    keys = {label: row.get("cf_wsh") or row["xk_wsh"] for label, row in {**PENALTIES, **LICENCES}.items()}
    with runtime.engine.connect() as conn:
        ids = {
            label: conn.execute(sa.select(records.c.id).where(records.c.source_key == key)).scalar_one()
            for label, key in keys.items()
        }
        company = conn.execute(sa.select(subjects.c.id).where(subjects.c.uscc == COMPANY)).scalar_one()
        person = conn.execute(
            sa.select(records.c.subject_id).where(records.c.id == ids["PERSON"])
        ).scalar_one()
    return Timeline(runtime, catalog, company, person, ids, keys)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def catalog_with_levels(levels: dict[str, str]) -> Catalog:
    """The packaged catalogue with some items at another disclosure level (公开 / 授权查询 / 政务共享)."""
    from importlib import resources

    import yaml

    from xinyong.catalog.loader import parse_catalog

    text = resources.files("xinyong.catalog").joinpath("data", "hubei-demo.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for item in data["items"]:
        if item["code"] in levels:
            item["disclosure_level"] = levels[item["code"]]
    return parse_catalog(yaml.safe_dump(data, allow_unicode=True).encode(), origin="test")
