"""发起备忘录 through the page: a department's clerk proposes a memorandum, or measures for an existing one,
from the form of /memoranda (its CSRF token taken from the page), on SQLite and PostgreSQL. The draft goes
to the same service as the API's; a mistake is refused with what to mend, and nothing is stored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData

from disclose.builders import ENV_BUREAU
from rights.casework_world import WATER_BUREAU, Casework, build_casework
from xinyong.apply import proposals
from xinyong.apply.models import memo_proposals
from xinyong.runtime import Runtime
from xinyong.web.portal.memo_form import draft_from_form

from .conftest import login
from .test_casework import HTML, page, token


@pytest.fixture
def case(runtime: Runtime, tmp_path: Path) -> Casework:
    return build_casework(runtime, tmp_path)


def clerk(case: Casework) -> TestClient:
    """The city government's clerk, as a browser is: the session cookie, no CSRF header."""
    client = login(TestClient(case.portal.app), "wuhan-gov")
    client.headers.pop("X-CSRF-Token", None)
    return client


def measure(index: int, **fields: str | list[str]) -> list[tuple[str, str]]:
    values: dict[str, str | list[str]] = {
        "code": f"HB-TEST-{index}",
        "content_zh": "限制申请省级财政性资金支持",
        "content_en": "no provincial funding",
        "basis": "《湖北省社会信用信息管理条例》第三十一条",
        "departments": f"{ENV_BUREAU[0]}\n{WATER_BUREAU[1]}",
        "effect": "punishment",
        "mandatory": "yes",
        "subject_kinds": ["legal_person", "other_org"],
        "matters": ["CZZJ"],
    } | fields
    return [
        (f"measure-{index}-{name}", item)
        for name, value in values.items()
        for item in (value if isinstance(value, list) else [value])
    ]


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as httpx sends them, a name repeated as often as it comes."""
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


NEW = [
    ("kind", "new"),
    ("code", "HB-TEST-2026"),
    ("name_zh", "湖北省失信被执行人联合惩戒备忘录（试行）"),
    ("document", "鄂信用办〔2026〕1号"),
    ("targets", "SXBZXR"),
    ("source", "鄂信用办〔2026〕1号 第三条"),
    ("confirmed", "yes"),
]


def test_the_form_reads_into_the_apis_draft() -> None:
    form = FormData(
        [
            *NEW,
            *measure(0),
            *measure(3, code="HB-TEST-3", mandatory="no", effect="reward", source="另一文件"),
            # A measure left wholly blank (the clerk added it and changed their mind) is not sent.
            *[(f"measure-1-{name}", "") for name in ("code", "content_zh", "departments")],
        ]
    )
    draft = draft_from_form(form)
    assert {k: draft[k] for k in ("code", "name_zh", "document", "targets", "confirmed")} == {
        "code": "HB-TEST-2026",
        "name_zh": "湖北省失信被执行人联合惩戒备忘录（试行）",
        "document": "鄂信用办〔2026〕1号",
        "targets": ["SXBZXR"],
        "confirmed": True,
    }
    first, second = draft["measures"]
    assert first["departments"] == [ENV_BUREAU[0], WATER_BUREAU[1]]
    assert first["subject_kinds"] == ["legal_person", "other_org"] and first["mandatory"] is True
    assert first["source"] == "鄂信用办〔2026〕1号 第三条"  # the memorandum's, as the measure gave none
    assert (second["code"], second["mandatory"], second["effect"], second["source"]) == (
        "HB-TEST-3",
        False,
        "reward",
        "另一文件",
    )
    extension = draft_from_form(
        FormData([("kind", "extend"), ("extends", "SXBZXR-2016"), *NEW[1:], *measure(0)])
    )
    assert extension["extends"] == "SXBZXR-2016" and "code" not in extension and "targets" not in extension


def test_a_clerk_proposes_a_memorandum_and_the_departments_are_asked(case: Casework) -> None:
    case.at("2026-09-30T09:00:00")
    gov = clerk(case)
    form = page(gov, "/memoranda")
    assert "发起备忘录或措施" in form and 'name="measure-0-code"' in form and "本单位尚未发起备忘录。" in form
    sent = gov.post(
        "/memoranda",
        data=as_form(
            [
                *NEW,
                *measure(0),
                *measure(1, code="HB-TEST-ZBTB", matters=["ZBTB"], departments=ENV_BUREAU[0]),
                ("csrf_token", token(form)),
            ]
        ),
        headers=HTML,
    )
    assert sent.status_code == 200 and sent.url.path == "/memoranda"  # 303 back to the page
    ours = sent.text.split("本单位发起的", 1)[1]
    assert "湖北省失信被执行人联合惩戒备忘录（试行）" in ours and "响应中" in ours
    with case.runtime.engine.connect() as conn:
        asked = proposals.list_proposals(conn, awaiting=ENV_BUREAU[0])
        assert [p["code"] for p in asked] == ["HB-TEST-2026"]
        draft = asked[0]["draft"]
        assert [m["code"] for m in draft["measures"]] == ["HB-TEST-0", "HB-TEST-ZBTB"]
        assert draft["measures"][0]["departments"] == [ENV_BUREAU[1], WATER_BUREAU[1]]  # names, as registered
        assert {r["org_uscc"] for r in asked[0]["responses"]} == {ENV_BUREAU[0], WATER_BUREAU[0]}


def test_measures_for_an_existing_memorandum(case: Casework) -> None:
    case.at("2026-09-30T09:00:00")
    gov = clerk(case)
    form = page(gov, "/memoranda")
    assert '<option value="SXBZXR-2016">' in form
    gov.post(
        "/memoranda",
        data=as_form(
            [
                ("kind", "extend"),
                ("extends", "SXBZXR-2016"),
                ("source", "鄂信用办〔2026〕2号"),
                ("confirmed", "yes"),
                *measure(0),
                ("csrf_token", token(form)),
            ]
        ),
        headers=HTML,
    )
    with case.runtime.engine.connect() as conn:
        (made,) = proposals.list_proposals(conn, state="responding")
    assert made["code"] == "SXBZXR-2016" and made["draft"]["extends"] == "SXBZXR-2016"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"targets": None}, "targets"),
        ({"measure-0-matters": "NOPE"}, "NOPE"),
        ({"measure-0-departments": "不存在的单位"}, "不存在的单位"),
        ({"confirmed": None}, "note"),
    ],
)
def test_a_mistake_is_refused_with_what_to_mend_and_nothing_is_stored(
    case: Casework, change: dict[str, str | None], says: str
) -> None:
    case.at("2026-09-30T09:00:00")
    gov = clerk(case)
    form = page(gov, "/memoranda")
    fields = [(k, v) for k, v in [*NEW, *measure(0)] if k not in change]
    fields += [(k, v) for k, v in change.items() if v is not None]
    refused = gov.post("/memoranda", data=as_form([*fields, ("csrf_token", token(form))]), headers=HTML)
    assert refused.status_code == 422 and "未能办理" in refused.text and says in refused.text
    # The page comes back with the form as it was filled: only the mistake needs mending.
    assert 'value="HB-TEST-2026"' in refused.text and 'value="HB-TEST-0"' in refused.text
    assert 'name="measure-0-subject_kinds" value="other_org" checked' in refused.text
    assert 'value="natural_person" checked' not in refused.text  # the clerk unticked it
    with case.runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(memo_proposals)).scalar_one() == 0


def test_the_form_comes_back_with_every_measure_sent(case: Casework) -> None:
    """Measures sent as 0 and 3 (1 and 2 were left blank) come back as two fieldsets, each as filled."""
    case.at("2026-09-30T09:00:00")
    gov = clerk(case)
    form = page(gov, "/memoranda")
    fields = [*NEW, *measure(0), *measure(3, code="HB-TEST-3", effect="reward", matters=["NOPE"])]
    refused = gov.post("/memoranda", data=as_form([*fields, ("csrf_token", token(form))]), headers=HTML)
    assert refused.status_code == 422 and "NOPE" in refused.text
    assert re.findall(r'fieldset class="measure-fields" data-index="(\d+)"', refused.text) == ["0", "3"]
    assert 'value="HB-TEST-3"' in refused.text and '<option value="reward" selected>' in refused.text


def test_without_the_forms_token_nothing_is_proposed(case: Casework) -> None:
    case.at("2026-09-30T09:00:00")
    refused = clerk(case).post("/memoranda", data=as_form([*NEW, *measure(0)]), headers=HTML)
    assert refused.status_code == 403
    with case.runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(memo_proposals)).scalar_one() == 0


NAMES = [name for name, _ in NEW] + [name for name, _ in measure(0)] + ["extends", "note", "measure-49-code"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.lists(
        st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=20)), st.text(max_size=300)), max_size=40
    )
)
def test_no_form_makes_the_page_fail(case: Casework, fields: list[tuple[str, str]]) -> None:
    """Whatever the form holds, the answer is a page (a proposal or a refusal), never a server error."""
    case.rights.clock.set("2026-09-30T09:00:00")
    gov = clerk(case)
    answer = gov.post(
        "/memoranda", data=as_form([*fields, ("csrf_token", token(page(gov, "/memoranda")))]), headers=HTML
    )
    assert answer.status_code in (200, 422), answer.text[:500]
