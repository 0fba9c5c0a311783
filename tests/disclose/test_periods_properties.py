"""The disclosure windows as properties of `assess`, the one verdict every channel uses: for any penalty or
licence, any state and any day, the public never sees a record before its decision or after its window
ends, and never a record that was repaired, revoked, suspended or archived."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from xinyong.catalog.loader import load_catalog
from xinyong.disclose.periods import RecordFacts, window
from xinyong.disclose.service import assess
from xinyong.policy import load_policy
from xinyong.store.tables import RECORD_STATES

CATALOG = load_catalog()
POLICY = load_policy()
PENALTIES, LICENCES = CATALOG.item("XZCF"), CATALOG.item("XZXK")
# DOMAIN.md §3, §5: a repaired record leaves public query; a revoked decision (withdrawn) leaves disclosure;
# a suspended one is not disclosed while its objection runs; an expired one is an archive. Written here, not
# read from the policy file, so that a policy edit that publishes one of them fails this test.
NEVER_PUBLIC = {"repaired", "withdrawn", "suspended", "expired"}
MAY_BE_PUBLIC = {"active", "disputed", "corrected"}
SAMR = ("11420100Q0100202XX", "武汉市市场监督管理局")
ENV = ("11420100Q0100201XX", "武汉市生态环境局")

days = st.dates(dt.date(2015, 1, 1), dt.date(2035, 12, 31))
fines = st.one_of(st.none(), st.decimals(Decimal("0.01"), Decimal("500"), places=2).map(str))
kinds = st.lists(
    st.sampled_from(["警告", "通报批评", "罚款", "没收违法所得", "吊销许可证件", "责令停产停业"]),
    min_size=1,
    max_size=3,
    unique=True,
)


@st.composite
def penalties(draw: st.DrawFn) -> tuple[RecordFacts, str]:
    decided = draw(days)
    first_seen = decided + dt.timedelta(days=draw(st.integers(0, 400)))
    uscc, name = draw(st.sampled_from([SAMR, ENV]))
    data = {"cf_cflb": ";".join(draw(kinds)), "cf_nr_fk": draw(fines), "cf_jdrq": decided.isoformat()}
    if draw(st.booleans()):  # the provider's own 公示截止期
        data["cf_gsjzq"] = (decided + dt.timedelta(days=draw(st.integers(0, 2000)))).isoformat()
    facts = RecordFacts(
        item_code="XZCF",
        decision_date=decided,
        valid_until=None,
        act_end_date=None,
        first_seen=first_seen,
        source_uscc=uscc,
        source_name=name,
        natural_person=draw(st.booleans()),
        data=data,
    )
    return facts, draw(st.sampled_from(sorted(RECORD_STATES)))


@st.composite
def licences(draw: st.DrawFn) -> tuple[RecordFacts, str]:
    decided = draw(days)
    until = draw(st.one_of(st.just(dt.date(2099, 12, 31)), days.map(lambda d: max(d, decided))))
    facts = RecordFacts(
        item_code="XZXK",
        decision_date=decided,
        valid_until=until,
        act_end_date=None,
        first_seen=decided,
        source_uscc=ENV[0],
        source_name="武汉市行政审批局",
        natural_person=False,
        data={"xk_zt": draw(st.sampled_from(["1", "2", "3", None]))},
    )
    return facts, draw(st.sampled_from(sorted(RECORD_STATES)))


def test_the_states_are_the_ones_this_file_knows() -> None:
    assert set(RECORD_STATES) == NEVER_PUBLIC | MAY_BE_PUBLIC, "decide whether a new state may be public"


@given(st.one_of(penalties(), licences()), days)
def test_the_public_sees_a_record_only_inside_its_window(
    record: tuple[RecordFacts, str], today: dt.date
) -> None:
    facts, state = record
    item = PENALTIES if facts.item_code == "XZCF" else LICENCES
    verdict = assess(facts, item, state, audience="public", up_to="public", today=today, policy=POLICY)
    if not verdict.visible:
        return
    w = window(facts, item, POLICY)
    assert state not in NEVER_PUBLIC, f"a {state} record is public"
    assert facts.decision_date is None or facts.decision_date <= today, "public before its decision"
    assert w.published, "an unpublished record is public"
    assert w.public_until is None or today <= w.public_until, "public after its window ended"
    assert verdict.until == w.public_until  # and it says until when


@given(st.one_of(penalties(), licences()), days, st.sampled_from(["self", "authorised", "government"]))
def test_no_audience_but_the_platform_sees_an_archived_record(
    record: tuple[RecordFacts, str], today: dt.date, audience: str
) -> None:
    facts, state = record
    item = PENALTIES if facts.item_code == "XZCF" else LICENCES
    verdict = assess(facts, item, state, audience=audience, up_to="government", today=today, policy=POLICY)  # type: ignore[arg-type]
    w = window(facts, item, POLICY)
    if state == "expired" or (w.provided_until is not None and today > w.provided_until):
        assert not verdict.visible, f"{audience} sees an archived record"
    if facts.decision_date is not None and today < facts.decision_date:
        assert not verdict.visible, f"{audience} sees a record before its decision"
