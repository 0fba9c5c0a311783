"""The audit entry of a submission: one shape whichever way a batch came in (API, command line, demo)."""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.collect.service import BatchSummary
from xinyong.security import audit
from xinyong.security.principal import Principal


def record_submission(
    conn: sa.Connection,
    *,
    principal: Principal,
    summary: BatchSummary,
    submitter: str | None,
    clock: Clock,
    ip: str | None = None,
) -> int:
    return audit.record(
        conn,
        principal=principal,
        action="batch.submit",
        clock=clock,
        object_type="batch",
        object_id=summary.batch_id,
        ip=ip,
        detail={
            "item": summary.item,
            "submitter": submitter,
            "status": summary.status,
            "received": summary.received,
            "rejected": summary.rejected,
        },
    )
