"""Files an applicant attaches (a fine receipt, a commitment, a court ruling): PDF, JPG or PNG only, judged
by their content — a program renamed `.pdf` is refused — size-limited, stored outside the database under
XINYONG_HOME/attachments by their SHA-256, with a row that says what they are and whose they are.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.rights.errors import Refused
from xinyong.rights.models import attachments
from xinyong.security.principal import Principal

MAX_ENV = "XINYONG_ATTACHMENT_MAX_MB"
DEFAULT_MAX_MB = 10
# The first bytes each accepted type starts with (PDF 1.0–2.0, JPEG/JFIF/EXIF, PNG).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_BLOCK = 1 << 20


def max_bytes(extra: dict[str, str] | None = None) -> int:
    value = (extra or {}).get(MAX_ENV) or os.environ.get(MAX_ENV) or str(DEFAULT_MAX_MB)
    return int(float(value) * (1 << 20))


def media_type(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def store(
    conn: sa.Connection,
    *,
    home: Path,
    path: Path,
    principal: Principal,
    clock: Clock,
    filename: str | None = None,
    material: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Check and keep one file; returns {"id", "sha256", "size", "media_type", "filename"}."""
    name = (filename or path.name).strip()[:200] or "attachment"
    limit = limit or max_bytes()
    size = path.stat().st_size
    if size == 0:
        raise Refused.one("attachment.empty", f"附件“{name}”是空文件", f"the attachment {name!r} is empty")
    if size > limit:
        mb = limit / (1 << 20)
        raise Refused.one(
            "attachment.too_large",
            f"附件“{name}”超过 {mb:g} MB 上限，请压缩或拆分后提交",
            f"the attachment {name!r} is larger than {mb:g} MB; compress or split it",
            status=413,
        )
    with path.open("rb") as src:
        kind = media_type(src.read(16))
    if kind is None:
        raise Refused.one(
            "attachment.type",
            f"附件“{name}”的内容不是 PDF、JPG 或 PNG 文件（按文件内容判断，与文件名无关），未接收",
            f"the attachment {name!r} is not a PDF, JPG or PNG file by its content "
            "(whatever its name says); it was not accepted",
            field="attachment",
        )
    digest = _keep(path, home / "attachments")
    new_id = conn.execute(
        attachments.insert()
        .values(
            sha256=digest,
            size=size,
            media_type=kind,
            filename=name,
            material=material,
            uploaded_by=principal.actor[:100],
            created_at=clock.now(),
        )
        .returning(attachments.c.id)
    ).scalar_one()
    return {"id": new_id, "sha256": digest, "size": size, "media_type": kind, "filename": name}


def store_for(
    conn: sa.Connection,
    runtime: Any,
    principal: Principal,
    path: Path,
    *,
    filename: str | None = None,
    material: str | None = None,
) -> int:
    """`store` under the runtime's home, clock and size limit (the API, the pages and the command line);
    returns the attachment's id."""
    return int(
        store(
            conn,
            home=runtime.settings.home,
            path=path,
            filename=filename,
            principal=principal,
            clock=runtime.clock,
            material=material,
            limit=max_bytes(runtime.settings.extra),
        )["id"]
    )


def _keep(path: Path, folder: Path) -> str:
    """Copy into the store under its hash (once: the same file twice is stored once)."""
    hasher = hashlib.sha256()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            while block := src.read(_BLOCK):
                hasher.update(block)
                out.write(block)
        digest = hasher.hexdigest()
        target = folder / digest[:2] / digest
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            Path(tmp).unlink()
        else:
            os.replace(tmp, target)
        return digest
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def attach_to(conn: sa.Connection, ids: list[int], *, matter_kind: str, matter_id: int) -> None:
    if ids:
        conn.execute(
            attachments.update()
            .where(attachments.c.id.in_(ids), attachments.c.matter_id.is_(None))
            .values(matter_kind=matter_kind, matter_id=matter_id)
        )


def listed(conn: sa.Connection, *, matter_kind: str, matter_id: int) -> list[dict[str, Any]]:
    a = attachments
    rows = conn.execute(
        sa.select(a).where(a.c.matter_kind == matter_kind, a.c.matter_id == matter_id).order_by(a.c.id)
    ).mappings()
    return [
        {
            "id": r["id"],
            "material": r["material"],
            "filename": r["filename"],
            "media_type": r["media_type"],
            "size": r["size"],
            "sha256": r["sha256"],
        }
        for r in rows
    ]
