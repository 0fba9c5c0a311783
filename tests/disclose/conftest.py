from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector

from .builders import Timeline, build_timeline

RELAXED = {f"XINYONG_RATE_{k}": "off" for k in ("PUBLIC", "LOGIN", "USER", "TOKEN")}


@pytest.fixture
def runtime(
    settings: Settings, engine: sa.Engine, protector: PersonalIdProtector, clock: FixedClock
) -> Runtime:
    relaxed = Settings(home=settings.home, database_url=settings.database_url, extra=dict(RELAXED))
    return Runtime(settings=relaxed, engine=engine, protector=protector, clock=clock)


@pytest.fixture
def timeline(runtime: Runtime, tmp_path: Path) -> Timeline:
    return build_timeline(runtime, tmp_path)
