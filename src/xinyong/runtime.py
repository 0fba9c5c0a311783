"""What a running platform holds: settings, the database engine, the clock, the key for personal identifiers.

The CLI, the web app and the tests each build one Runtime and pass it down; nothing reaches for globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from xinyong.clock import Clock, SystemClock
from xinyong.config import Settings
from xinyong.security.pii import PersonalIdProtector, load_protector
from xinyong.store.engine import make_engine


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    protector: PersonalIdProtector
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def open(cls, settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
        settings = settings or Settings.from_env()
        settings.ensure_home()
        return cls(
            settings=settings,
            engine=make_engine(settings.database_url),
            protector=load_protector(settings),
            clock=clock or SystemClock(),
        )

    def close(self) -> None:
        self.engine.dispose()
