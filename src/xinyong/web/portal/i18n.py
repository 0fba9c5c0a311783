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
    "print": ("打印", "Print"),
    "copy_link": ("复制链接", "Copy link"),
    "copied": ("已复制", "Copied"),
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
