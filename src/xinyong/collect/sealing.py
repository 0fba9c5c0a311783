"""`xinyong key seal-names`: seal, in place, the natural persons' names a database holds in clear from before
names were sealed (security.md: a person's name at rest).

Chunk by chunk, each chunk its own transaction, so a large database is sealed without one long lock and a
stopped run is simply started again: sealed text is left as it is, so running it twice changes nothing the
second time. What is sealed is decided by the rules collection seals new rows by (`NameSeal`, policy
`masking.person_names`), with the kind the subject is registered as. A record's fingerprint is left alone:
a later upload of the same values finds the data equal and counts it unchanged (load._data_differs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.models import Item
from xinyong.collect.service import ENCRYPTED_CELL, NameSeal, encrypted_cell
from xinyong.runtime import Runtime
from xinyong.store.bulk import rows_after
from xinyong.store.meta import PersonName
from xinyong.store.tables import record_versions, records, rejected_rows, row_warnings
from xinyong.subjects.models import subjects
from xinyong.subjects.sealing import seal_stored_subjects

CHUNK = 2000
Progress = Callable[[str, int, int], None]  # stage, done so far, total


@dataclass
class SealedNames:
    subject_names: int = 0  # names and name evidence of subjects
    records: int = 0  # records whose data or original text held a person's name
    versions: int = 0  # earlier versions of records, likewise
    kept_rows: int = 0  # rejected rows and rows with warnings whose cells name a person

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def seal_stored_names(
    runtime: Runtime, *, progress: Progress | None = None, chunk: int = CHUNK
) -> SealedNames:
    seal = NameSeal.of(runtime)
    catalog = load_catalog()
    report = progress or (lambda stage, done, total: None)
    counts = SealedNames()
    engine = runtime.engine

    total = _max_id(engine, subjects)
    after: int | None = 0
    while after is not None:
        with engine.begin() as conn:
            after, sealed = seal_stored_subjects(conn, seal.rule, after=after, limit=chunk)
        counts.subject_names += sealed
        report("subjects", after or total, total)

    for table in (records, record_versions):
        total, after = _max_id(engine, table), 0
        while after is not None:
            with engine.begin() as conn:
                after, sealed = _seal_records(conn, table, seal, catalog, after=after, limit=chunk)
            if table is records:
                counts.records += sealed
            else:
                counts.versions += sealed
            report(table.name, after or total, total)

    for table in (rejected_rows, row_warnings):
        total, after = _max_id(engine, table), 0
        while after is not None:
            with engine.begin() as conn:
                after, sealed = _encrypt_kept_rows(conn, table, runtime, catalog, after=after, limit=chunk)
            counts.kept_rows += sealed
            report(table.name, after or total, total)
    return counts


def _max_id(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0)


def _seal_records(
    conn: sa.Connection, table: sa.Table, seal: NameSeal, catalog: Catalog, *, after: int, limit: int
) -> tuple[int | None, int]:
    """One chunk of records (or versions): each value that names a person and is still in clear is marked
    a PersonName and written back; the column seals it."""
    record = records.alias("r")
    joined = table.join(record, record.c.id == table.c.record_id) if table is record_versions else table
    owner = record if table is record_versions else table
    query = sa.select(table.c.id, owner.c.item_code, subjects.c.kind, table.c.data, table.c.original)
    query = query.select_from(joined.join(subjects, subjects.c.id == owner.c.subject_id))

    def fix(row: Any, item: Item) -> dict[str, Any] | None:
        name = row.data.get(item.subject_fields.name)
        data = _marked(row.data, seal.names_in(row.data, item, row.kind, name))
        original = _marked(row.original, seal.names_in(row.original or {}, item, row.kind, name))
        if data is None and original is None:
            return None
        return {"data": data or row.data, "original": original or row.original}

    return _walk(conn, table, query, catalog, fix, after=after, limit=limit)


def _walk(
    conn: sa.Connection,
    table: sa.Table,
    query: sa.Select[Any],
    catalog: Catalog,
    fix: Callable[[Any, Item], dict[str, Any] | None],
    *,
    after: int,
    limit: int,
) -> tuple[int | None, int]:
    """One chunk of `query` over `table` after id `after`: each row of a known item given to `fix`, and the
    values it returns written. Returns the last id seen (None: no more) and how many rows were written."""
    rows = rows_after(conn, query, table.c.id, after=after, limit=limit)
    if not rows:
        return None, 0
    written = 0
    for row in rows:
        item = catalog.item(row.item_code) if row.item_code in catalog else None  # an item since removed
        values = fix(row, item) if item is not None else None
        if values:
            conn.execute(table.update().where(table.c.id == row.id).values(**values))
            written += 1
    return rows[-1].id, written


def _marked(values: dict[str, Any] | None, fields: set[str]) -> dict[str, Any] | None:
    """`values` with the named fields still in clear marked for sealing; None when none is in clear (read
    through the column, a sealed value comes back a PersonName, a clear one a plain str)."""
    clear = {f for f in fields if values is not None and type(values[f]) is str}
    if not clear or values is None:
        return None
    return {k: PersonName(v) if k in clear else v for k, v in values.items()}


def _encrypt_kept_rows(
    conn: sa.Connection, table: sa.Table, runtime: Runtime, catalog: Catalog, *, after: int, limit: int
) -> tuple[int | None, int]:
    """One chunk of kept rows (rejected, or loaded with a warning): every cell under a header that names a
    person-name field, not yet encrypted, is encrypted as collection now keeps it."""
    query = sa.select(table.c.id, table.c.item_code, table.c.raw)

    def fix(row: Any, item: Item) -> dict[str, Any] | None:
        names = item.person_name_fields()
        clear = {
            header
            for header, value in row.raw.items()
            if isinstance(value, str)
            and value
            and not value.startswith(ENCRYPTED_CELL)
            and (spec := item.match_header(header)) is not None
            and spec.code in names
        }
        if not clear:
            return None
        return {
            "raw": {h: encrypted_cell(v, runtime.protector) if h in clear else v for h, v in row.raw.items()}
        }

    return _walk(conn, table, query, catalog, fix, after=after, limit=limit)
