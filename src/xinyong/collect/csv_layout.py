"""The shape of a CSV file, read from its bytes before any parser holds a row of it.

polars reads CSV fast but forgives too much: a stray quote inside a cell can make it swallow the rest of
the file (rows silently gone), and a 100 MB line is read whole. So the bytes are scanned first, vectorised
with numpy over windows of the file, RFC 4180's way: a quote opens a cell only at its start, closes it only
before a comma or a line end, and doubles inside it. The scan finds

- every record boundary (a line feed outside quotes), so records can be counted and the header found;
- the first stray or unclosed quote, the first record longer than the byte limit, and the first data record
  with more cells than the header: each refuses the file with its record number, never its content.

GB18030 never uses the bytes of `"`, `,`, CR or LF inside a multi-byte character, so the same scan serves
UTF-8 and GB18030 files.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

QUOTE, COMMA, LF, CR = 0x22, 0x2C, 0x0A, 0x0D
WINDOW = 1 << 24  # bytes per numpy pass: large enough to amortise, small enough to stay cache-friendly


@dataclass(frozen=True)
class Fault:
    """Why the file cannot be read row by row: `record` is 0-based, `size` the length or cell count."""

    kind: str  # "quote" (a stray quote), "unclosed" (a quote never closed), "too_long", "too_wide"
    record: int
    size: int = 0


@dataclass
class Layout:
    records: int = 0  # records in the file, blank lines included (polars counts them as rows too)
    starts: list[int] | None = None  # byte offsets where the first records start
    fields: list[int] | None = None  # cells in each of those first records
    fault: Fault | None = None


class _Scan:
    """One pass over `mm[start:]`; `keep` records' starts and widths are remembered for the header search."""

    def __init__(self, mm: np.ndarray, start: int, *, max_bytes: int, keep: int) -> None:
        self.mm, self.n, self.start, self.max_bytes, self.keep = mm, mm.size, start, max_bytes, keep
        self.quotes = 0  # quotes seen before the current window: their parity says "inside a cell"
        self.records = 0  # records ended before the current window
        self.record_start = start
        self.open_commas = 0  # cell separators of the record still open at the window's end
        self.last_opening_record = -1
        self.starts: list[int] = [start]
        self.fields: list[int] = []
        self.header = -1  # records up to this one are not held to the header's width
        self.width = 0
        self.fault: Fault | None = None
        self.ends: list[np.ndarray] | None = None  # every record's end (the offset after it), when asked

    def run(self, stop_after: int | None = None) -> Layout:
        for a in range(self.start, self.n, WINDOW):
            b = min(a + WINDOW, self.n)
            self._window(a, b)
            _release(self.mm, a, b)
            if self.fault or (stop_after is not None and self.records >= stop_after):
                return self._layout()
        self._finish()
        return self._layout()

    def _layout(self) -> Layout:
        return Layout(
            records=self.records,
            starts=self.starts[: self.keep + 1],
            fields=self.fields[: self.keep],
            fault=self.fault,
        )

    def _window(self, a: int, b: int) -> None:
        window = self.mm[a:b]
        # One pass over the bytes finds every quote, comma and line feed; the rest works on those few.
        hits = np.flatnonzero((window == QUOTE) | (window == COMMA) | (window == LF))
        kinds = window[hits]
        positions = hits + a
        is_quote = kinds == QUOTE
        inside = ((np.cumsum(is_quote) - is_quote + self.quotes) & 1).astype(bool)  # parity before each
        separator = ~inside & ~is_quote
        ends = positions[separator & (kinds == LF)]
        quotes = positions[is_quote]
        if quotes.size:
            self._check_quotes(quotes, ~inside[is_quote], ends)
        if self.ends is not None:
            self.ends.append(ends + 1)
        is_end = kinds[separator] == LF
        commas_so_far = np.cumsum(~is_end)  # commas outside quotes up to each separator
        if ends.size:
            at_ends = commas_so_far[is_end]
            per_record = np.diff(at_ends, prepend=0)
            per_record[0] += self.open_commas
            lengths = np.diff(ends + 1, prepend=self.record_start)
            self._check_records(per_record + 1, lengths)
            self.open_commas = int(commas_so_far[-1] - at_ends[-1])
            self.record_start = int(ends[-1]) + 1
            if len(self.starts) <= self.keep:
                self.starts.extend(int(e) + 1 for e in ends[: self.keep + 1 - len(self.starts)])
        elif commas_so_far.size:
            self.open_commas += int(commas_so_far[-1])
        if b - self.record_start > self.max_bytes and not self.fault:  # a giant line: stop before its end
            self._fail(Fault("too_long", self.records + int(ends.size), b - self.record_start))
        self.records += int(ends.size)
        self.quotes += int(quotes.size)

    def _check_quotes(self, quotes: np.ndarray, opening: np.ndarray, ends: np.ndarray) -> None:
        mm, n = self.mm, self.n
        before = np.where(quotes > self.start, mm[np.maximum(quotes - 1, 0)], COMMA)
        after = np.where(quotes + 1 < n, mm[np.minimum(quotes + 1, n - 1)], COMMA)
        # An opening quote starts a cell; the second quote of a doubled "" follows a quote.
        bad_open = opening & (before != COMMA) & (before != LF) & (before != QUOTE)
        bad_close = ~opening & (after != COMMA) & (after != LF) & (after != CR) & (after != QUOTE)
        if opening.any():
            self.last_opening_record = self.records + int(np.searchsorted(ends, quotes[opening][-1]))
        bad = np.flatnonzero(bad_open | bad_close)
        if bad.size:
            self._fail(Fault("quote", self.records + int(np.searchsorted(ends, quotes[bad[0]]))))

    def _check_records(self, widths: np.ndarray, lengths: np.ndarray) -> None:
        if len(self.fields) < self.keep:
            self.fields.extend(int(w) for w in widths[: self.keep - len(self.fields)])
        long = np.flatnonzero(lengths > self.max_bytes)
        if long.size:
            self._fail(Fault("too_long", self.records + int(long[0]), int(lengths[long[0]])))
        if self.width:
            index = np.arange(self.records, self.records + widths.size)
            wide = np.flatnonzero((widths > self.width) & (index > self.header))
            if wide.size:
                self._fail(Fault("too_wide", self.records + int(wide[0]), int(widths[wide[0]])))

    def _finish(self) -> None:
        if self.quotes & 1:
            self._fail(Fault("unclosed", self.last_opening_record))
        if self.record_start < self.n:  # a last record without a final line break
            self._check_records(np.array([self.open_commas + 1]), np.array([self.n - self.record_start]))
            self.records += 1
            if self.ends is not None:
                self.ends.append(np.array([self.n], dtype=np.int64))
            if len(self.starts) <= self.keep:
                self.starts.append(self.n)

    def _fail(self, fault: Fault) -> None:
        if self.fault is None or fault.record < self.fault.record:
            self.fault = fault


def _map(path: Path | BinaryIO) -> np.ndarray:
    size = path.stat().st_size if isinstance(path, Path) else os.fstat(path.fileno()).st_size
    if size == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")


def _release(mm: np.ndarray, a: int, b: int) -> None:
    """Let the pages of mm[a:b] go from this process's memory (they stay in the page cache): a scanned
    window is not needed again but for a byte or two, which the kernel maps back on demand. Without this,
    the whole file would count in the process's resident memory until the scan ends."""
    mapping = getattr(mm, "_mmap", None)  # np.memmap keeps its mmap.mmap here
    if mapping is None or not hasattr(mmap, "MADV_DONTNEED"):
        return
    start = a - a % mmap.PAGESIZE
    if b > start:
        mapping.madvise(mmap.MADV_DONTNEED, start, b - start)


def head(path: Path, *, start: int, records: int, max_bytes: int) -> Layout:
    """The first `records` records' starts and widths (plus the start of the next), for the header search."""
    return _Scan(_map(path), start, max_bytes=max_bytes, keep=records).run(stop_after=records)


def scan(path: Path, *, start: int, max_bytes: int, header: int, width: int) -> Layout:
    """The whole file: its record count and its first fault, data records held to the header's width."""
    mm = _map(path)
    run = _Scan(mm, start, max_bytes=max_bytes, keep=0)
    run.header, run.width = header, width
    return run.run()


def record_ends(path: Path | BinaryIO, *, start: int) -> np.ndarray:
    """The byte offset just after each record of the file from `start` (its line feed, or the file's end):
    where a reader may cut the file into whole records. Faults are the full scan's business."""
    mm = _map(path)
    run = _Scan(mm, start, max_bytes=mm.size + 1, keep=0)
    run.ends = []
    run.run()
    return np.concatenate(run.ends) if run.ends else np.zeros(0, dtype=np.int64)
