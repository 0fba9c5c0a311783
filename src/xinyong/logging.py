"""Logging, configured once per process: XINYONG_HOME/logs/xinyong.log (rotated) and stderr.

A natural person's ID number must never be written to a log. Three layers see to it:
1. a log-record factory masks every record where it is made, whichever logger or handler it goes to
   (uvicorn's access log with an ID number in the URL included);
2. a filter on our handlers masks again what reaches them (a record made before the factory was installed);
3. our formatter masks the finished line (extra fields, tracebacks).
Masking covers anything shaped like an 18- or 15-digit ID number, also typed in groups (spaces, hyphens),
with full-width digits or with invisible characters between them; see security.masking.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xinyong.codes.idcard import check_idcard
from xinyong.config import Settings
from xinyong.security.masking import contains_id_number, id_number_spans, mask_ids_in_text

FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"  # several workers log to one file
_OURS = "_xinyong_handler"
_configured = False


def configure_logging(
    settings: Settings | None = None,
    *,
    log_file: Path | None = None,
    stderr: bool = True,
    level: str | None = None,
    force: bool = False,
) -> Path | None:
    """Install masking and our handlers. A second call does nothing unless `force` (the first one wins,
    so the web app, the CLI and the test suite can each call it without undoing another's choice)."""
    global _configured
    if _configured and not force:
        return None
    install_masking()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
    path = log_file or (settings.home / "logs" / "xinyong.log" if settings else None)
    handlers: list[logging.Handler] = []
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(path, maxBytes=10_000_000, backupCount=10, encoding="utf-8")
        )
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(MaskingFormatter(FORMAT))
        handler.addFilter(MaskPersonalIds())
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel((level or os.environ.get("XINYONG_LOG_LEVEL") or "INFO").upper())
    _configured = True
    return path


def install_masking() -> None:
    """Make every log record of the process masked at creation. Idempotent."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _OURS, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        mask_record(record)
        return record

    setattr(factory, _OURS, True)
    logging.setLogRecordFactory(factory)


def mask_record(record: logging.LogRecord) -> None:
    """Mask a record in place, keeping its msg/args shape when it can (uvicorn's access formatter reads
    `args` as a tuple) and falling back to the formatted message when it cannot."""
    try:
        message = record.getMessage()
    except Exception:
        return
    if contains_id_number(message):
        if isinstance(record.msg, str):
            record.msg = mask_ids_in_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_ids_in_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: mask_ids_in_text(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        # Only text was masked, so the format still works; a number passed as an int is left: fall back.
        if contains_id_number(record.getMessage()):
            record.msg, record.args = mask_ids_in_text(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_ids_in_text(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_ids_in_text(record.stack_info)


class MaskPersonalIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_ids_in_text(super().format(record))


def find_id_numbers(lines: Iterable[str]) -> list[tuple[int, str]]:
    """(line number, number) for every valid ID number in clear in some text — what a log must never hold."""
    found = []
    for number, line in enumerate(lines, start=1):
        for span in id_number_spans(line):
            if check_idcard(span.number).valid:
                found.append((number, line[span.start : span.end]))
    return found
