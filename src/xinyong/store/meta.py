"""The one MetaData every package's tables hang on, and the portable column types they share."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

# JSON documents: JSONB on PostgreSQL (indexable), JSON text on SQLite.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# --- Sealed personal names ---------------------------------------------------------------------------------
# A natural person's name is never stored in clear (security.pii seals it). The columns that may hold one
# (a subject's names, a record's data) seal on the way in every value marked `PersonName`, and unseal on the
# way out every sealed value, which comes back as a `PersonName` again: code that reads a name and writes it
# elsewhere, or compares a column with it, seals it again without knowing. The key travels on the engine's
# dialect (`attach_sealer`), not in a global, so that two runtimes never share one by accident.
SEALED_PREFIX = "sealed:v1:"
_SEALER = "xinyong_name_sealer"


class PersonName(str):
    """A natural person's name: stored sealed by the columns below."""

    __slots__ = ()


class NameSealer(Protocol):
    def seal_name(self, name: str) -> str: ...

    def unseal(self, value: str) -> str: ...


def attach_sealer(engine: sa.Engine, sealer: NameSealer) -> None:
    setattr(engine.dialect, _SEALER, sealer)


def _sealer(dialect: sa.Dialect, *, writing: bool) -> NameSealer | None:
    sealer: NameSealer | None = getattr(dialect, _SEALER, None)
    if sealer is None and writing:
        # Refused rather than written in clear: an engine made without the runtime's key cannot store names.
        raise ValueError("a person's name cannot be stored: this engine has no name key (attach_sealer)")
    return sealer


def _seal(value: Any, dialect: sa.Dialect) -> Any:
    if isinstance(value, PersonName):
        return _sealer(dialect, writing=True).seal_name(str(value))  # type: ignore[union-attr]
    return value


def _unseal(value: Any, sealer: NameSealer | None) -> Any:
    if sealer is not None and isinstance(value, str) and value.startswith(SEALED_PREFIX):
        clear = sealer.unseal(value)
        return PersonName(clear) if clear is not value else value
    return value


class _SealedString(sa.TypeDecorator[str]):
    impl = sa.String(200)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return _seal(value, dialect)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return _unseal(value, _sealer(dialect, writing=False))


class _SealedLongText(_SealedString):
    impl = sa.Text
    cache_ok = True


# A name column that seals every `PersonName` (a subject's names). A name of up to 200 characters grows past
# that when sealed (base64 of its UTF-8 and a 16-byte tag): TEXT on PostgreSQL; SQLite enforces no length.
SealedText = _SealedString().with_variant(_SealedLongText(), "postgresql")


class SealedJson(sa.TypeDecorator[Any]):
    """A JSON object whose top-level `PersonName` values are sealed (a record's data: its fields)."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(postgresql.JSONB() if dialect.name == "postgresql" else sa.JSON())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, dict) and any(isinstance(v, PersonName) for v in value.values()):
            return {k: _seal(v, dialect) for k, v in value.items()}
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        sealer = _sealer(dialect, writing=False)
        if sealer is None or not isinstance(value, dict):
            return value
        if not _holds_sealed(value):
            return value
        return {k: _unseal(v, sealer) for k, v in value.items()}


def _holds_sealed(values: dict[str, Any]) -> bool:
    # Every record the public read path shows passes here: the class test is cheaper than isinstance.
    return any(v.__class__ is str and v.startswith(SEALED_PREFIX) for v in values.values())


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite has no time zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware datetime (see xinyong.clock)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def pk() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)


def fk(name: str, target: str, *, nullable: bool = False, index: bool = True) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey(target),
        nullable=nullable,
        index=index,
    )


def created_at() -> sa.Column[dt.datetime]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)
