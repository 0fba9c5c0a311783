"""The rights world: the disclosure timeline's company, plus two 一般 penalties decided on 2026-06-30 by
武汉市生态环境局 (registered as a provider organisation) and forwarded by the provincial collection system:

    OBJECTED  武环罚〔2026〕20号  the record the objection walk-through disputes
    REPAIRED  武环罚〔2026〕21号  the record the repair walk-through repairs (一般: minimum publicity
                                 3 months, i.e. to 2026-09-30, so repair may be applied for from 2026-10-01)

Loaded on 2026-07-02 through the real collection pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from disclose.builders import ENV_BUREAU, SUBMITTER, Timeline, _penalty, write_file
from xinyong.catalog.loader import load_catalog
from xinyong.clock import FixedClock
from xinyong.collect.service import ingest
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation, find_organisation
from xinyong.store.tables import records

EXTRA_LOAD_DAY = "2026-07-02T10:00:00"
EXTRA = {
    "OBJECTED": _penalty("武环罚〔2026〕20号", "2026-06-30", "罚款", fine="1"),
    "REPAIRED": _penalty("武环罚〔2026〕21号", "2026-06-30", "罚款", fine="1"),
}


@dataclass
class Rights:
    timeline: Timeline
    ids: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        return self.timeline.runtime

    @property
    def clock(self) -> FixedClock:
        clock = self.runtime.clock
        assert isinstance(clock, FixedClock)
        return clock


def add_extra_records(timeline: Timeline, tmp: Path) -> Rights:
    runtime = timeline.runtime
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    clock.set(EXTRA_LOAD_DAY)
    catalog = load_catalog()
    with runtime.engine.begin() as conn:
        if find_organisation(conn, ENV_BUREAU[0]) is None:
            add_organisation(conn, name=ENV_BUREAU[1], uscc=ENV_BUREAU[0], kind="provider", clock=clock)
    path = write_file(tmp / "extra.csv", catalog, "XZCF", list(EXTRA.values()))
    summary = ingest(runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER, catalog=catalog)
    assert summary.rejected == 0 and summary.inserted == len(EXTRA), summary.as_dict()
    keys = {label: row["cf_wsh"] for label, row in EXTRA.items()}
    with runtime.engine.connect() as conn:
        ids = {
            label: conn.execute(sa.select(records.c.id).where(records.c.source_key == key)).scalar_one()
            for label, key in keys.items()
        }
    timeline.ids.update(ids)
    timeline.keys.update(keys)
    return Rights(timeline, ids, keys)
