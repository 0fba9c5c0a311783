"""A bad policy file is refused with readable, bilingual problems that name the YAML path."""

from __future__ import annotations

import pytest

from xinyong.policy import parse_policy_file
from xinyong.problems import ProblemError


def _problems(path):
    with pytest.raises(ProblemError) as info:
        parse_policy_file(path)
    problems = info.value.problems
    assert problems and all(p.code == "policy.invalid" for p in problems)
    return problems


def test_min_above_max_is_refused(write_policy) -> None:
    def edit(data):
        data["disclosure"]["penalty_by_class"]["classes"]["一般"]["min_months"] = 13

    (problem,) = _problems(write_policy(edit))
    assert problem.field == "disclosure.penalty_by_class.classes.一般"
    assert "min_months=13" in problem.message_en and "大于" in problem.message_zh


def test_negative_and_zero_durations_are_refused(write_policy) -> None:
    def edit(data):
        data["timeliness"]["publish_within"]["value"] = -7
        data["lists"]["validity_max"]["value"] = 0

    fields = {p.field for p in _problems(write_policy(edit))}
    assert fields == {"timeliness.publish_within.value", "lists.validity_max.value"}


def test_unknown_key_is_refused(write_policy) -> None:
    def edit(data):
        data["objection"]["profiles"]["shanghai"]["mark_disputed_whithin"] = data["objection"]["profiles"][
            "shanghai"
        ].pop("mark_disputed_within")

    problems = _problems(write_policy(edit))
    fields = {p.field for p in problems}
    assert "objection.profiles.shanghai.mark_disputed_whithin" in fields  # the typo
    assert "objection.profiles.shanghai.mark_disputed_within" in fields  # and what is now missing
    typo = next(p for p in problems if p.field.endswith("whithin"))
    assert "未知的键" in typo.message_zh and "Extra inputs" in typo.message_en


def test_unknown_penalty_class_and_wrong_unit_are_refused(write_policy) -> None:
    def edit(data):
        data["disclosure"]["penalty_by_class"]["classes"]["中等"] = data["disclosure"]["penalty_by_class"][
            "classes"
        ]["一般"]
        data["repair"]["decide_within"]["unit"] = "days"

    fields = {p.field for p in _problems(write_policy(edit))}
    assert any("classes.中等" in f for f in fields)
    assert "repair.decide_within.unit" in fields


def test_unconfirmed_rule_must_say_so(write_policy) -> None:
    def edit(data):
        del data["lists"]["validity_max"]["note"]

    (problem,) = _problems(write_policy(edit))
    assert problem.field == "lists.validity_max"
    assert "note" in problem.message_en


def test_weights_must_sum_to_one_and_profile_must_exist(write_policy) -> None:
    def edit(data):
        data["evaluation"]["weights"]["values"]["adverse_information"] = 0.9
        data["objection"]["active_profile"] = "wuhan"

    problems = _problems(write_policy(edit))
    assert {p.field for p in problems} == {"evaluation.weights.values", "objection"}
    assert any("wuhan" in p.message_zh for p in problems)


def test_missing_section_and_missing_source(write_policy) -> None:
    def edit(data):
        del data["masking"]
        data["timeliness"]["publish_within"]["source"] = ""

    fields = {p.field for p in _problems(write_policy(edit))}
    assert fields == {"masking", "timeliness.publish_within.source"}


def test_yaml_syntax_error_is_a_problem_not_a_traceback(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ndisclosure: [unclosed\n", encoding="utf-8")
    (problem,) = _problems(path)
    assert "YAML" in problem.message_en and str(path) in problem.message_zh


def test_duplicate_key_is_refused(tmp_path) -> None:
    path = tmp_path / "dupe.yaml"
    path.write_text("version: 1\nversion: 1\n", encoding="utf-8")
    (problem,) = _problems(path)
    assert "duplicate key 'version'" in problem.message_en and "重复" in problem.message_zh


def test_top_level_must_be_a_mapping(tmp_path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    (problem,) = _problems(path)
    assert "mapping" in problem.message_en


def test_error_text_is_readable(write_policy) -> None:
    def edit(data):
        data["self_query"]["free_reports_per_year"]["value"] = "two"

    with pytest.raises(ProblemError) as info:
        parse_policy_file(write_policy(edit))
    text = str(info.value)
    assert "[policy.invalid]" in text and "self_query.free_reports_per_year.value" in text
    assert "必须是整数" in text and "'two'" in text
