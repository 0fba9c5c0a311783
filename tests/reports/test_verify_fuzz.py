"""The verify upload under hypothesis: any bytes — random, a report with bytes flipped, cut or appended —
get a verdict (never a 500, never "valid" unless untouched), on the API and the page alike."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disclose.builders import COMPANY
from web.conftest import Portal


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_any_upload_gets_a_verdict(portal: Portal, data: st.DataObject) -> None:
    client = portal.client("public")
    if not hasattr(portal, "_report"):
        answer = client.post("/api/v1/reports?format=pdf", json={"subject": COMPANY})
        portal._report = (answer.headers["X-Report-Number"], answer.content)  # type: ignore[attr-defined]
    number, pdf = portal._report  # type: ignore[attr-defined]
    kind = data.draw(st.sampled_from(["random", "flip", "cut", "append"]))
    if kind == "random":
        body = data.draw(st.binary(max_size=2048))
    elif kind == "flip":
        at = data.draw(st.integers(0, len(pdf) - 1))
        bit = data.draw(st.integers(1, 255))
        body = pdf[:at] + bytes([pdf[at] ^ bit]) + pdf[at + 1 :]
    elif kind == "cut":
        body = pdf[: data.draw(st.integers(0, len(pdf) - 1))]
    else:
        body = pdf + data.draw(st.binary(min_size=1, max_size=64))
    api = client.post("/api/v1/reports/verify", files={"file": ("r.pdf", body, "application/pdf")})
    assert api.status_code == 200, api.text
    assert api.json()["valid"] is False
    assert api.json()["reason"] in ("not_pdf", "not_signed", "modified", "unknown_number")
    page = client.post(f"/verify/{number}", files={"file": ("r.pdf", body, "application/pdf")})
    assert page.status_code == 422 and 'data-valid="false"' in page.text
    untouched = client.post("/api/v1/reports/verify", files={"file": ("r.pdf", pdf, "application/pdf")})
    assert untouched.json()["valid"] is True  # the sibling: the report itself passes
