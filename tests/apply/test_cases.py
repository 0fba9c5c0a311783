"""案例报送 on SQLite and PostgreSQL, through the API departments' systems call: 武汉市政务服务和大数据管理局
checks a person on the 失信被执行人 list for a procurement, reports the case it applied (with a PDF), the
credit office publishes it — and the public sees it with the person's name and ID number masked, while the
department and the credit office see what was reported. Refusals, each beside the accepted case: a file
that is not a PDF/JPG/PNG by content, a check another organisation made, an unknown measure, a measure not
for that list, a return without a reason, a second review; nothing is public before review."""

from __future__ import annotations

from fastapi.testclient import TestClient

from disclose.builders import PERSON_ID, PERSON_NAME
from rights.builders import Rights
from rights.casework_world import EXE, PDF
from rights.cli_helpers import Run
from web.conftest import Portal, login

TEXT = f"经核查，{PERSON_NAME}（身份证号 {PERSON_ID}）为失信被执行人，依法不得参加本次政府采购。"


def signed_in(portal: Portal, username: str, at: str) -> TestClient:
    portal.runtime.clock.set(at)  # type: ignore[attr-defined]
    return login(TestClient(portal.app), username)


def form(**changes: str) -> dict[str, str]:
    return {
        "title": f"{PERSON_NAME}参加政府采购被限制",
        "text": TEXT,
        "measure": "SXBZXR-ZFCG",
        "list_type": "SXBZXR",
    } | changes


def test_reported_reviewed_and_shown_masked(world: tuple[Portal, Rights], cli: Run) -> None:
    portal, _ = world
    entry = cli("lists", "propose", "--type", "SXBZXR", "--subject", PERSON_ID, "--reason", "拒不履行",
                "--basis", "法释〔2017〕7号", "--json", at="2026-09-01T09:00")  # fmt: skip
    cli("lists", "decide", str(entry["id"]), "--valid-until", "2028-08-31", "--statement-waived", "--json",
        at="2026-09-01T10:00")  # fmt: skip
    gov = signed_in(portal, "wuhan-gov", "2026-09-02T09:00")
    checked = gov.post("/api/v1/checks", json={"subject": PERSON_ID, "matter": "ZFCG"}).json()
    assert "SXBZXR-ZFCG" in [m["code"] for m in checked["measures"]]
    office = signed_in(portal, "operator", "2026-09-02T09:00")
    theirs = office.post("/api/v1/checks", json={"subject": PERSON_ID, "matter": "ZFCG"}).json()

    # Refused, nothing stored: a program named .pdf, someone else's check, an unknown or misplaced measure.
    refusals = (
        ({**form(), "check_id": str(checked["check_id"])}, {"attachments": ("判决书.pdf", EXE)}, 422,
         "attachment.type"),
        ({**form(), "check_id": str(theirs["check_id"])}, None, 403, "case.check_not_yours"),
        (form(measure="NO-SUCH"), None, 422, "case.measure_unknown"),
        (form(list_type="AJNSR"), None, 422, "case.measure_not_for_list"),
    )  # fmt: skip
    for data, files, status, code in refusals:
        answer = gov.post("/api/v1/case-reports", data=data, files=files)
        assert (answer.status_code, answer.json()["detail"]["code"]) == (status, code), answer.text
    assert gov.get("/api/v1/case-reports").json()["items"] == []

    made = gov.post(
        "/api/v1/case-reports",
        data={**form(), "check_id": str(checked["check_id"])},
        files={"attachments": ("采购结果通知.pdf", PDF)},
    )
    assert made.status_code == 201, made.text
    case = made.json()
    assert (case["state"], case["effect"], case["check_id"]) == (
        "submitted",
        "punishment",
        checked["check_id"],
    )
    assert [a["media_type"] for a in case["attachments"]] == ["application/pdf"]
    public = TestClient(portal.app)
    assert public.get(f"/api/v1/cases/{case['id']}").status_code == 404  # not before review
    assert public.get("/api/v1/cases").json()["items"] == []

    office = signed_in(portal, "operator", "2026-09-03T09:00")
    returned = office.post(f"/api/v1/case-reports/{case['id']}/review", json={"publish": False})
    assert returned.status_code == 422 and returned.json()["detail"]["code"] == "case.reason_required"
    published = office.post(f"/api/v1/case-reports/{case['id']}/review", json={"publish": True})
    assert published.status_code == 200 and published.json()["state"] == "published"
    again = office.post(f"/api/v1/case-reports/{case['id']}/review", json={"publish": True})
    assert again.status_code == 409 and again.json()["detail"]["code"] == "case.reviewed"

    shown = public.get(f"/api/v1/cases/{case['id']}").json()
    assert PERSON_NAME not in shown["title"] + shown["text"] and PERSON_ID not in shown["text"]
    assert shown["title"].startswith("张") and shown["subject"]["name"] != PERSON_NAME
    assert "check_id" not in shown and "attachments" not in shown
    listed = public.get("/api/v1/cases", params={"list_type": "SXBZXR", "effect": "punishment"}).json()
    assert [c["id"] for c in listed["items"]] == [case["id"]]
    assert public.get("/api/v1/cases", params={"effect": "reward"}).json()["items"] == []
    # A masked name cannot be searched by its letters.
    assert public.get("/api/v1/cases", params={"q": PERSON_NAME}).json()["items"] == []
    page = public.get(f"/cases/{case['id']}", headers={"accept": "text/html"}).text
    assert PERSON_NAME not in page and PERSON_ID not in page and "依法不得参加本次政府采购" in page

    # The department and the credit office see what was reported.
    own = signed_in(portal, "wuhan-gov", "2026-09-03T10:00").get(f"/api/v1/case-reports/{case['id']}").json()
    assert PERSON_ID in own["text"] and own["state"] == "published"
    out = cli("cases", "list", "--public", "--json", at="2026-09-03T10:00")
    assert [c["id"] for c in out] == [case["id"]] and PERSON_NAME not in out[0]["text"]
