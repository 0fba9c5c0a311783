"""Benchmark: credit reports per second and p99 — the public report and the special report of a subject
with 50 records — on the portal benchmark's database (1,000,000 subjects / 5,000,000 records by default),
and the renderer comparison (Typst against fpdf2 on the same content).

    .venv/bin/python bench/report.py                                        # full size (builds ~20 min once)
    .venv/bin/python bench/report.py --subjects 20000 --records 100000 --reports 60   # a quick run

Build: bench/portal.py's builder (straight into the tables), then one company with 50 penalties (行政处罚,
from four departments, 2023–2026) loaded through the real collection pipeline. Measure, in process (no
HTTP): `xinyong.reports.service.issue` end to end — resolve, disclose(), list entries, canonical JSON and
digest, Typst PDF with QR code, PAdES signature (pyHanko), insert, audit — each report in its own
transaction, sequentially (one core). Printed: p50, p99, reports/s, pages. Target (issue 11): ≤ 300 ms p99
per signed PDF on the 2-core development machine.

Renderer comparison: the same report's text typeset by fpdf2 (pure Python, the alternative installable
from PyPI with no system libraries; WeasyPrint needs Pango) with the same Noto CJK font; time per document,
whether the font is embedded and the text extracts (pypdf).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
from pathlib import Path

import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portal import DEFAULT_HOME, TODAY, build

from xinyong.catalog.loader import load_catalog
from xinyong.clock import FixedClock
from xinyong.codes import make_uscc
from xinyong.collect.service import ingest
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation, find_organisation
from xinyong.security.principal import Principal

COMPANY = make_uscc("9", "1", "420106", "MA4BENCH")
SUBMITTER = make_uscc("1", "1", "420000", "Q0000777")
DEPARTMENTS = (
    (make_uscc("1", "1", "420100", "Q0100701"), "武汉市生态环境局"),
    (make_uscc("1", "1", "420100", "Q0100702"), "武汉市市场监督管理局"),
    (make_uscc("1", "1", "420100", "Q0100703"), "国家税务总局武汉市税务局"),
    (make_uscc("1", "1", "420100", "Q0100704"), "武汉市应急管理局"),
)
FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"


def fifty_penalties(runtime: Runtime, home: Path) -> None:
    with runtime.engine.begin() as conn:
        if find_organisation(conn, COMPANY) is not None or _has_company(conn):
            return
        if find_organisation(conn, SUBMITTER) is None:
            add_organisation(
                conn, name="基准测试归集系统", uscc=SUBMITTER, kind="provider", clock=runtime.clock
            )
            for uscc, name in DEPARTMENTS:
                add_organisation(
                    conn, name=name, uscc=uscc, kind="provider", parent_uscc=SUBMITTER, clock=runtime.clock
                )
    catalog = load_catalog()
    item = catalog.item("XZCF")
    rows = []
    for i in range(50):
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        decided = dt.date(2023, 7, 1) + dt.timedelta(days=21 * i)
        rows.append(
            {
                "xdr_mc": "武汉基准测试科技有限公司",
                "xdr_lb": "法人及非法人组织",
                "xdr_dm1": COMPANY,
                "fr": "王五",
                "cf_wsh": f"基准罚〔{decided.year}〕{i + 1}号",
                "cf_wfxw": f"违法行为{i + 1}",
                "cf_sy": "经查，当事人存在违法行为，事实清楚，证据确凿。" * 3,
                "cf_yj": "《中华人民共和国行政处罚法》第二十八条",
                "cf_cflb": "警告;罚款",
                "cf_nr": "决定给予警告并处罚款的行政处罚",
                "cf_nr_fk": "1.5",
                "cf_jdrq": decided.isoformat(),
                "cf_yxq": "2099-12-31",
                "cf_cfjg": dept[1],
                "cf_cfjgdm": dept[0],
                "cf_sjly": dept[1],
                "cf_sjlydm": dept[0],
            }
        )
    codes = [f.code for f in item.fields if any(r.get(f.code) for r in rows)]
    frame = pl.DataFrame(
        {item.field(c).name_zh: [r.get(c) for r in rows] for c in codes},
        schema={item.field(c).name_zh: pl.String for c in codes},
    )
    path = home / "bench-50.csv"
    frame.write_csv(path)
    summary = ingest(runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER, catalog=catalog)
    assert summary.rejected == 0, summary.as_dict()


def _has_company(conn: sa.Connection) -> bool:
    return conn.execute(sa.text("SELECT 1 FROM subjects WHERE uscc = :u"), {"u": COMPANY}).first() is not None


def measure_reports(runtime: Runtime, kind: str, n: int) -> tuple[list[float], int, bytes]:
    from xinyong.reports.service import issue

    times, pages, pdf = [], 0, b""
    for i in range(n + 3):  # three warm-up reports (fonts, key, caches) are not counted
        started = time.perf_counter()
        with runtime.engine.begin() as conn:
            issued = issue(conn, runtime=runtime, principal=Principal.anonymous(), code=COMPANY, kind=kind)
        if i >= 3:
            times.append(time.perf_counter() - started)
        pages, pdf = issued.pages, issued.pdf
    return times, pages, pdf


def fidelity(pdf: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "".join(p.extract_text() for p in reader.pages)
    embedded = b"/FontFile" in pdf
    return f"font embedded {embedded}, text extracts {'武汉基准测试科技有限公司' in text.replace(' ', '')}"


def fpdf2_render(text: str) -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_font("noto", fname=FONT)
    doc.add_page()
    doc.set_font("noto", size=9)
    doc.multi_cell(0, 5, text)
    return bytes(doc.output())


def line(title: str, times: list[float], extra: str = "") -> str:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    rate = len(ms) / (sum(ms) / 1000)
    return f"{title:<34} p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms  {rate:6.1f} /s  {extra}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--reports", type=int, default=200, help="reports of each kind measured")
    parser.add_argument("--fpdf2", type=int, default=2, help="documents typeset by fpdf2 (slow: ~10 s each)")
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=20170701)
    args = parser.parse_args()

    home = (args.home or DEFAULT_HOME / f"{args.subjects}-{args.records}").resolve()
    home.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{home / 'xinyong.db'}"
    settings = Settings(home=home, database_url=url, demo=True, extra={"XINYONG_RATE_PUBLIC": "off"})
    runtime = Runtime.open(settings, clock=FixedClock(f"{TODAY}T09:00:00"))
    marker = home / "built-reports"
    if not marker.exists():
        build(runtime, subjects=args.subjects, records=args.records, seed=args.seed)
        marker.write_text(dt.datetime.now().isoformat())
    fifty_penalties(runtime, home)
    with runtime.engine.connect() as conn:
        subjects = conn.execute(sa.text("SELECT count(*) FROM subjects")).scalar_one()
        records = conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one()
    print(
        f"report benchmark — {subjects:,} subjects, {records:,} records, {runtime.engine.dialect.name}, "
        f"one subject with 50 penalties, {args.reports} reports of each kind, sequential, in process"
    )
    pdfs = {}
    for kind in ("public", "special"):
        times, pages, pdf = measure_reports(runtime, kind, args.reports)
        pdfs[kind] = pdf
        print(line(f"{kind} report, signed PDF", times, f"{pages} pages, {len(pdf) // 1024} KB"))

    from xinyong.documents.pdf import render_pdf

    source = '#set text(font: "Noto Serif CJK SC", size: 9pt)\n#sys.inputs.at("t")'
    import pypdf

    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdfs["public"])).pages)
    typst_times = []
    for _ in range(20):
        started = time.perf_counter()
        typst_pdf = render_pdf(source, inputs={"t": text})
        typst_times.append(time.perf_counter() - started)
    print(line("renderer: Typst, same text", typst_times, fidelity(typst_pdf)))
    fpdf_times = []
    for _ in range(args.fpdf2):
        started = time.perf_counter()
        fpdf_pdf = fpdf2_render(text)
        fpdf_times.append(time.perf_counter() - started)
    if fpdf_times:
        print(line("renderer: fpdf2 2.8.5, same text", fpdf_times, fidelity(fpdf_pdf)))
    runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
