"""What a running platform holds: settings, the database engine, the clock, the key for personal identifiers.

The CLI, the web app and the tests each build one Runtime and pass it down; nothing reaches for globals.

`engine` is the primary: every write and every non-public read. `read_engine` serves the public read path
(public pages, the public API, search): a read replica when `XINYONG_READ_DATABASE_URL` is set, else the
primary itself (docs/scaling.md). On PostgreSQL it is a pool of its own, read-only and in autocommit
(store.engine.make_public_reader); on SQLite, without a replica, it is the primary's engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from xinyong.clock import Clock, SystemClock
from xinyong.config import Settings
from xinyong.problems import Problem, ProblemError
from xinyong.security import audit
from xinyong.security.pii import PersonalIdProtector, load_protector
from xinyong.store.engine import is_current, make_engine, make_public_reader, normalise_url
from xinyong.store.meta import attach_sealer


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    protector: PersonalIdProtector
    clock: Clock = field(default_factory=SystemClock)
    read_engine: sa.Engine = None  # type: ignore[assignment]  # the primary unless a replica is given

    def __post_init__(self) -> None:
        if self.read_engine is None:
            self.read_engine = self.engine
        # Both engines seal and unseal a person's name with this runtime's key (store.meta.SealedText).
        for engine in {self.engine, self.read_engine}:
            attach_sealer(engine, self.protector)
        # The audit chain's head is also kept in XINYONG_HOME: an emptied trail cannot pass for a short one.
        audit.keep_anchor(self.engine, self.settings.home)

    @classmethod
    def open(cls, settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
        settings = settings or Settings.from_env()
        settings.ensure_home()
        return cls(
            settings=settings,
            engine=make_engine(settings.database_url),
            protector=load_protector(settings),
            clock=clock or SystemClock(),
            read_engine=_read_engine(settings),
        )

    @classmethod
    def open_current(cls, settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
        """A runtime whose database is at the latest schema; otherwise a problem that says how to migrate."""
        runtime = cls.open(settings, clock=clock)
        if not is_current(runtime.engine):
            runtime.close()
            raise ProblemError(
                Problem(
                    "db.not_migrated",
                    "数据库结构不是最新：请先运行 `xinyong db upgrade`",
                    "The database is not migrated: run `xinyong db upgrade` first",
                )
            )
        return runtime

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def _read_engine(settings: Settings) -> sa.Engine | None:
    url = settings.read_database_url or settings.database_url
    if make_url(normalise_url(url)).get_backend_name() == "postgresql":
        return make_public_reader(url)
    return make_engine(url) if settings.read_database_url else None
