from __future__ import annotations

from xinyong.documents.pdf import render_pdf

SOURCE = """#set text(font: ("Noto Serif CJK SC", "Noto Sans CJK SC"), lang: "zh")
= 公共信用信息报告
#sys.inputs.at("name")
"""


def test_chinese_text_is_typeset_and_input_markup_stays_text() -> None:
    pdf = render_pdf(SOURCE, inputs={"name": "武汉*某*有限公司 #panic()"})
    assert pdf.startswith(b"%PDF-")
    assert b"FontFile" in pdf  # the CJK font is embedded, not referenced
