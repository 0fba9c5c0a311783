"""Bring an identifier as typed or exported by a provider to the one form the checks read.

Providers paste codes from Word, Excel and scanned forms: full-width digits (１２３), ideographic
spaces, hyphens in 组织机构代码 (XXXXXXXX-C), zero-width characters from web pages, lower-case x in
identity numbers. None of these change which code is meant, so they are removed before checking.
"""

from __future__ import annotations

import re
import unicodedata

# Hyphens and dashes people type between code groups. NFKC already maps the full-width hyphen
# (U+FF0D) to "-"; the others survive NFKC and are listed explicitly.
# Codes already in their one form (the bulk pipeline normalises whole columns first) skip the slow path.
_ALREADY_NORMAL = re.compile(r"[0-9A-Z]+")
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


def normalize_code(text: object) -> str:
    """NFKC, drop whitespace, dashes and invisible format characters, upper-case.

    `None` becomes "". Integers (Excel cells read as numbers) become their decimal digits.
    """
    if text is None:
        return ""
    if isinstance(text, bool):  # bool is an int subclass; a True cell is not a code
        return str(text).upper()
    if isinstance(text, int):
        return str(text)
    if isinstance(text, float):
        # An integral float is how a number cell arrives; beyond 2**53 its digits are already
        # wrong, which check() reports separately.
        return str(int(text)) if text.is_integer() else str(text).upper()
    if _ALREADY_NORMAL.fullmatch(text := str(text)):
        return text
    s = unicodedata.normalize("NFKC", text)
    kept = [
        ch
        for ch in s
        # Category Cf covers zero-width spaces/joiners and the BOM that web pages and Excel leave.
        if not ch.isspace() and ch not in _DASHES and unicodedata.category(ch) != "Cf"
    ]
    return "".join(kept).upper()
