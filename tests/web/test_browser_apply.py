"""应用 in a real browser (Debian's Chromium, headless, Playwright), on a phone-sized screen, over the rights
world served by uvicorn on SQLite (test_browser_rights.py's fixture):

    lists       名单公示: a black-listed company shows, the red filter hides it, the CSV download holds it;
                the subject page's 红黑名单 section shows the entry — and after its removal neither does;
    cases       a department reports a case about a listed person from 案例报送 with a PDF, the credit
                office publishes it, and the public case page shows the person masked;
    memoranda   发起响应: the environment bureau's clerk answers a proposal naming it, the credit office
                publishes it, and the next check returns the measure.

Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from disclose.builders import COMPANY, COMPANY_NAME, ENV_BUREAU, PERSON_ID, PERSON_NAME
from rights.casework_world import PDF, Casework
from xinyong.apply import proposals, service
from xinyong.apply.flows import check
from xinyong.disclose.flows import resolve_code
from xinyong.policy import WorkdayCalendar, load_policy
from xinyong.security.accounts import create_user
from xinyong.security.principal import Principal
from xinyong.security.settings import SecuritySettings

from .conftest import GOVERNMENT, PASSWORD
from .test_browser import browser, shot  # noqa: F401  (the module's Chromium)
from .test_browser_rights import PHONE, no_sideways_scroll, served  # noqa: F401  (the served rights world)

pytestmark = [pytest.mark.browser]
PLATFORM = Principal.system("test")


def signed_in(browser: Any, base: str, username: str) -> tuple[Any, str]:  # noqa: F811
    """A phone-sized context signed in as `username`, and its CSRF token (for API calls it makes)."""
    context = browser.new_context(**PHONE)
    answer = context.request.post(
        f"{base}/api/v1/auth/login", data={"username": username, "password": PASSWORD}
    )
    assert answer.ok, answer.text()
    return context, answer.json()["csrf_token"]


def listed(case: Casework, code: str) -> int:
    runtime = case.runtime
    tools = {"policy": load_policy(), "calendar": WorkdayCalendar.for_home(runtime.settings.home)}
    with runtime.engine.begin() as conn:
        entry = service.propose(
            conn,
            list_type="SXBZXR",
            subject_id=resolve_code(conn, code, runtime),
            reason="有履行能力而拒不履行",
            basis="法释〔2017〕7号 第一条",
            principal=PLATFORM,
            clock=runtime.clock,
            **tools,
        )
        service.decide(conn, entry_id=entry["id"], valid_until=dt.date(2028, 8, 31), statement_waived=True,
                       principal=PLATFORM, clock=runtime.clock, **tools)  # fmt: skip
    return int(entry["id"])


def test_the_list_page_and_the_subject_page_follow_the_entry(
    served: tuple[str, Casework],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    base, case = served
    case.rights.clock.set("2026-09-01T09:00:00")
    entry = listed(case, COMPANY)
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{base}/lists")
    row = page.locator(f'tr[data-entry-id="{entry}"]')
    assert row.is_visible() and COMPANY_NAME in row.inner_text() and "黑名单" in row.inner_text()
    no_sideways_scroll(page)
    page.get_by_label("红/黑名单").select_option("red")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/lists?**kind=red**")
    assert page.locator(f'tr[data-entry-id="{entry}"]').count() == 0
    page.get_by_label("红/黑名单").select_option("black")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/lists?**kind=black**")
    assert page.locator(f'tr[data-entry-id="{entry}"]').is_visible()
    shot(page, "apply-01-lists")
    with page.expect_download() as waiting:
        page.locator("#export-csv").click()
    csv = Path(waiting.value.path()).read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf") and COMPANY_NAME in csv.decode("utf-8-sig")

    page.goto(f"{base}/subjects/{COMPANY}")
    assert page.locator(f'[data-entry-id="{entry}"]').is_visible()
    assert page.get_by_text("失信被执行人名单").first.is_visible()
    shot(page, "apply-02-subject-lists")

    runtime = case.runtime
    case.rights.clock.set("2026-09-02T09:00:00")
    with runtime.engine.begin() as conn:
        service.remove(conn, entry_id=entry, reason="withdrawn", principal=PLATFORM, clock=runtime.clock,
                       policy=load_policy())  # fmt: skip
    page.reload()
    assert page.locator(f'[data-entry-id="{entry}"]').count() == 0
    page.goto(f"{base}/lists")
    assert page.locator(f'tr[data-entry-id="{entry}"]').count() == 0


def test_a_case_reported_reviewed_and_shown_masked(
    served: tuple[str, Casework],  # noqa: F811
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, case = served
    case.rights.clock.set("2026-09-01T09:00:00")
    listed(case, PERSON_ID)
    context, csrf = signed_in(browser, base, "wuhan-gov")
    checked = context.request.post(
        f"{base}/api/v1/checks", data={"subject": PERSON_ID, "matter": "ZFCG"}, headers={"X-CSRF-Token": csrf}
    )
    assert checked.ok, checked.text()
    check_id = checked.json()["check_id"]
    evidence = tmp_path / "采购结果通知.pdf"
    evidence.write_bytes(PDF)

    clerk = context.new_page()
    clerk.goto(f"{base}/case-reports")
    no_sideways_scroll(clerk)
    clerk.get_by_label("标题").fill(f"{PERSON_NAME}参加政府采购被限制")
    clerk.get_by_label("案例内容").fill(
        f"经核查，{PERSON_NAME}（身份证号 {PERSON_ID}）为失信被执行人，依法不得参加本次采购。"
    )
    clerk.get_by_label("措施代码").fill("SXBZXR-ZFCG")
    clerk.get_by_label("名单类型代码").select_option("SXBZXR")
    clerk.get_by_label("来源核查编号（可选）").fill(str(check_id))
    clerk.get_by_label("附件（PDF、JPG、PNG）").set_input_files(str(evidence))
    shot(clerk, "apply-03-case-report")
    clerk.get_by_role("button", name="提交").click()
    clerk.wait_for_url("**/case-reports")
    reported = clerk.locator("article[data-case]").first
    assert reported.get_attribute("data-state") == "submitted" and "待审核" in reported.inner_text()
    case_id = reported.get_attribute("data-case")

    public = browser.new_context(**PHONE).new_page()
    public.goto(f"{base}/cases")
    assert public.locator(f'[data-case="{case_id}"]').count() == 0  # nothing public before review

    office = signed_in(browser, base, "operator")[0].new_page()
    office.goto(f"{base}/case-reports")
    task = office.locator(f'article[data-case="{case_id}"]')
    assert PERSON_NAME in task.inner_text()  # the credit office reviews what was reported
    task.get_by_label("发布").check()
    task.get_by_role("button", name="提交").click()
    office.wait_for_url("**/case-reports")
    assert office.locator(f'article[data-case="{case_id}"]').count() == 0

    public.goto(f"{base}/cases")
    no_sideways_scroll(public)
    public.locator(f'[data-case="{case_id}"]').get_by_role("link").click()
    public.wait_for_url(f"**/cases/{case_id}")
    body = public.locator("main").inner_text()
    assert "依法不得参加本次采购" in body and "张" in body
    assert PERSON_NAME not in body and PERSON_ID not in body
    shot(public, "apply-04-case-public")


def test_a_department_answers_a_proposal_and_the_credit_office_publishes_it(
    served: tuple[str, Casework],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    base, case = served
    runtime = case.runtime
    case.rights.clock.set("2026-09-01T09:00:00")
    with runtime.engine.begin() as conn:
        create_user(conn, username="env-gov", display_name="env-gov", role="government", password=PASSWORD,
                    organisation_uscc=ENV_BUREAU[0], clock=runtime.clock,
                    settings=SecuritySettings.load(runtime.settings))  # fmt: skip
        principal = Principal(
            kind="system", role="government", actor="system:test", organisation_uscc=GOVERNMENT
        )
        measure = {
            "code": "HB-SXBZXR-CZZJ",
            "content_zh": "限制申请省级财政性资金支持",
            "content_en": "no provincial funding",
            "basis": "《湖北省社会信用信息管理条例》第三十一条",
            "departments": [ENV_BUREAU[0]],
            "effect": "punishment",
            "mandatory": True,
            "subject_kinds": ["legal_person"],
            "matters": ["CZZJ"],
            "source": "test",
            "confirmed": True,
        }
        draft = {
            "code": "HB-SXBZXR-2026",
            "name_zh": "湖北省失信被执行人联合惩戒备忘录（试行）",
            "document": "鄂信用办〔2026〕1号",
            "targets": ["SXBZXR"],
            "source": "test",
            "confirmed": True,
            "measures": [measure],
        }
        made = proposals.propose(
            conn,
            draft=draft,
            principal=principal,
            clock=runtime.clock,
            policy=load_policy(),
            calendar=WorkdayCalendar.for_home(runtime.settings.home),
        )
    listed(case, COMPANY)

    clerk = signed_in(browser, base, "env-gov")[0].new_page()
    clerk.goto(f"{base}/memoranda")
    no_sideways_scroll(clerk)
    proposal = clerk.locator(f'article[data-proposal="{made["id"]}"]')
    assert "限制申请省级财政性资金支持" in proposal.inner_text()
    shot(clerk, "apply-05-memorandum-answer")
    proposal.get_by_label("同意", exact=True).check()
    proposal.get_by_role("button", name="提交").click()
    clerk.wait_for_url("**/memoranda")
    assert clerk.locator(f'article[data-proposal="{made["id"]}"]').count() == 0
    assert clerk.get_by_text("没有待响应的备忘录草案。").is_visible()

    office = signed_in(browser, base, "operator")[0].new_page()
    office.goto(f"{base}/memoranda")
    waiting = office.locator(f'article[data-proposal="{made["id"]}"]')
    assert waiting.locator(f'[data-org="{ENV_BUREAU[0]}"]').get_attribute("data-answer") == "accepted"
    shot(office, "apply-06-memorandum-publish")
    waiting.get_by_role("button", name="发布").click()
    office.wait_for_url("**/memoranda")
    assert office.locator(f'article[data-proposal="{made["id"]}"]').count() == 0

    with runtime.engine.begin() as conn:
        answer = check(conn, runtime, code=COMPANY, matter="CZZJ", principal=principal)
    assert "HB-SXBZXR-CZZJ" in [m["code"] for m in answer["measures"]]


def test_a_clerk_proposes_a_memorandum_with_two_measures_from_the_page(
    served: tuple[str, Casework],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    base, case = served
    case.rights.clock.set("2026-09-01T09:00:00")
    clerk = signed_in(browser, base, "wuhan-gov")[0].new_page()
    clerk.goto(f"{base}/memoranda")
    no_sideways_scroll(clerk)
    form = clerk.locator("form.propose-form")
    # The script shows the fields of the kind chosen.
    form.get_by_label("为已有备忘录增加措施").check()
    assert (
        form.get_by_label("已有备忘录", exact=True).is_visible()
        and not form.get_by_label("备忘录名称").is_visible()
    )
    form.get_by_label("新的联合奖惩备忘录").check()
    assert (
        form.get_by_label("备忘录名称").is_visible()
        and not form.get_by_label("已有备忘录", exact=True).is_visible()
    )
    form.get_by_label("备忘录代码").fill("HB-SXBZXR-2026")
    form.get_by_label("备忘录名称").fill("湖北省失信被执行人联合惩戒备忘录（试行）")
    form.get_by_label("文号").fill("鄂信用办〔2026〕1号")
    form.get_by_label("失信被执行人名单", exact=False).first.check()
    form.get_by_label("依据来源（文件、条款）").fill("鄂信用办〔2026〕1号 第三条")
    for index, (code, content, matter) in enumerate(
        [
            ("HB-SXBZXR-CZZJ", "限制申请省级财政性资金支持", "CZZJ"),
            ("HB-SXBZXR-ZBTB", "限制参与省内招标投标", "ZBTB"),
        ]
    ):
        if index:
            form.get_by_role("button", name="再添加一项措施").click()
        fields = form.locator(f'fieldset.measure-fields[data-index="{index}"]')
        fields.get_by_label("措施代码").fill(code)
        fields.get_by_label("措施内容（中文）").fill(content)
        fields.get_by_label("措施内容（英文）").fill("restricted")
        fields.get_by_label("依据", exact=True).fill("《湖北省社会信用信息管理条例》第三十一条")
        fields.get_by_label("实施部门").fill(ENV_BUREAU[1])
        fields.locator(f'input[value="{matter}"]').check()
    assert form.locator("fieldset.measure-fields").count() == 2
    shot(clerk, "apply-07-memorandum-propose")
    # A department that is not registered: the page says so, with the form as it was filled.
    second = form.locator('fieldset.measure-fields[data-index="1"]')
    second.get_by_label("实施部门").fill("不存在的单位")
    form.get_by_role("button", name="提交发起").click()
    alert = clerk.get_by_role("alert")
    assert "未能办理" in alert.inner_text() and "不存在的单位" in alert.inner_text()
    form = clerk.locator("form.propose-form")
    assert form.get_by_label("备忘录名称").input_value() == "湖北省失信被执行人联合惩戒备忘录（试行）"
    second = form.locator('fieldset.measure-fields[data-index="1"]')
    assert second.get_by_label("措施代码").input_value() == "HB-SXBZXR-ZBTB"
    assert second.locator('input[value="ZBTB"]').is_checked()
    second.get_by_label("实施部门").fill(ENV_BUREAU[1])
    form.get_by_role("button", name="提交发起").click()
    clerk.wait_for_url("**/memoranda#our-proposals")
    ours = clerk.locator("article.proposal[data-state='responding']")
    assert ours.count() == 1
    text = ours.inner_text()
    assert "HB-SXBZXR-CZZJ" in text and "HB-SXBZXR-ZBTB" in text and "待响应" in text
    with case.runtime.engine.connect() as conn:
        (made,) = proposals.list_proposals(conn, awaiting=ENV_BUREAU[0])
    assert [m["matters"] for m in made["draft"]["measures"]] == [["CZZJ"], ["ZBTB"]]
