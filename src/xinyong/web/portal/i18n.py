"""The portal's words, in Simplified Chinese first and English, and how a visitor's language is chosen.

Chosen in this order: `?lang=zh|en` in the address (which also sets a cookie, so the next page keeps it),
the `xinyong_lang` cookie, the browser's Accept-Language, then Chinese.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request

Lang = Literal["zh", "en"]
LANG_COOKIE = "xinyong_lang"

TEXT: dict[str, tuple[str, str]] = {
    "site": ("信用湖北（示范）", "Credit Hubei (demonstration)"),
    "site_sub": ("公共信用信息平台 · Xinyong", "Public credit information platform · Xinyong"),
    "demo_notice": (
        "本站为示范系统，所列主体与信息均为合成数据。",
        "This is a demonstration: every subject and record shown is synthetic.",
    ),
    "skip": ("跳到主要内容", "Skip to main content"),
    "nav": ("主导航", "Main navigation"),
    "home": ("首页", "Home"),
    "query": ("信用信息查询", "Credit search"),
    "licences": ("行政许可公示", "Licences (双公示)"),
    "penalties": ("行政处罚公示", "Penalties (双公示)"),
    "api_docs": ("数据接口", "API"),
    "lists_page": ("名单公示", "Red and black lists"),
    "lists_intro": (
        "当前有效的红名单和黑名单条目；移出或到期的条目不再显示。",
        "Red and black list entries in force today; removed or expired entries are no longer shown.",
    ),
    "list_type": ("名单类型", "List"),
    "list_kind": ("红/黑名单", "Red or black"),
    "kind_red": ("红名单", "red list"),
    "kind_black": ("黑名单", "black list"),
    "list_q": ("名称或代码", "Name or code"),
    "list_reason": ("列入事由", "Reason"),
    "deciding_body": ("认定单位", "Decided by"),
    "valid_until": ("有效期至", "Valid until"),
    "no_entries": ("没有当前有效的名单条目。", "No list entries in force."),
    "lists_of_subject": ("红黑名单（{n}）", "Red and black lists ({n})"),
    "switch_lang": ("English", "中文"),
    "switch_lang_label": ("Switch to English", "切换到中文"),
    "search_label": ("主体名称、拼音首字母或代码", "Name, pinyin initials or code"),
    "search_hint": (
        "可输入企业名称的一部分（至少两个字）、名称拼音首字母（如 whhx），"
        "或统一社会信用代码、注册号、组织机构代码。",
        "Type part of a name (two characters or more), its pinyin initials (e.g. whhx), or a unified social "
        "credit code, registration number or organisation code.",
    ),
    "search_button": ("查询", "Search"),
    "results_for": ("查询结果", "Results for"),
    "no_results": ("未找到匹配的信用主体。", "No credit subject matches."),
    "more_results": (
        "匹配的主体较多，仅显示前 {n} 个，请输入更完整的名称。",
        "Many subjects match; the first {n} are shown. Type more of the name.",
    ),
    "partial_results": (
        "检索范围已达上限，结果可能不完整，请输入更完整的名称。",
        "The search reached its limit and may be incomplete; type more of the name.",
    ),
    "match_identifier": ("代码匹配", "code"),
    "match_name": ("名称匹配", "name"),
    "match_former_name": ("曾用名匹配", "former name"),
    "match_pinyin": ("拼音首字母匹配", "pinyin initials"),
    "uscc": ("统一社会信用代码", "Unified social credit code"),
    "kind": ("主体类型", "Kind"),
    "region": ("所在地区", "Region"),
    "identifiers": ("其他代码", "Other identifiers"),
    "former_names": ("曾用名", "Former names"),
    "basic_info": ("基本信息", "Basic information"),
    "legal_person": ("法人", "legal person"),
    "other_org": ("非法人组织", "other organisation"),
    "individual_business": ("个体工商户", "individual business"),
    "natural_person": ("自然人", "natural person"),
    "level": ("查询方式", "Disclosure level"),
    "level_public": ("公开信息", "public"),
    "level_authorised": ("授权查询（本人或经授权）", "authorised (self or with authorisation)"),
    "level_government": ("政务共享（履行职责）", "government sharing (for duties)"),
    "purpose": ("查询目的", "Purpose"),
    "purpose_hint": (
        "查询非公开信息须写明目的，将记入审计日志并告知信用主体（本人查询可不填）。",
        "Non-public information needs a purpose; it is audited and shown to the subject (not needed for "
        "yourself).",
    ),
    "show": ("查看", "Show"),
    "signed_in_as": ("当前身份", "Signed in as"),
    "audience": ("查看身份", "Seen as"),
    "as_of": ("信息截至", "As of"),
    "no_records": ("暂无可公示的信息。", "Nothing to show."),
    "records_of": ("{name}（{n} 条）", "{name} ({n})"),
    "decision_date": ("决定日期", "Decision date"),
    "source": ("数据来源单位", "Source department"),
    "first_collected": ("首次归集", "First collected"),
    "last_updated": ("最近更新", "Last updated"),
    "visible_until": ("公示至", "Shown until"),
    "no_end": ("长期", "no end date"),
    "why": ("可见原因", "Why shown"),
    "details": ("全部字段", "All fields"),
    "notice": ("公示详情", "Notice"),
    "hidden_title": ("未显示的信息", "Not shown"),
    "hidden_intro": (
        "以下信息因披露规则未在此显示：",
        "These records are not shown, by the disclosure rules:",
    ),
    "export": ("导出", "Export"),
    "export_csv": ("导出 CSV", "Download CSV"),
    "export_json": ("JSON 数据", "JSON"),
    "filters": ("筛选", "Filters"),
    "department": ("数据来源单位", "Department"),
    "all": ("全部", "All"),
    "date_from": ("决定日期起", "Decided from"),
    "date_to": ("决定日期止", "Decided until"),
    "category_XZCF": ("处罚类别", "Penalty category"),
    "category_XZXK": ("许可类别", "Licence class"),
    "apply": ("筛选", "Apply"),
    "reset": ("清除筛选", "Clear"),
    "counterparty": ("行政相对人", "Counterparty"),
    "next_page": ("下一页", "Next page"),
    "first_page": ("第一页", "First page"),
    "incomplete": (
        "已检查 {n} 条记录，本页未满，可继续翻页或缩小筛选范围。",
        "{n} records were examined and the page is not full: go on to the next page, or narrow the filters.",
    ),
    "list_intro_XZCF": (
        "依“双公示”规定公示的行政处罚决定，按决定日期从新到旧排列，仅列公示期内的信息。",
        "Administrative penalties published under 双公示, newest first; only those in publicity.",
    ),
    "list_intro_XZXK": (
        "依“双公示”规定公示的行政许可决定，按决定日期从新到旧排列，仅列有效期内的信息。",
        "Administrative licences published under 双公示, newest first; only those in force.",
    ),
    "not_found": ("未找到", "Not found"),
    "error": ("无法完成查询", "The query could not be completed"),
    "bad_request": ("请求有误", "Bad request"),
    "sign_in_needed": ("需要登录", "Sign-in needed"),
    "forbidden": ("无权查看", "Not allowed"),
    "too_many": ("请求过于频繁", "Too many requests"),
    "back_home": ("返回首页", "Back to the home page"),
    "penalty_class": ("处罚分级", "Penalty class"),
    "subject_page": ("主体信用信息", "Subject"),
    "home_intro": (
        "查询法人、非法人组织和个体工商户的公共信用信息，浏览行政许可和行政处罚“双公示”信息。",
        "Look up the public credit information of organisations and individual businesses; browse the "
        "licences and penalties published under 双公示.",
    ),
    "api_intro": (
        "同样的信息可通过开放接口以 JSON 或 CSV 获取。",
        "The same information is available as JSON or CSV through the open API.",
    ),
    "my_credit": ("我的信用信息", "My credit information"),
    "my_applications": ("我的申请", "My applications"),
    "inbox": ("消息", "Messages"),
    "contact": ("通知邮箱", "Notification e-mail"),
    "contact_email": ("电子邮箱", "E-mail address"),
    "contact_hint": (
        "办理进度、到期提醒等消息除在本站“消息”中显示外，还将发送到此邮箱。留空则不发送邮件。",
        "Besides appearing under Messages, progress and deadline reminders are mailed to this address. "
        "Leave it empty to receive no e-mail.",
    ),
    "contact_save": ("保存", "Save"),
    "contact_saved": ("已保存。", "Saved."),
    "contact_none": ("未设置", "not set"),
    "tasks": ("待办", "Tasks"),
    "object": ("提出异议", "Object"),
    "repair": ("申请信用修复", "Apply for credit repair"),
    "refused": ("未能办理", "Not done"),
    "my_credit_intro": (
        "以下是平台归集的您的全部信用记录（含已暂停披露、已撤销、已修复的记录）。"
        "认为信息有误可提出异议；失信记录可先查看修复条件再申请信用修复，均免费办理。",
        "Every credit record the platform holds about you, including suspended, withdrawn and repaired "
        "ones. Object to a wrong record; for an adverse record, see the repair conditions first, then "
        "apply. Both are free of charge.",
    ),
    "state": ("状态", "State"),
    "state_disclosed": ("正常披露", "disclosed"),
    "check_repair": ("查看修复条件 / 申请修复", "Repair conditions / apply"),
    "kind_label": ("异议类型", "Kind of objection"),
    "reason": ("理由", "Reason"),
    "reason_hint": (
        "请写明哪里有误、应当如何（不要填写身份证号）。",
        "Say what is wrong and what is right (no ID numbers).",
    ),
    "attachments": ("证明材料（PDF、JPG、PNG）", "Evidence (PDF, JPG, PNG)"),
    "submit": ("提交", "Submit"),
    "eligible_yes": ("符合信用修复条件，可以申请。", "The record may be repaired: you may apply."),
    "eligible_no": ("暂不符合信用修复条件：", "The record may not be repaired yet:"),
    "earliest": ("最早可申请日期", "Earliest day to apply"),
    "materials": ("所需材料", "Materials"),
    "commitment": ("我已签署信用承诺书", "I signed the credit commitment"),
    "paid": ("罚款已缴清", "The fine is paid"),
    "rectified": ("已整改到位", "The matter is rectified"),
    "to_source": (
        "向作出处罚决定的部门申请（默认向信用信息平台）",
        "Apply to the deciding department (default: the platform)",
    ),
    "proof": ("履行义务的证明（PDF、JPG、PNG）", "Proof of performance (PDF, JPG, PNG)"),
    "free": ("信用修复不收取任何费用。", "Credit repair is free of charge."),
    "objections": ("异议", "Objections"),
    "repairs": ("信用修复申请", "Credit repair applications"),
    "none_yet": ("暂无", "None yet"),
    "filed_at": ("提出时间", "Filed"),
    "step": ("环节", "Step"),
    "due_on": ("办理期限", "Due"),
    "done_on": ("办结日期", "Done"),
    "outcome": ("处理结果", "Outcome"),
    "late": ("超期", "late"),
    "overdue": ("已超期", "overdue"),
    "due_today": ("今日到期", "due today"),
    "record": ("信用记录", "Record"),
    "forward": ("转交信息提供单位", "Forward to the department"),
    "decide": ("作出决定", "Decide"),
    "values": ("更正后的字段值（每行 字段=值）", "Corrected values (one FIELD=VALUE a line)"),
    "to_subject": (
        "移交至信用主体（仅“移交”：记录真正所属主体的代码）",
        "Move to subject (moved only: the code of the subject the record is about)",
    ),
    "approve": ("准予修复", "Approve"),
    "refuse": ("不予修复", "Refuse"),
    "no_tasks": ("没有待办事项。", "Nothing to do."),
    "no_messages": ("没有消息。", "No messages."),
    "step_objection.mark": ("标注异议", "mark as disputed"),
    "step_objection.platform_decide": ("平台决定", "the platform decides"),
    "step_objection.forward": ("转交核查", "forward"),
    "step_objection.provider_decide": ("信息提供单位决定", "the department decides"),
    "matter_objection": ("异议", "objection"),
    "matter_repair": ("信用修复申请", "repair application"),
    "step_repair.decide": ("修复决定", "repair decision"),
    "step_repair.leave_public": ("退出公示", "leave public view"),
    "task_open": ("办理中", "open"),
    "task_done": ("已办结", "done"),
    "task_overdue": ("已超期", "overdue"),
    "task_cancelled": ("无需办理", "not needed"),
    "repair_submitted": ("待决定", "awaiting decision"),
    "repair_approved": ("准予修复", "approved"),
    "repair_refused": ("不予修复", "refused"),
    "print": ("打印", "Print"),
    "copy_link": ("复制链接", "Copy link"),
    "copied": ("已复制", "Copied"),
    "list_total": ("共 {n} 条", "{n} records"),
    "list_total_more": ("超过 {n} 条", "more than {n} records"),
    "department_region": ("数据来源单位所在地区", "Department's region"),
    "result_count": ("共找到 {n} 个信用主体。", "{n} credit subjects found."),
    "truncated": ("较长的字段在此只显示开头。", "Long fields are cut short here."),
    "full_text": ("查看全文", "Full text"),
    "memoranda": ("发起响应", "Proposed memoranda"),
    "memoranda_intro": (
        "其他部门发起的联合奖惩备忘录草案中点名本单位的，请逐项审阅后响应；全部部门响应后由信用办发布。",
        "Proposed joint reward and punishment memoranda naming your organisation: read each and answer. "
        "The credit office publishes once every department named has answered.",
    ),
    "memoranda_platform_intro": (
        "在响应中的备忘录草案；全部点名部门响应后可以发布，也可以撤回。",
        "Proposals awaiting answers: publish once every department named has answered, or withdraw.",
    ),
    "no_proposals": ("没有待响应的备忘录草案。", "No proposal awaits an answer."),
    "proposed_on": ("发起日期", "Proposed"),
    "targets": ("对象名单", "Lists"),
    "measure": ("措施", "Measure"),
    "measure_basis": ("依据", "Basis"),
    "measure_departments": ("实施部门", "Implementing departments"),
    "measure_matters": ("适用事项", "Business matters"),
    "effect_reward": ("激励", "reward"),
    "effect_punishment": ("惩戒", "punishment"),
    "mandatory_yes": ("必须", "mandatory"),
    "mandatory_no": ("可以", "discretionary"),
    "answer": ("响应", "Answer"),
    "accept": ("同意", "Accept"),
    "decline": ("不同意", "Decline"),
    "decline_reason": ("不同意的理由", "Why you decline"),
    "responses": ("响应情况", "Responses"),
    "answer_pending": ("待响应", "awaiting"),
    "answer_accepted": ("同意", "accepted"),
    "answer_declined": ("不同意", "declined"),
    "publish": ("发布", "Publish"),
    "withdraw": ("撤回", "Withdraw"),
    "withdraw_reason": ("撤回理由", "Why it is withdrawn"),
    "cases": ("案例公示", "Cases"),
    "cases_intro": (
        "经信用办审核发布的联合奖惩案例；自然人姓名和身份证号已按规定遮蔽。",
        "Joint reward and punishment cases published by the credit office; a person's name and ID numbers "
        "are masked.",
    ),
    "no_cases": ("暂无公开案例。", "No published cases."),
    "case_title": ("标题", "Title"),
    "case_text": ("案例内容", "What was done"),
    "case_effect": ("奖惩", "Reward or punishment"),
    "case_department": ("报送单位", "Reporting department"),
    "case_published_on": ("发布日期", "Published"),
    "case_q": ("标题或内容", "Title or text"),
    "case_reports": ("案例报送", "Case reports"),
    "case_report_intro": (
        "报送本单位实施联合奖惩的案例，经信用办审核后可在门户公示（自然人信息将遮蔽）。",
        "Report a case of a reward or punishment your organisation applied; the credit office reviews it "
        "before it is shown on the portal (a person's data masked).",
    ),
    "case_measure": ("措施代码", "Measure code"),
    "case_list_type": ("名单类型代码", "List type code"),
    "case_check": ("来源核查编号（可选）", "The check it came from (optional)"),
    "case_files": ("附件（PDF、JPG、PNG）", "Attachments (PDF, JPG, PNG)"),
    "case_state_submitted": ("待审核", "awaiting review"),
    "case_state_published": ("已发布", "published"),
    "case_state_returned": ("已退回", "returned"),
    "review": ("审核", "Review"),
    "return": ("退回", "Return"),
    "return_reason": ("退回理由（退回时必填）", "Why it is returned (needed to return)"),
    "my_cases": ("本单位报送的案例", "Our reports"),
    "to_review": ("待审核的案例", "Cases awaiting review"),
    "step_memo.respond": ("响应备忘录草案", "answer a proposed memorandum"),
    "matter_memo_response": ("备忘录草案响应", "memorandum response"),
}


def t(key: str, lang: Lang, **values: object) -> str:
    zh, en = TEXT.get(key, (key, key))
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def language(request: Request) -> Lang:
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        return asked  # type: ignore[return-value]
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in ("zh", "en"):
        return cookie  # type: ignore[return-value]
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    return "en" if first.startswith("en") else "zh"
