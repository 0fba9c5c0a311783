"""One subject walked through time: what each audience sees on each date (docs/domain.md §3, the policy)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xinyong.collect.service import ingest
from xinyong.disclose.models import Disclosure
from xinyong.disclose.service import disclose
from xinyong.store.tables import records

from .builders import (
    PERSON_NAME,
    SAMR_BUREAU,
    SUBMITTER,
    Timeline,
    _penalty,
    build_timeline,
    catalog_with_levels,
    write_file,
)


def seen(
    t: Timeline, audience: str, on: str, *, subject: str = "company", level: str | None = None
) -> Disclosure:
    t.runtime.clock.set(f"{on}T10:00:00")  # type: ignore[attr-defined]
    subject_id = t.company_id if subject == "company" else t.person_id
    with t.runtime.engine.connect() as conn:
        return disclose(
            conn,
            subject_id=subject_id,
            audience=audience,
            clock=t.runtime.clock,
            catalog=t.catalog,
            level=level,
        )


def labels(t: Timeline, result: Disclosure) -> set[str]:
    return t.labels(result.record_ids)


def by_label(t: Timeline, result: Disclosure) -> dict[str, object]:
    return {t.label(r.id): r for r in result.records}


# What the public sees of the company on each day, and why the rest is not shown.
PUBLIC = [
    ("2026-06-15", {"P2", "P4", "L1", "L2"}),  # P1 一般 ended 2026-01-10; P3 轻微 unpublished; P5 archived
    ("2026-08-31", {"P2", "P4", "L1", "L2"}),  # L2's last day
    ("2026-09-01", {"P2", "P4", "L1"}),  # L2 expired the day after 有效期至
    ("2026-09-15", {"P2", "P4", "L1"}),  # P4: SAMR's 3 months from publication (2026-06-15) end today
    ("2026-09-16", {"P2", "L1"}),
    ("2027-03-01", {"P2", "L1"}),  # P2 严重: 36 months from 2024-03-01, last day
    ("2027-03-02", {"L1"}),
    ("2099-12-30", {"L1"}),  # the long-term licence has no end
]


@pytest.mark.parametrize(("on", "expected"), PUBLIC)
def test_public_sees_what_is_in_publicity_on_each_day(
    timeline: Timeline, on: str, expected: set[str]
) -> None:
    result = seen(timeline, "public", on)
    assert labels(timeline, result) == expected
    assert result.hidden is None  # the public is not told what it cannot see


def test_each_audience_on_the_load_day(timeline: Timeline) -> None:
    t = timeline
    everything = {"P1", "P2", "P3", "P4", "P5", "L1", "L2"}
    self_view = seen(t, "self", "2026-06-15")
    assert labels(t, self_view) == everything - {"P5"}
    assert self_view.hidden == {"archived": 1}
    shown = by_label(t, self_view)
    assert shown["P1"].reason.code == "own_information"  # type: ignore[attr-defined]
    assert [m.code for m in shown["P1"].marks] == ["publicity_ended"]  # type: ignore[attr-defined]
    assert [m.code for m in shown["P3"].marks] == ["not_published"]  # type: ignore[attr-defined]
    assert shown["P2"].reason.code == "in_publicity" and shown["L1"].reason.code == "no_end"  # type: ignore[attr-defined]

    government = seen(t, "government", "2026-06-15")
    assert labels(t, government) == everything - {"P5"}
    assert by_label(t, government)["P1"].reason.code == "government_sharing"  # type: ignore[attr-defined]

    # An authorised querier sees 授权查询 information; the publicly listed items follow their publicity.
    assert labels(t, seen(t, "authorised", "2026-06-15")) == {"P2", "P4", "L1", "L2"}

    platform = seen(t, "platform", "2026-06-15")
    assert labels(t, platform) == everything
    assert "archived" in [m.code for m in by_label(t, platform)["P5"].marks]  # type: ignore[attr-defined]
    assert platform.hidden == {}


def test_penalty_classes_and_periods_come_from_the_policy(timeline: Timeline) -> None:
    shown = by_label(timeline, seen(timeline, "platform", "2026-06-15"))
    classes = {label: r.penalty_class for label, r in shown.items()}  # type: ignore[attr-defined]
    assert classes == {
        "P1": "一般",
        "P2": "严重",
        "P3": "轻微",
        "P4": "轻微",
        "P5": "一般",
        "L1": None,
        "L2": None,
    }
    rules = {label: r.rule for label, r in shown.items()}  # type: ignore[attr-defined]
    assert (
        rules["P4"] == "penalty_samr"
        and rules["P2"] == "penalty_by_class"
        and rules["L1"] == "licence_validity"
    )
    public = by_label(timeline, seen(timeline, "public", "2026-06-15"))
    assert str(public["P2"].visible_until) == "2027-03-01"  # type: ignore[attr-defined]
    assert str(public["P4"].visible_until) == "2026-09-15"  # type: ignore[attr-defined]
    assert public["L1"].visible_until is None  # type: ignore[attr-defined]


def test_self_keeps_seeing_its_penalty_until_the_adverse_period_ends(timeline: Timeline) -> None:
    t = timeline
    assert "P1" in labels(t, seen(t, "self", "2030-01-10"))  # 5 years from the decision, last day
    later = seen(t, "self", "2030-01-11")
    assert "P1" not in labels(t, later) and later.hidden and later.hidden["archived"] >= 2
    assert "P1" in labels(t, seen(t, "platform", "2030-01-11"))  # the archive stays with the platform


def test_states_disputed_marked_repaired_withdrawn_suspended_expired(timeline: Timeline) -> None:
    t = timeline
    t.set_state("P2", "disputed")
    public = by_label(t, seen(t, "public", "2026-06-15"))
    assert [(m.code, m.zh) for m in public["P2"].marks] == [("disputed", "异议处理中")]  # type: ignore[attr-defined]

    t.set_state("P2", "repaired")
    assert "P2" not in labels(t, seen(t, "public", "2026-06-15"))
    assert "P2" not in labels(t, seen(t, "authorised", "2026-06-15"))
    gov = by_label(t, seen(t, "government", "2026-06-15"))
    assert [m.code for m in gov["P2"].marks] == ["repaired"]  # type: ignore[attr-defined]
    assert seen(t, "self", "2026-06-15").hidden == {"archived": 1}

    t.set_state("P2", "withdrawn")
    assert "P2" not in labels(t, seen(t, "government", "2026-06-15"))
    assert seen(t, "government", "2026-06-15").hidden == {"archived": 1, "state_withdrawn": 1}
    assert "P2" in labels(t, seen(t, "self", "2026-06-15"))  # the subject follows its own case

    t.set_state("P2", "suspended")
    assert "P2" not in labels(t, seen(t, "public", "2026-06-15"))
    assert "P2" in labels(t, seen(t, "self", "2026-06-15"))

    t.set_state("L1", "expired")  # archived by a job, whatever the period says
    for audience in ("public", "self", "authorised", "government"):
        assert "L1" not in labels(t, seen(t, audience, "2026-06-15"))
    assert "L1" in labels(t, seen(t, "platform", "2026-06-15"))


def test_a_person_is_masked_for_the_public_only(timeline: Timeline) -> None:
    t = timeline
    public = seen(t, "public", "2026-06-15", subject="person")
    assert public.subject["name"] == "张**"
    (record,) = public.records
    assert record.data["xdr_mc"] == "张**" and record.data["xdr_zjhm"] == "1101**********002X"
    assert all("002X" not in i["value"] or "*" in i["value"] for i in public.subject["identifiers"])
    government = seen(t, "government", "2026-06-15", subject="person")
    assert government.subject["name"] == PERSON_NAME and government.records[0].data["xdr_mc"] == PERSON_NAME
    # ID numbers are stored masked only: nobody gets the full number out of a record.
    assert government.records[0].data["xdr_zjhm"] == "1101**********002X"


def test_levels_decide_before_periods(runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Licences at 授权查询, penalties at 政务共享: who may see which level, and the level asked for."""
    t = build_timeline(
        runtime, tmp_path, catalog=catalog_with_levels({"XZXK": "授权查询", "XZCF": "政务共享"})
    )
    assert labels(t, seen(t, "public", "2026-06-15")) == set()
    assert labels(t, seen(t, "authorised", "2026-06-15")) == {"L1", "L2"}
    assert labels(t, seen(t, "self", "2026-06-15")) == {"L1", "L2"}
    # The five penalties are hidden from the subject by level, before any period is looked at.
    assert seen(t, "self", "2026-06-15").hidden == {"level": 5}
    assert labels(t, seen(t, "government", "2026-06-15")) == {"P1", "P2", "P3", "P4", "L1", "L2"}
    capped = seen(t, "government", "2026-06-15", level="authorised")
    assert labels(t, capped) == {"L1", "L2"} and capped.hidden == {"level_not_requested": 5}


def test_a_late_upload_never_restarts_publicity(timeline: Timeline, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A market regulator sends old penalties today (2026-06-15). SAMR counts from publication, but the
    platform's first receipt is not the publication of a penalty decided years ago: its period runs from the
    decision, within the 5-year limit and the provider's 公示截止期."""
    t = timeline
    late = {
        # decided 2019, 公示截止期 2020-05-01: its publicity ended six years ago, archived since 2024-03-01
        "Q1": _penalty(
            "武市监罚〔2019〕7号", "2019-03-01", "罚款", fine="20", dept=SAMR_BUREAU, cf_gsjzq="2020-05-01"
        ),
        # decided 2024, 3 years: to 2027-03-01 from the decision — not 2029-06-15 from today
        "Q2": _penalty("武市监罚〔2024〕8号", "2024-03-01", "罚款", fine="20", dept=SAMR_BUREAU),
        # the same with a 公示截止期 before the rule's end: the provider's date binds
        "Q3": _penalty(
            "武市监罚〔2024〕9号", "2024-03-01", "罚款", fine="20", dept=SAMR_BUREAU, cf_gsjzq="2027-01-31"
        ),
    }
    path = write_file(tmp_path / "late.csv", t.catalog, "XZCF", list(late.values()))
    assert (
        ingest(t.runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER, catalog=t.catalog).rejected
        == 0
    )
    with t.runtime.engine.connect() as conn:
        for label, row in late.items():
            t.ids[label] = conn.execute(
                sa.select(records.c.id).where(records.c.source_key == row["cf_wsh"])
            ).scalar_one()
    today = by_label(t, seen(t, "public", "2026-06-15"))
    assert "Q1" not in today and {"Q2", "Q3"} <= set(today)
    assert str(today["Q2"].visible_until) == "2027-03-01"  # type: ignore[attr-defined]
    assert str(today["Q3"].visible_until) == "2027-01-31"  # type: ignore[attr-defined]
    assert {"Q2", "Q3"} <= labels(t, seen(t, "public", "2027-01-31"))
    assert "Q3" not in labels(t, seen(t, "public", "2027-02-01"))
    assert "Q2" in labels(t, seen(t, "public", "2027-03-01"))
    assert "Q2" not in labels(t, seen(t, "public", "2027-03-02"))
    assert "Q1" not in labels(t, seen(t, "government", "2026-06-15"))  # past the 5 years: archive only
    assert "Q1" in labels(t, seen(t, "platform", "2026-06-15"))
