"""Every chapter's timeout consequences, gathered where the command line and the web app meet them.

The deadline engine (xinyong.deadlines) sits below the chapters and cannot import them; `deadlines run`
and the schedule in `xinyong serve` pass it this mapping instead. A chapter with a new consequence adds it
here (and its name to policy.models.TimeoutConsequence).
"""

from __future__ import annotations

from xinyong.deadlines import Consequence
from xinyong.rights.consequences import CONSEQUENCES as RIGHTS


def all_consequences() -> dict[str, Consequence]:
    return {**RIGHTS}
