"""The reports world: the disclosure timeline's company (penalties from an environment bureau and a market
regulator, licences), one account per audience (web.conftest), a signing key made in the test home."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from web.conftest import RELAXED, Portal, make_portal
from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector


@pytest.fixture(autouse=True)
def _cheap_passwords(cheap_password_hashing: None) -> None:
    """The accounts sign in: hash passwords cheaply (the root conftest says why)."""


@pytest.fixture
def runtime(
    settings: Settings, engine: sa.Engine, protector: PersonalIdProtector, clock: FixedClock
) -> Runtime:
    relaxed = Settings(home=settings.home, database_url=settings.database_url, extra=dict(RELAXED))
    return Runtime(settings=relaxed, engine=engine, protector=protector, clock=clock)


@pytest.fixture
def portal(runtime: Runtime, tmp_path: Path) -> Portal:
    return make_portal(runtime, tmp_path)


def pdf_text(data: bytes) -> str:
    """The PDF's text with all white space removed (extraction breaks lines and spaces digits from CJK)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)
