"""Masking as a property of every public rendering: whatever natural persons a provider sends (any valid ID
number, any name, the number repeated in the facts of the case), the public finds each person by the whole
ID number and sees, on every page, in the JSON API and in every CSV export, neither a valid ID number nor
the person's full name."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from codes.strategies import idcards
from disclose.builders import SUBMITTER, _penalty, write_file
from xinyong.collect.service import ingest
from xinyong.logging import find_id_numbers
from xinyong.runtime import Runtime
from xinyong.store.tables import records

from .conftest import Portal, make_portal

HTML = {"accept": "text/html"}
SURNAMES = "王李张刘陈杨黄赵吴周"
# Given names from characters no page of the portal uses, so that finding one means finding the name.
GIVEN = "翊珺瑾琰璇瑜琪璐骞彧昶晟"
names = st.builds(lambda s, g: s + g, st.sampled_from(SURNAMES), st.text(GIVEN, min_size=1, max_size=2))
people = st.lists(st.tuples(idcards(), names), min_size=1, max_size=4, unique_by=lambda p: p[0])
_keys = itertools.count(1)
# The visitor's own request, echoed: the search box keeps what was typed (portal/views.py says so) and the
# language switch repeats the page's own address. Only the rest of the page counts.
OWN_QUERY = re.compile(r'(<input id="q"[^>]*? value="|href="/search\?q=)[^"&]*')


@pytest.fixture
def site(runtime: Runtime, tmp_path: Path) -> Portal:
    return make_portal(runtime, tmp_path)


@pytest.fixture
def sent() -> dict[str, str]:
    """ID number -> name of every person sent so far: the database only grows from example to example."""
    return {}


def send_penalties(portal: Portal, tmp: Path, persons: list[tuple[str, str]]) -> dict[str, int]:
    """One 行政处罚 per person, in publicity today; the ID number also written into the facts of the case."""
    rows = {}
    for number, name in persons:
        key = f"武环罚〔2026〕{9000 + next(_keys)}号"
        rows[key] = _penalty(
            key,
            "2026-06-01",
            "罚款",
            fine="0.5",
            who=(name, "自然人", number),
            cf_sy=f"经查，当事人（公民身份号码{number}）存在违法行为。",
        )
    path = write_file(
        tmp / f"persons-{next(_keys)}.csv", portal.timeline.catalog, "XZCF", list(rows.values())
    )
    summary = ingest(portal.runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER)
    assert (summary.rejected, summary.inserted) == (0, len(persons)), summary.as_dict()
    with portal.runtime.engine.connect() as conn:
        found = conn.execute(
            sa.select(records.c.source_key, records.c.id).where(records.c.source_key.in_(rows))
        )
        return {str(k): int(i) for k, i in found}


@settings(
    max_examples=max(3, settings.default.max_examples // 25),
    # The database only grows from one example to the next: the property holds for everything in it.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(persons=people)
def test_no_public_rendering_shows_an_id_number_or_a_full_name(
    site: Portal, sent: dict[str, str], tmp_path: Path, persons: list[tuple[str, str]]
) -> None:
    persons = [(number, name) for number, name in persons if number not in sent]
    assume(persons)
    sent.update(persons)
    ids = send_penalties(site, tmp_path, persons)
    client = site.client("public")
    rendered: dict[str, str] = {}
    for number, name in persons:
        found = client.get("/api/v1/search", params={"q": number}).json()["results"]
        assert len(found) == 1 and found[0]["name"] == name[0] + "*" * (len(name) - 1), found
        code = found[0]["code"]
        page = client.get("/search", params={"q": number}, headers=HTML).text
        rendered[f"search page {name}"] = OWN_QUERY.sub(r"\1", page)
        rendered[f"subject page {name}"] = client.get(f"/subjects/{code}", headers=HTML).text
        rendered[f"subject api {name}"] = client.get(f"/api/v1/subjects/{code}").text
        rendered[f"subject csv {name}"] = client.get(
            f"/api/v1/subjects/{code}", params={"format": "csv"}
        ).text
        assert re.search(r'data-record-id="\d+"', rendered[f"subject page {name}"])  # the penalty is shown
    for record_id in ids.values():
        rendered[f"notice page {record_id}"] = client.get(f"/notices/{record_id}", headers=HTML).text
        rendered[f"notice api {record_id}"] = client.get(f"/api/v1/records/{record_id}").text
    listed = {"item": "XZCF", "limit": "100"}
    rendered["list page"] = client.get("/publicity/penalties", params=listed, headers=HTML).text
    rendered["list api"] = client.get("/api/v1/records", params=listed).text
    rendered["list csv"] = client.get("/api/v1/records", params={**listed, "format": "csv"}).text
    assert all(str(i) in rendered["list api"] for i in ids.values())  # the records are really listed

    leaks = [
        f"{where}: {what}"
        for where, text in rendered.items()
        for what in [n for _, n in find_id_numbers(text.splitlines())] + [n for _, n in persons if n in text]
    ]
    assert not leaks, leaks
