from pathlib import Path

import pytest

from disclose.builders import build_timeline
from web.conftest import _cheap_passwords, rates  # noqa: F401  (the same world as the portal's)
from xinyong.runtime import Runtime

from .builders import Rights, add_extra_records


@pytest.fixture
def rights(runtime: Runtime, tmp_path: Path) -> Rights:
    """The disclosure timeline plus the two penalties the objection and repair walk-throughs act on."""
    return add_extra_records(build_timeline(runtime, tmp_path), tmp_path)
