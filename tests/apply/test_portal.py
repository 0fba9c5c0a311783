"""The public sees current list entries on the subject page and on 名单公示; a removed entry leaves both at
once. Server-rendered pages, both databases (the browser test of the portal covers the layout)."""

from __future__ import annotations

import re

from disclose.builders import COMPANY, COMPANY_NAME, PERSON_ID
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import Portal


def test_the_subject_page_and_the_list_page_show_current_entries_only(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    portal, _ = world
    entry = cli("lists", "propose", "--type", "SXBZXR", "--subject", COMPANY,
                "--reason", "有履行能力而拒不履行", "--basis", "法释〔2017〕7号 第一条",
                "--json", at="2026-09-01T09:00")  # fmt: skip
    public = portal.client("public")
    html = {"accept": "text/html"}
    portal.runtime.clock.set("2026-09-01T09:30")  # type: ignore[attr-defined]
    assert "失信被执行人名单" not in public.get(f"/subjects/{COMPANY}", headers=html).text  # only noticed

    cli("lists", "decide", str(entry["id"]), "--valid-until", "2028-08-31", "--statement-waived", "--json",
        at="2026-09-01T10:00")  # fmt: skip
    portal.runtime.clock.set("2026-09-01T10:30")  # type: ignore[attr-defined]
    page = public.get(f"/subjects/{COMPANY}", headers=html).text
    marker = f'data-entry-id="{entry["id"]}"'
    assert marker in page and "有履行能力而拒不履行" in page and "黑名单" in page
    board = public.get("/lists", params={"kind": "black"}, headers=html)
    assert board.status_code == 200 and COMPANY_NAME in board.text and "名单公示" in board.text
    assert COMPANY_NAME not in public.get("/lists", params={"kind": "red"}, headers=html).text
    assert "Red and black lists" in public.get("/lists", params={"lang": "en"}, headers=html).text

    cli("lists", "remove", str(entry["id"]), "--reason", "repaired", "--json", at="2026-09-02T09:00")
    portal.runtime.clock.set("2026-09-02T09:01")  # type: ignore[attr-defined]
    assert marker not in public.get(f"/subjects/{COMPANY}", headers=html).text
    assert COMPANY_NAME not in public.get("/lists", headers=html).text


def test_a_listed_person_is_linked_by_the_platform_reference_and_the_link_opens(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    """A person has no USCC: 名单公示 names them by their platform reference (xy- and 24 hex characters), the
    one the portal resolves, never by a row id that can be counted through; the name is masked."""
    portal, _ = world
    entry = cli("lists", "propose", "--type", "SXBZXR", "--subject", PERSON_ID,
                "--reason", "有履行能力而拒不履行", "--basis", "法释〔2017〕7号 第一条",
                "--json", at="2026-09-01T09:00")  # fmt: skip
    cli("lists", "decide", str(entry["id"]), "--valid-until", "2028-08-31", "--statement-waived", "--json",
        at="2026-09-01T10:00")  # fmt: skip
    portal.runtime.clock.set("2026-09-01T10:30")  # type: ignore[attr-defined]
    public = portal.client("public")
    [shown] = public.get("/api/v1/lists").json()["items"]
    code = shown["subject"]["code"]
    assert re.fullmatch(r"xy-[0-9a-f]{24}", code) and shown["subject"]["name"] == "张**"
    html = {"accept": "text/html"}
    assert f'href="/subjects/{code}"' in public.get("/lists", headers=html).text
    assert public.get(f"/subjects/{code}", headers=html).status_code == 200
