"""Header normalisation shared by the catalogue, the never-collect rule and the collection pipeline.

Providers type column headers by hand in Excel: full-width brackets, ideographic spaces (U+3000), stray
spaces, a leading ``*`` for required columns, ``【】`` instead of ``()``. Both sides of every comparison go
through :func:`normalise_header`, so the catalogue author writes the official header once and every
spelling a clerk is likely to produce still matches.
"""

from __future__ import annotations

import re
import unicodedata

# NFKC already folds （）［］｛｝ into ASCII; these CJK brackets have no compatibility mapping.
_BRACKETS = str.maketrans(
    {"【": "(", "】": ")", "〔": "(", "〕": ")", "〖": "(", "〗": ")", "[": "(", "]": ")"}
)
# \s covers U+3000 and NBSP; zero-width characters and the BOM sneak in from copy-paste and UTF-8-SIG files.
_INVISIBLE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
# A required-column marker (``*名称``, ``名称*``) is template decoration, not part of the name.
_MARKERS = "*"
_PARENTHETICAL = re.compile(r"\([^()]*\)")


def normalise_header(text: str) -> str:
    """Fold a header to the form headers are compared in: NFKC, no spaces, ASCII brackets, lower case."""
    folded = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    return _INVISIBLE.sub("", folded).strip(_MARKERS).lower()


def header_base(normalised: str) -> str:
    """The header without its parenthetical parts.

    ``行政相对人代码_1(统一社会信用代码)`` → ``行政相对人代码_1``.

    Takes an already normalised header. Returns "" when nothing is left outside the brackets.
    """
    previous = None
    text = normalised
    while previous != text:  # nested brackets: remove innermost first until stable
        previous, text = text, _PARENTHETICAL.sub("", text)
    return text.strip(_MARKERS)
