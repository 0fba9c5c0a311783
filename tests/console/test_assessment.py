"""考核通报: weights from the policy, a ranking, XLSX and PDF, and the same table for a past month later."""

from __future__ import annotations

from collect.conftest import DEPT, DEPT2, penalty
from xinyong.console.assessment import assess, weighted_score
from xinyong.console.periods import month_period
from xinyong.policy.loader import load_policy

from .conftest import World, dept2_rows


def test_weights_come_from_the_policy_and_unmeasured_indicators_are_left_out() -> None:
    weights = load_policy().assessment.weights.values
    assert weighted_score({k: 1.0 for k in weights}, weights) == 100
    only = {k: None for k in weights} | {"quality": 0.5}
    assert weighted_score(only, weights) == 50  # one measured indicator carries the score alone
    assert weighted_score({k: None for k in weights}, weights) is None


def test_a_past_month_is_reproduced_after_later_corrections_and_uploads(world: World) -> None:
    world.send([penalty(i) for i in range(1, 5)], submitter=DEPT)
    rejected = world.send(dept2_rows(5, bad=2), submitter=DEPT2)
    assert rejected.rejected == 2
    policy = load_policy().assessment
    world.clock.set("2026-07-03T10:00:00")
    june = month_period("2026-06")
    with world.runtime.engine.connect() as conn:
        before = assess(conn, june, policy, home=world.home)
    by = {a.uscc: a for a in before}
    assert by[DEPT].rank == 1 and by[DEPT].indicators["quality"] == 1.0
    assert by[DEPT2].indicators["quality"] == 1 - 2 / 5 and by[DEPT2].indicators["correction"] == 0
    assert by[DEPT2].indicators["coverage"] == 0.5  # XZCF came, XZXK did not
    # July: 宜昌 corrects its two rows and sends more; June's table must not move.
    world.send(dept2_rows(5), submitter=DEPT2)
    with world.runtime.engine.connect() as conn:
        again = assess(conn, june, policy, home=world.home)
        july = assess(conn, month_period("2026-07"), policy, home=world.home)
    assert again == before
    assert {a.uscc: a for a in july}[DEPT2].indicators["quality"] == 1.0


def test_the_credit_office_exports_the_tongbao_as_xlsx_and_pdf(world: World) -> None:
    world.send([penalty(1)], submitter=DEPT)
    world.clock.set("2026-07-03T10:00:00")
    office = world.client("operator")
    page = office.get("/console/assessment")  # the previous month by default
    assert page.status_code == 200 and "2026-06-01" in page.text and f'data-uscc="{DEPT}"' in page.text
    xlsx = office.get("/console/assessment/export?format=xlsx&month=2026-06")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = office.get("/console/assessment/export?format=pdf&month=2026-06")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
