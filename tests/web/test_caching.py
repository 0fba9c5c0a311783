"""Repeat visitors cost nothing: public pages and public API answers carry a strong ETag and Cache-Control,
and a visitor who already holds the answer gets 304 with no body. Nothing with non-public data is ever
cacheable: a signed-in visitor's pages, an answer above the public level, the console stay `no-store`.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from disclose.builders import COMPANY

from .conftest import Portal

HTML = {"accept": "text/html"}


def public_paths(portal: Portal) -> list[tuple[str, dict[str, str]]]:
    ids = portal.timeline.ids
    return [
        (f"/api/v1/subjects/{COMPANY}", {}),
        (f"/api/v1/subjects/{COMPANY}?format=csv", {}),
        ("/api/v1/search?q=华信", {}),
        ("/api/v1/records?item=XZCF", {}),
        (f"/api/v1/records/{ids['P2']}", {}),
        ("/", HTML),
        ("/search?q=华信", HTML),
        (f"/subjects/{COMPANY}", HTML),
        ("/publicity/penalties", HTML),
        (f"/notices/{ids['P2']}", HTML),
        ("/lists", HTML),
    ]


def test_public_answers_carry_a_strong_etag_and_answer_304_to_a_repeat_visitor(portal: Portal) -> None:
    client = portal.client("public")
    for path, headers in public_paths(portal):
        first = client.get(path, headers=headers)
        assert first.status_code == 200, path
        tag = first.headers["etag"]
        # Strong (byte-identical answers), but for the search, whose answer holds its own timing.
        assert tag.startswith('W/"' if path.startswith("/api/v1/search") else '"'), path
        assert first.headers["cache-control"] == "public, no-cache", path
        again = client.get(path, headers={**headers, "if-none-match": tag})
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == tag and again.headers["cache-control"] == "public, no-cache"
        # A tag the visitor holds for another answer is not this one: the whole answer again.
        other = client.get(path, headers={**headers, "if-none-match": '"0123"'})
        assert other.status_code == 200 and other.headers["etag"] == tag, path


def test_an_operator_may_let_caches_keep_public_answers(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_PUBLIC_MAX_AGE_S", "30")
    answer = portal.client("public").get(f"/api/v1/subjects/{COMPANY}")
    assert answer.headers["cache-control"] == "public, max-age=30"
    signed_in = portal.client("government").get(f"/api/v1/subjects/{COMPANY}")
    assert signed_in.headers["cache-control"] == "no-store"


def test_a_repaired_record_changes_the_tag_so_no_visitor_keeps_it(portal: Portal) -> None:
    client = portal.client("public")
    path = f"/api/v1/subjects/{COMPANY}"
    before = client.get(path)
    assert portal.timeline.ids["P2"] in [r["id"] for r in before.json()["records"]]
    portal.timeline.set_state("P2", "repaired")
    after = client.get(path, headers={"if-none-match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert portal.timeline.ids["P2"] not in [r["id"] for r in after.json()["records"]]


@pytest.mark.parametrize("audience", ["self", "government", "platform"])
def test_answers_above_the_public_level_are_never_cached(portal: Portal, audience: str) -> None:
    from .conftest import AUDIENCES

    client = portal.client(audience)
    _, level, purpose = AUDIENCES[audience]
    params = {"level": level, **({"purpose": purpose} if purpose else {})}
    for path, headers in ((f"/api/v1/subjects/{COMPANY}", {}), (f"/subjects/{COMPANY}", HTML)):
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, (path, answer.text[:200])
        assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers
        # Even a request that names a tag gets the whole (audited) answer.
        again = client.get(path, params=params, headers={**headers, "if-none-match": "*"})
        assert again.status_code == 200 and again.headers["cache-control"] == "no-store"


def test_a_signed_in_visitors_pages_and_own_data_are_never_cached(portal: Portal) -> None:
    client = portal.client("self")
    for path, headers in public_paths(portal):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers, path
    for path in ("/api/v1/me/authorisations", "/api/v1/me/queries"):
        mine = client.get(path)
        assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store", path


def test_refusals_and_errors_are_not_cached(portal: Portal) -> None:
    client = portal.client("public")
    for path in ("/api/v1/subjects/91420100MA4K9999XX", "/no-such-page", "/api/v1/search?q=x"):
        answer = client.get(path)
        assert answer.status_code >= 400 and answer.headers["cache-control"] == "no-store", path
        assert "etag" not in answer.headers


def test_the_subject_answer_is_the_same_json_as_before(portal: Portal) -> None:
    """orjson writes the answer; its bytes are those Starlette's JSONResponse wrote (compact, unescaped)."""
    for path in (f"/api/v1/subjects/{COMPANY}", "/api/v1/records?item=XZCF"):
        answer = portal.client("public").get(path)
        parsed = answer.json()
        assert answer.content == json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode()
        assert answer.headers["content-type"] == "application/json"
