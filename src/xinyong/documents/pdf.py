"""Typeset a Typst document to PDF with the embedded Chinese fonts.

Typst (the `typst` wheel carries the compiler) was chosen because it embeds subsets of OpenType/CFF CJK
fonts such as Debian's fonts-noto-cjk, which ReportLab cannot, and needs no system libraries, which
WeasyPrint does; a warm compiler typesets a one-page report in milliseconds. One compiler per process keeps
the parsed fonts: loading them costs about 150 ms.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import typst

# Debian's fonts-noto-cjk; XINYONG_FONT_DIRS (os.pathsep-separated) lets a deployment bring its own fonts.
DEFAULT_FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")
CJK_FONTS = ("Noto Serif CJK SC", "Noto Sans CJK SC")


class FontsMissing(RuntimeError):
    """No Chinese font is installed: a PDF would show empty boxes instead of text."""


def font_dirs() -> list[str]:
    configured = os.environ.get("XINYONG_FONT_DIRS")
    candidates = configured.split(os.pathsep) if configured else DEFAULT_FONT_DIRS
    return [d for d in candidates if d and Path(d).is_dir()]


@lru_cache(maxsize=1)
def _compiler() -> typst.Compiler:
    dirs = font_dirs()
    if not dirs:
        raise FontsMissing(
            "no CJK font directory found: install Debian's fonts-noto-cjk or set XINYONG_FONT_DIRS"
        )
    return typst.Compiler(font_paths=dirs, ignore_system_fonts=True)


def render_pdf(source: str, *, inputs: Mapping[str, str] | None = None) -> bytes:
    """Compile Typst markup to PDF bytes. Pass untrusted text through `inputs` (read in the markup as
    `sys.inputs.at("name")`), never by pasting it into `source`: markup in a company name must stay text."""
    return _compiler().compile(source.encode("utf-8"), sys_inputs=dict(inputs or {}))
