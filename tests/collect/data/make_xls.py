"""Regenerates penalties.xls, the legacy Excel 97-2003 (BIFF8) fixture of test_collect_readers.py.

No .xls writer is a dependency of the project (python-calamine only reads), so the file is committed.
To regenerate: `pip install xlwt==1.3.0 && python tests/collect/data/make_xls.py`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlwt  # type: ignore[import-untyped]

HEADERS = ["行政相对人名称", "行政处罚决定书文号", "处罚决定日期", "处罚有效期", "罚款金额(万元)"]


def main() -> None:
    book = xlwt.Workbook(encoding="utf-8")
    first = book.add_sheet("行政处罚")
    second = book.add_sheet("第二批")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for col, header in enumerate(HEADERS):
        first.write(0, col, header)
        second.write(0, col, header)
    first.write(1, 0, "武汉华信科技有限公司")
    first.write(1, 1, "武市监罚〔2021〕1号")
    first.write(1, 2, dt.date(2021, 3, 5), date_style)  # a real date cell
    first.write(1, 3, 47547)  # an Excel serial number typed as a plain number (2030-03-05)
    first.write(1, 4, 1.5)
    second.write(1, 0, "宜昌某某商贸有限公司")
    second.write(1, 1, "宜市监罚〔2021〕2号")
    second.write(1, 2, "2021年3月6日")
    book.save(str(Path(__file__).with_name("penalties.xls")))


if __name__ == "__main__":
    main()
