"""Imports every package's tables so that `metadata` is complete (Alembic and tests read it from here)."""

from xinyong.apply import models as apply_models  # noqa: F401
from xinyong.deadlines import models as deadline_models  # noqa: F401
from xinyong.disclose import models as disclose_models  # noqa: F401
from xinyong.events import models as event_models  # noqa: F401
from xinyong.reports import models as report_models  # noqa: F401
from xinyong.rights import models as rights_models  # noqa: F401
from xinyong.security import models as security_models  # noqa: F401
from xinyong.store import tables  # noqa: F401
from xinyong.store.meta import metadata
from xinyong.subjects import models as subject_models  # noqa: F401

__all__ = ["metadata"]
