"""List types as data, and a list entry's life at its edges: every refusal next to the valid case it guards,
expiry, removal on a new adverse record, the public list (名单公示) and its CSV. SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from disclose.builders import COMPANY
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import Portal
from xinyong.apply import service
from xinyong.apply.catalogue import data_dir, load_catalogue
from xinyong.apply.models import list_entries
from xinyong.policy import load_policy
from xinyong.problems import ProblemError
from xinyong.security.principal import Principal


def propose(cli: Run, list_type: str, at: str, code: int = 0) -> dict:
    return cli("lists", "propose", "--type", list_type, "--subject", COMPANY, "--reason", "经认定",
               "--basis", "依据", "--json", at=at, code=code)  # fmt: skip


def test_list_types_and_matters_are_data_with_sources(cli: Run) -> None:
    types = {t["code"]: t for t in cli("lists", "types", "--json", at="2026-09-01T09:00")}
    assert {"SXBZXR", "ZDSSWF", "TQNMGGZ", "AQSCYZSX", "AJNSR"} <= set(types)
    assert types["SXBZXR"]["kind"] == "black" and "法释〔2017〕7号" in types["SXBZXR"]["basis"]
    assert types["AJNSR"]["kind"] == "red" and types["AJNSR"]["removed_on_new_adverse"] is True
    assert all(t["source"] and (t["confirmed"] or t["note"]) for t in types.values())
    assert list(types["SXBZXR"])[:4] == ["code", "name_zh", "name_en", "kind"]
    matters = {m["code"] for m in cli("matters", "--json", at="2026-09-01T09:00")}
    assert {"ZFCG", "ZBTB", "TDGY", "XMSP", "CZZJ", "PXPY", "ZZSH", "SCZR"} <= matters


def test_a_memorandum_naming_an_unknown_matter_is_refused(tmp_path: Path) -> None:
    shutil.copytree(data_dir(), tmp_path / "data")
    path = tmp_path / "data" / "memoranda.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("matters: [ZFCG]", "matters: [ZFCX]", 1), "utf-8"
    )
    with pytest.raises(ProblemError) as refused:
        load_catalogue(tmp_path / "data")
    assert "apply.catalogue_invalid" in str(refused.value) and "ZFCX" in str(refused.value)
    assert "事项不存在" in refused.value.problems[0].message_zh
    assert load_catalogue().matter("ZFCG") is not None  # the packaged data loads


def test_proposal_and_decision_refusals_each_with_its_accepted_sibling(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    unknown = propose(cli, "NOSUCH", "2026-09-01T09:00", code=1)
    assert "list.type_unknown" in unknown.stderr and "SXBZXR" in unknown.stderr
    empty = cli("lists", "propose", "--type", "SXBZXR", "--subject", COMPANY, "--reason", " ", "--basis", "x",
                "--json", at="2026-09-01T09:00", code=1)  # fmt: skip
    assert "list.reason_missing" in empty.stderr
    entry = propose(cli, "SXBZXR", "2026-09-01T09:00")
    assert entry["state"] == "noticed"
    twice = propose(cli, "SXBZXR", "2026-09-01T09:05", code=1)
    assert "list.already_current" in twice.stderr

    # The subject waived its statement: decided the same day. SXBZXR lasts at most 2 years (法释〔2017〕7号).
    too_long = cli("lists", "decide", str(entry["id"]), "--valid-until", "2028-09-02", "--statement-waived",
                   "--json", at="2026-09-01T10:00", code=1)  # fmt: skip
    assert "list.validity" in too_long.stderr and "2028-09-01" in too_long.stderr
    waived = cli("lists", "decide", str(entry["id"]), "--valid-until", "2028-09-01", "--statement-waived",
                 "--json", at="2026-09-01T10:00")  # fmt: skip
    assert (waived["state"], waived["statement_waived"]) == ("listed", True)
    again = cli("lists", "decide", str(entry["id"]), "--valid-until", "2028-09-01", "--json",
                at="2026-09-01T10:05", code=1)  # fmt: skip
    assert "list.not_noticed" in again.stderr

    # Removing as expired before the validity ends is refused; revoked is accepted; removing twice is not.
    early = cli("lists", "remove", str(entry["id"]), "--reason", "expired", "--json", at="2026-09-02T09:00",
                code=1)  # fmt: skip
    assert "list.cannot_remove.expired" in early.stderr
    bad = cli(
        "lists", "remove", str(entry["id"]), "--reason", "because", "--json", at="2026-09-02T09:00", code=1
    )
    assert "list.removal_reason" in bad.stderr
    revoked = cli("lists", "remove", str(entry["id"]), "--reason", "revoked", "--json", at="2026-09-02T09:00")
    assert (revoked["state"], revoked["removed_reason"], revoked["removed_on"]) == (
        "removed",
        "revoked",
        "2026-09-02",
    )
    twice_removed = cli("lists", "remove", str(entry["id"]), "--reason", "revoked", "--json",
                        at="2026-09-02T09:01", code=1)  # fmt: skip
    assert "list.already_removed" in twice_removed.stderr


def test_expiry_leaves_the_public_list_at_once_and_stays_in_history(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    portal, _ = world
    entry = propose(cli, "AJNSR", "2026-09-01T09:00")
    cli("lists", "decide", str(entry["id"]), "--valid-until", "2026-12-31", "--statement-waived", "--json",
        at="2026-09-01T10:00")  # fmt: skip
    public = portal.client("public")

    portal.runtime.clock.set("2026-12-31T12:00")  # type: ignore[attr-defined]
    listed = public.get("/api/v1/lists", params={"kind": "red"}).json()["items"]
    assert [(e["id"], e["subject"]["code"]) for e in listed] == [(entry["id"], COMPANY)]
    assert public.get("/api/v1/lists", params={"kind": "black"}).json()["items"] == []
    csv = public.get("/api/v1/lists", params={"format": "csv"})
    assert csv.text.startswith("\ufeff名单类型") and "A级纳税人名单" in csv.text and COMPANY in csv.text

    future = cli("lists", "expire", "--as-of", "2027-01-02", "--json", at="2027-01-01T01:00", code=1)
    assert "list.expire_future" in future.stderr
    expired = cli("lists", "expire", "--as-of", "2027-01-01", "--json", at="2027-01-01T01:00")
    assert [(e["id"], e["removed_reason"]) for e in expired["removed"]] == [(entry["id"], "expired")]
    assert cli("lists", "expire", "--json", at="2027-01-01T02:00")["removed"] == []  # idempotent

    portal.runtime.clock.set("2027-01-01T03:00")  # type: ignore[attr-defined]
    assert public.get("/api/v1/lists").json()["items"] == []
    assert COMPANY not in public.get("/api/v1/lists", params={"format": "csv"}).text
    with portal.runtime.engine.connect() as conn:
        kept = conn.execute(sa.select(list_entries.c.state).where(list_entries.c.id == entry["id"])).scalar()
    assert kept == "removed"


def test_a_red_list_member_with_a_new_adverse_record_leaves_red_lists_only(
    world: tuple[Portal, Rights], cli: Run
) -> None:
    portal, rights = world
    red = propose(cli, "AJNSR", "2026-09-01T09:00")
    black = propose(cli, "ZDSSWF", "2026-09-01T09:00")
    for entry in (red, black):
        cli("lists", "decide", str(entry["id"]), "--valid-until", "2027-06-30", "--statement-waived",
            "--json", at="2026-09-01T10:00")  # fmt: skip
    runtime = portal.runtime
    runtime.clock.set("2026-09-03T09:00")  # type: ignore[attr-defined]
    with runtime.engine.begin() as conn:
        removed = service.remove_red_on_adverse(
            conn,
            subject_id=rights.timeline.company_id,
            record_id=rights.ids["OBJECTED"],
            principal=Principal.system("test"),
            clock=runtime.clock,
            policy=load_policy(),
        )
    assert [(e["id"], e["removed_reason"]) for e in removed] == [(red["id"], "new_adverse")]
    # The black-list entry stays, and removing it for a new adverse record is refused.
    refused = cli("lists", "remove", str(black["id"]), "--reason", "new_adverse", "--json",
                  at="2026-09-03T09:05", code=1)  # fmt: skip
    assert "list.cannot_remove.new_adverse" in refused.stderr
    check = cli("check", COMPANY, "--matter", "ZFCG", "--json", at="2026-09-03T09:10")
    assert [e["list_type"] for e in check["lists"]] == ["ZDSSWF"]
    assert [m["code"] for m in check["measures"]] == ["ZDSSWF-ZFCG"]


def test_a_check_refuses_an_unknown_matter_and_subject(world: tuple[Portal, Rights], cli: Run) -> None:
    matter = cli("check", COMPANY, "--matter", "NOPE", "--json", at="2026-09-01T09:00", code=1)
    assert "check.matter_unknown" in matter.stderr and "ZFCG" in matter.stderr
    nobody = cli("check", "91420106MA4KHX996K", "--matter", "ZFCG", "--json", at="2026-09-01T09:00", code=1)
    assert "subject.not_found" in nobody.stderr
    typo = cli("check", "91420106MA4KHX9960", "--matter", "ZFCG", "--json", at="2026-09-01T09:00", code=1)
    assert "subject.invalid_code" in typo.stderr and "校验位应为'K'" in typo.stderr
    fine = cli("check", COMPANY, "--matter", "zfcg", "--json", at="2026-09-01T09:00")
    assert fine["matter"]["code"] == "ZFCG" and fine["lists"] == []


def test_this_chapter_masks_every_name_the_portal_masks() -> None:
    """Lists, checks and cases name a subject through subject_ref: a person's name is masked there as on the
    portal (policy `masking.person_names`), an 个体工商户 under its operator's bare name included."""
    from types import SimpleNamespace

    from xinyong.apply.service import subject_ref

    def shown(kind: str, name: str) -> str:
        return subject_ref(SimpleNamespace(kind=kind, uscc=None, name=name, public_ref="0" * 24))["name"]

    assert shown("natural_person", "张三丰") == "张**"
    assert shown("individual_business", "王芳") == "王*"
    assert shown("individual_business", "武汉市洪山区王芳便利店") == "武汉市洪山区王芳便利店"
    assert shown("legal_person", "武汉华信科技有限公司") == "武汉华信科技有限公司"
