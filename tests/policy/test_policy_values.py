"""The packaged policy loads and carries every number of docs/domain.md, with source and [C]/[U] mark."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from xinyong.policy import Policy, load_policy, packaged_policy_path
from xinyong.problems import ProblemError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(packaged_policy_path())


def test_packaged_policy_loads_and_default_is_packaged(policy: Policy) -> None:
    assert isinstance(policy, Policy)
    assert load_policy(environ={}) == policy
    assert policy.version == 1
    assert "湖北" in policy.jurisdiction


def test_disclosure_periods(policy: Policy) -> None:
    d = policy.disclosure
    assert (d.adverse_default_5y.value, d.adverse_default_5y.unit) == (5, "years")
    assert d.adverse_default_5y.runs_from == "act_end"
    assert d.adverse_default_5y.then == "archive"

    rule = d.penalty_by_class
    assert rule.runs_from == "decision"
    assert rule.in_force == dt.date(2026, 4, 1)
    assert "令第36号" in rule.source and rule.confirmed
    minor, ordinary, severe = (d.penalty_classes[c] for c in ("轻微", "一般", "严重"))
    assert not minor.published_by_default and minor.max_months == 3
    assert minor.repair_after == "duty_fulfilled"
    assert (ordinary.min_months, ordinary.max_months) == (3, 12)
    assert (severe.min_months, severe.max_months) == (12, 36)
    assert ordinary.repair_after == severe.repair_after == "minimum_period"
    assert ordinary.min_period.months == 3 and severe.max_period.months == 36

    samr = d.penalty_samr
    assert samr.warning_only_published is False
    assert (samr.short_period.value, samr.short_period.unit) == (3, "months")
    assert (samr.other_period.value, samr.other_period.unit) == (3, "years")
    assert samr.runs_from == "publication"
    assert samr.small_fine.confirmed is False  # the threshold is a provincial setting
    assert samr.small_fine.is_small(Decimal("0.5"), natural_person=True)
    assert not samr.small_fine.is_small(Decimal("0.500001"), natural_person=True)
    assert samr.small_fine.is_small(Decimal("5"), natural_person=False)

    assert d.licence_validity.confirmed is False and d.licence_validity.after_expiry.value == 0
    assert d.permanent_basic.visible_while == "subject_exists"
    assert d.long_term_sentinel.value == dt.date(2099, 12, 31) and not d.long_term_sentinel.confirmed
    for name in d.rule_names:
        assert d.rule(name) is getattr(d, name)
    with pytest.raises(KeyError):
        d.rule("nope")


def test_timeliness(policy: Policy) -> None:
    t = policy.timeliness
    assert t.publish_within.working_days == 7
    assert t.samr_publish_within.working_days == 20
    assert t.samr_withdraw_revoked_within.working_days == 3


def test_objection_deadlines(policy: Policy) -> None:
    o = policy.objection
    assert o.active_profile == "shanghai"
    assert o.mark_disputed_within.working_days == 1
    assert o.platform_decides_within.working_days == 5
    assert o.forward_to_provider_within.working_days == 2
    assert o.provider_decides_within.working_days == 5
    gz = o.profiles["guangzhou"]
    assert (
        gz.platform_decides_within.working_days,
        gz.forward_to_provider_within.working_days,
        gz.provider_decides_within.working_days,
    ) == (2, 2, 10)
    assert o.revoked_decision_removed_within.working_days == 3
    for profile in o.profiles.values():
        late = profile.provider_decides_within.on_timeout
        assert late is not None and late.consequence == "suspend_disclosure" and not late.confirmed
        assert profile.platform_decides_within.on_timeout.consequence == "flag_assessment"  # type: ignore[union-attr]
        assert profile.forward_to_provider_within.on_timeout is None  # shown overdue, not flagged
    assert policy.repair.decide_within.on_timeout.consequence == "flag_assessment"  # type: ignore[union-attr]
    assert policy.deadlines.remind_before.working_days == 1


def test_repair(policy: Policy) -> None:
    r = policy.repair
    assert r.decide_within.working_days == 5 and not r.decide_within.confirmed
    assert r.leave_public_query_within.working_days == 3 and r.leave_public_query_within.confirmed
    assert r.national_online.decide_within.working_days == 10
    assert r.national_online.share_within.working_days == 3
    assert (r.repeat_refusal_window.value, r.repeat_refusal_window.unit) == (1, "years")
    assert not r.repeat_refusal_window.confirmed
    assert r.free_of_charge.value is True
    assert {"application", "commitment", "proof_of_performance"} <= set(r.materials.codes)
    assert {"training_certificate", "credit_report"} == set(r.materials_severe_extra.codes)
    assert not r.materials_severe_extra.confirmed
    assert "minimum_period_passed" in r.conditions.codes


def test_self_query_and_lists(policy: Policy) -> None:
    s = policy.self_query
    assert s.free_reports_per_year.value == 2 and s.free_reports_per_year.unit == "reports_per_year"
    assert s.free_reports_per_year.confirmed is False  # [C] Shanghai, [U] Hubei
    assert s.query_records_visible_to_subject.value is True
    assert s.own_information_free.value is True
    assert set(s.query_log_fields.codes) == {"who", "whom", "when", "purpose", "shown"}

    li = policy.lists
    assert (li.public_comment_min.value, li.public_comment_min.unit) == (30, "days")
    assert li.public_comment_min.confirmed
    assert (li.validity_max.value, li.validity_max.unit) == (3, "years") and not li.validity_max.confirmed
    assert li.red_removed_on_new_adverse.value is True and not li.red_removed_on_new_adverse.confirmed
    assert (
        li.remove_at_expiry.value
        and li.remove_early_after_repair.value
        and li.remove_when_decision_revoked.value
    )


def test_evaluation_masking_collection(policy: Policy) -> None:
    e = policy.evaluation
    assert [(g.code, g.name_zh) for g in e.grades.items] == [
        ("A", "优"),
        ("B", "良"),
        ("C", "中"),
        ("D", "差"),
    ]
    assert not e.grades.confirmed
    assert e.samr_risk_classes.codes == ["A", "B", "C", "D"]
    assert not e.weights.confirmed and "PLACEHOLDER" in (e.weights.note or "")
    assert not e.sampling_multipliers.confirmed and set(e.sampling_multipliers.values) == {"A", "B", "C", "D"}
    assert abs(sum(e.weights.values.values()) - 1) < 1e-9
    assert "GB/T 45255-2025" in e.standard.value

    m = policy.masking
    assert (m.id_number.keep_first, m.id_number.keep_last) == (4, 4)
    assert (m.name.keep_first, m.name.keep_last) == (1, 0)
    assert m.person_names.subject_name == ("natural_person",)
    assert set(m.person_names.named_person_fields) == {"natural_person", "individual_business"}
    assert m.person_names.individual_business_name_up_to == 4 and not m.person_names.confirmed

    c = policy.collection
    assert c.decision_number_max_length.value == 128
    assert (c.amount_format.precision, c.amount_format.scale, c.amount_format.unit) == (18, 6, "万元")
    assert c.no_uscc_placeholder.value == "00000000000000000X"


def test_every_rule_is_sourced_and_unconfirmed_ones_say_so(policy: Policy) -> None:
    rules = list(policy.iter_rules())
    paths = [p for p, _ in rules]
    assert len(paths) == len(set(paths))
    assert len(rules) >= 50
    for path, entry in rules:
        assert entry.source.strip(), path
        if not entry.confirmed:
            assert entry.note and entry.note.strip(), path


def test_every_rule_is_documented(policy: Policy) -> None:
    """Like Datasette's documentation test: a rule missing from docs/policy.md fails here."""
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_0-9\u4e00-\u9fff]+)+)`", text))
    missing = [p for p, _ in policy.iter_rules() if p not in documented]
    assert not missing, f"rules not documented in docs/policy.md: {missing}"


def test_operator_override_replaces_packaged_file(write_policy, monkeypatch) -> None:
    def edit(data):
        data["timeliness"]["publish_within"]["value"] = 10

    path = write_policy(edit)
    assert load_policy(environ={"XINYONG_POLICY": str(path)}).timeliness.publish_within.working_days == 10
    monkeypatch.setenv("XINYONG_POLICY", str(path))
    assert load_policy().timeliness.publish_within.working_days == 10
    monkeypatch.setenv("XINYONG_POLICY", "")
    assert load_policy().timeliness.publish_within.working_days == 7


def test_override_pointing_nowhere_is_an_error(tmp_path) -> None:
    with pytest.raises(ProblemError) as info:
        load_policy(environ={"XINYONG_POLICY": str(tmp_path / "missing.yaml")})
    problem = info.value.problems[0]
    assert problem.code == "policy.invalid"
    assert "XINYONG_POLICY" in problem.message_zh and "missing.yaml" in problem.message_en


def test_cache_rereads_an_edited_file(write_policy) -> None:
    path = write_policy()
    first = load_policy(path)
    assert load_policy(path) is first
    text = path.read_text(encoding="utf-8").replace("value: 20\n", "value: 21\n", 1)
    path.write_text(text + "\n", encoding="utf-8")  # size changes even if mtime granularity is coarse
    assert load_policy(path).timeliness.samr_publish_within.working_days == 21


def test_the_vectorised_mask_masks_exactly_as_the_scalar_one(policy: Policy) -> None:
    import polars as pl
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from xinyong.policy.masking import mask, mask_expr
    from xinyong.policy.models import MaskRule

    rules = st.builds(
        MaskRule,
        keep_first=st.integers(0, 6),
        keep_last=st.integers(0, 6),
        mask_char=st.sampled_from("*#"),
        mask_length=st.one_of(st.none(), st.integers(1, 5)),
        source=st.just("test"),
        confirmed=st.just(True),
    )

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(rules, st.lists(st.text(max_size=20), max_size=20))
    def agree(rule: MaskRule, values: list[str]) -> None:
        got = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(mask_expr(pl.col("v"), rule))["v"]
        assert got.to_list() == [mask(v, rule) for v in values]

    agree()
    assert policy.masking.id_number.keep_first == 4
