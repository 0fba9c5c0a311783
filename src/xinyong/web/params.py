"""Parameter types shared by the routes, bounded so that no value a client can type reaches the database
as something it cannot hold (an id beyond BIGINT was a 500 before it was a 422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Path ids are database keys: BIGINT on PostgreSQL, a 64-bit INTEGER on SQLite.
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="编号 / id")]
