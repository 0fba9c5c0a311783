"""Period rules without a database: each rule of the policy file, read through periods.window()."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from xinyong.catalog.loader import load_catalog
from xinyong.disclose.periods import RecordFacts, window
from xinyong.policy import load_policy

D = dt.date.fromisoformat


def facts(item: str = "XZCF", **kw: Any) -> RecordFacts:
    base: dict[str, Any] = {
        "item_code": item,
        "decision_date": D("2026-01-10"),
        "valid_until": None,
        "act_end_date": None,
        "first_seen": D("2026-01-12"),
        "source_uscc": "11420100Q01002010K",
        "source_name": "武汉市生态环境局",
        "natural_person": False,
        "data": {},
        "receipt_working_days": 2,  # first received 2 working days after the decision: on time
    }
    base.update(kw)
    return RecordFacts(**base)


def win(f: RecordFacts) -> Any:
    return window(f, load_catalog().item(f.item_code), load_policy())


@pytest.mark.parametrize(
    ("kinds", "fine", "person", "expected"),
    [
        ("警告", None, False, "轻微"),
        ("罚款", "0.3", False, "轻微"),  # 3,000 yuan: the summary procedure's limit for an organisation
        ("罚款", "0.3001", False, "一般"),
        ("罚款", "0.02", True, "轻微"),  # 200 yuan for a citizen
        ("罚款", "0.03", True, "一般"),
        ("罚款", "10", False, "严重"),  # 100,000 yuan: 较大数额 for an organisation [U default]
        ("罚款", "1", True, "严重"),  # 10,000 yuan for a citizen
        ("通报批评", None, False, "一般"),
        ("罚款;责令停产停业", "0.1", False, "严重"),
        ("吊销许可证件", None, False, "严重"),
    ],
)
def test_penalty_class_inference(kinds: str, fine: str | None, person: bool, expected: str) -> None:
    w = win(facts(data={"cf_cflb": kinds, "cf_nr_fk": fine}, natural_person=person))
    assert w.penalty_class == expected and w.rule == "penalty_by_class"


def test_class_periods_from_the_decision_date() -> None:
    general = win(facts(data={"cf_cflb": "通报批评"}))
    assert (
        general.published
        and general.public_until == D("2027-01-10")
        and general.minimum_until == D("2026-04-10")
    )
    assert general.provided_until == D("2031-01-10")  # the 5-year adverse period from the decision
    minor = win(facts(data={"cf_cflb": "警告"}))
    assert not minor.published and minor.public_until == D("2026-04-10")


def test_provider_publish_until_ends_publicity_and_never_lengthens_it() -> None:
    shorter = win(facts(data={"cf_cflb": "通报批评", "cf_gsjzq": "2026-02-01"}))
    # The deciding body's own end date binds, even before the class minimum (which still says when repair
    # may be applied for).
    assert shorter.public_until == D("2026-02-01") and shorter.minimum_until == D("2026-04-10")
    longer = win(facts(data={"cf_cflb": "通报批评", "cf_gsjzq": "2029-01-01"}))
    assert longer.public_until == D("2027-01-10")  # not after the 12-month maximum
    minor = win(facts(data={"cf_cflb": "警告", "cf_gsjzq": "2026-03-01"}))
    assert minor.published and minor.public_until == D("2026-03-01")  # 轻微 published when the provider says


def test_samr_rule_for_market_regulators_counts_from_publication() -> None:
    samr = {"source_name": "武汉市市场监督管理局"}
    warning = win(facts(data={"cf_cflb": "警告"}, **samr))
    assert warning.rule == "penalty_samr" and not warning.published
    small = win(facts(data={"cf_cflb": "罚款", "cf_nr_fk": "5"}, **samr))  # 50,000 yuan, inclusive
    assert small.published and small.public_until == D("2026-04-12")  # 3 months from first collection
    large = win(facts(data={"cf_cflb": "罚款", "cf_nr_fk": "5.0001"}, **samr))
    assert large.public_until == D("2029-01-12")  # 3 years
    person = win(facts(data={"cf_cflb": "罚款", "cf_nr_fk": "0.6"}, natural_person=True, **samr))
    assert person.public_until == D("2029-01-12")  # 6,000 yuan is not small for a person (≤ 5,000)


def test_licences_long_term_expiry_and_invalid_status() -> None:
    assert win(facts("XZXK", valid_until=D("2099-12-31"), data={"xk_zt": "1"})).public_until is None
    w = win(facts("XZXK", valid_until=D("2026-08-31"), data={"xk_zt": "1"}))
    assert w.published and w.public_until == D("2026-08-31") and w.provided_until is None
    assert not win(facts("XZXK", valid_until=D("2030-01-01"), data={"xk_zt": "2"})).published


def test_adverse_five_years_from_the_end_of_the_act() -> None:
    ongoing = win(facts("SXBZX", act_end_date=None))  # still on the court's list: no end yet
    assert ongoing.published and ongoing.public_until is None and ongoing.provided_until is None
    removed = win(facts("SXBZX", act_end_date=D("2024-02-29")))
    assert removed.public_until == D("2029-02-28") == removed.provided_until  # month-end clamp


def test_basic_information_has_no_end() -> None:
    w = win(facts("QYJC"))
    assert w.published and w.public_until is None and w.provided_until is None


def test_amounts_are_decimal() -> None:
    policy = load_policy().disclosure.penalty_class_inference
    assert (
        policy.classify({"罚款"}, fine_wan=Decimal("0.3"), confiscation_wan=None, natural_person=False)
        == "轻微"
    )


SAMR = {"source_name": "武汉市市场监督管理局"}


def test_samr_late_arrival_counts_from_the_decision() -> None:
    """总局令第45号 counts from publication; a penalty first received after SAMR's 20 working days was
    published (or should have been) before: the late upload does not restart its period."""
    fine = {"cf_cflb": "罚款", "cf_nr_fk": "20"}  # 200,000 yuan: 3 years
    on_time = win(facts(data=fine, receipt_working_days=20, first_seen=D("2026-02-06"), **SAMR))
    assert on_time.public_until == D("2029-02-06")  # from publication (first collected)
    late = win(facts(data=fine, receipt_working_days=21, first_seen=D("2026-06-15"), **SAMR))
    assert late.public_until == D("2029-01-10")  # from the decision, not 2029-06-15
    unmeasured = win(facts(data=fine, receipt_working_days=None, first_seen=D("2026-06-15"), **SAMR))
    assert unmeasured.public_until == D("2029-01-10")


def test_every_penalty_rule_is_bound_by_publish_until_and_the_five_years() -> None:
    old = facts(
        decision_date=D("2019-03-01"),
        first_seen=D("2026-06-15"),
        receipt_working_days=1800,
        data={"cf_cflb": "罚款", "cf_nr_fk": "20", "cf_gsjzq": "2020-05-01"},
        **SAMR,
    )
    w = win(old)
    assert w.public_until == D("2020-05-01") and w.provided_until == D("2024-03-01")
    general = win(facts(data={"cf_cflb": "通报批评", "cf_gsjzq": "2026-03-01"}))
    assert general.public_until == D("2026-03-01")


def test_the_five_year_limit_binds_a_longer_rule() -> None:
    from xinyong.catalog.loader import load_catalog
    from xinyong.policy.periods import Span

    policy = load_policy()
    samr = policy.disclosure.penalty_samr.model_copy(update={"other_period": Span(value=8, unit="years")})
    longer = policy.model_copy(
        update={"disclosure": policy.disclosure.model_copy(update={"penalty_samr": samr})}
    )
    f = facts(data={"cf_cflb": "罚款", "cf_nr_fk": "20"}, **SAMR)
    w = window(f, load_catalog().item("XZCF"), longer)
    assert w.public_until == D("2031-01-10")  # 5 years from the decision, not 8 years from publication
