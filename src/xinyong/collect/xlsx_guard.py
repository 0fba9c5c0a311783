"""Look inside an xlsx before the Excel reader loads it: a zip bomb or a giant cell is refused unread.

An xlsx is a zip of XML files, and the Excel reader (calamine) unpacks a whole sheet into memory. A 104 KB
upload can unpack to gigabytes, or hold one 100 MB cell that costs several GB once read. So every XML part
is inflated here first, as a stream, with zlib: its true unpacked size is counted (whatever the zip headers
claim) against the policy's limit, and the longest run of text between two tags is measured, because
XML text cannot contain a literal `<`. No cell of a file Excel wrote can be longer than Excel's own cell
limit; a text run above it is measured exactly (entities such as `&amp;` count as one character) before
the file is refused.
"""

from __future__ import annotations

import html
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

LT = 0x3C
BLOCK = 1 << 22
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
# The longest XML spelling of one character is a numeric reference such as "&#1114111;" (10 bytes).
_MAX_BYTES_PER_CHAR = 10


@dataclass(frozen=True)
class XlsxFault:
    kind: str  # "not_zip", "unsupported", "too_big", "cell_too_long"
    size: int = 0


def inspect_xlsx(path: Path, *, max_unpacked: int, max_cell_chars: int) -> XlsxFault | None:
    """None when the workbook may be handed to the Excel reader; else why not."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return XlsxFault("not_zip")
    with archive, path.open("rb") as raw:
        parts = [i for i in archive.infolist() if i.filename.lower().endswith((".xml", ".rels"))]
        if not parts:
            return XlsxFault("not_zip")
        unpacked = 0
        for info in parts:
            if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                return XlsxFault("unsupported")  # Excel writes neither encrypted parts nor other methods
            runs = _Runs(max_cell_chars)
            try:
                for block in _inflate(raw, info):
                    unpacked += len(block)
                    if unpacked > max_unpacked:
                        return XlsxFault("too_big", unpacked)
                    if runs.feed(block):
                        return XlsxFault("cell_too_long", runs.longest)
            except (zlib.error, struct.error, ValueError, OSError):
                return XlsxFault("not_zip")
    return None


def _inflate(raw: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's unpacked bytes, block by block, read from its own local header: whatever sizes the zip
    declares, the stream is inflated for what it really holds."""
    raw.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
    if header[0] != b"PK\x03\x04":
        raise ValueError("not a local file header")
    raw.seek(info.header_offset + _LOCAL_HEADER.size + header[9] + header[10])
    left = info.compress_size
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while left > 0:
        chunk = raw.read(min(BLOCK, left))
        if not chunk:
            raise ValueError("truncated part")
        left -= len(chunk)
        if inflater is None:
            yield chunk
            continue
        # max_length bounds every step's output: even a bomb's first block never balloons in memory.
        data = inflater.decompress(chunk, BLOCK)
        while True:
            if data:
                yield data
            if not inflater.unconsumed_tail and len(data) < BLOCK:
                break
            data = inflater.decompress(inflater.unconsumed_tail, BLOCK)
        if inflater.eof:
            return


class _Runs:
    """The longest text between two tags, across a stream of blocks. The run still open at a block's end
    is kept (it is short unless the file is hostile) so that a candidate can be measured exactly."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.max_bytes = max_chars * _MAX_BYTES_PER_CHAR  # beyond this, too long however it is spelled
        self.open = bytearray()
        self.open_length = 0
        self.longest = 0

    def feed(self, block: bytes) -> bool:
        """True once a run is longer than the limit in characters."""
        tags = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == LT)
        if tags.size == 0:
            return self._extend(block)
        if self._extend(block[: tags[0]]) or self._close():
            return True
        lengths = np.diff(tags) - 1
        for i in np.flatnonzero(lengths > self.max_chars):  # bytes ≥ characters: only these can fail
            start = int(tags[i]) + 1
            if self._too_long(block[start : start + int(lengths[i])]):
                return True
        return self._extend(block[int(tags[-1]) + 1 :])

    def _extend(self, piece: bytes) -> bool:
        self.open_length += len(piece)
        if self.open_length > self.max_bytes:
            self._at_least(self.open_length)
            return True
        self.open += piece
        return False

    def _at_least(self, length: int) -> None:
        """A run too long to measure: at least this many characters (and more than the limit)."""
        self.longest = max(self.longest, length // _MAX_BYTES_PER_CHAR, self.max_chars + 1)

    def _close(self) -> bool:
        run, length = bytes(self.open), self.open_length
        self.open, self.open_length = bytearray(), 0
        return length > self.max_chars and self._too_long(run)

    def _too_long(self, run: bytes) -> bool:
        if len(run) > self.max_bytes:
            self._at_least(len(run))
            return True
        text = run.decode("utf-8", errors="replace")
        chars = len(html.unescape(text[text.find(">") + 1 :]))  # a run starts inside the tag it follows
        self.longest = max(self.longest, chars)
        return chars > self.max_chars
