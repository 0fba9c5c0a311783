"""No route gives an anonymous client a record above 公开: every GET route of the app, with every subject
code, record id and option a visitor could try, is answered without any trace of such a record.

The catalogue here puts penalties at 授权查询 and licences at 政务共享, so the timeline's records are all
non-public; the route list comes from the app itself, so a route added later is covered without editing.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from disclose.builders import COMPANY, LICENCES, PENALTIES, PERSON_ID, catalog_with_levels
from xinyong.runtime import Runtime
from xinyong.web.deps import route_permissions

from .conftest import Portal, make_portal


@pytest.fixture
def closed(runtime: Runtime, tmp_path: Path) -> Portal:
    return make_portal(
        runtime, tmp_path, catalog=catalog_with_levels({"XZCF": "授权查询", "XZXK": "政务共享"})
    )


def secrets() -> list[str]:
    """Text that only the non-public records contain: their decision numbers, titles and contents."""
    found = []
    for row in [*PENALTIES.values(), *LICENCES.values()]:
        found += [row.get("cf_wsh") or row["xk_wsh"], row.get("cf_wfxw") or row["xk_xkws"]]
        found += [row.get("cf_nr") or row["xk_nr"]]
    return [s for s in found if s]


def test_no_route_shows_an_anonymous_visitor_a_non_public_record(closed: Portal) -> None:
    t = closed.timeline
    values = {
        "code": [COMPANY, f"xy-{t.company_id}", PERSON_ID, t.address(t.person_id), COMPANY[8:17]],
        "record_id": [str(i) for i in t.ids.values()],
        "name": ["penalties", "licences", "portal.css"],
        "folder": ["swagger-ui"],
        "authorisation_id": ["1"],
        "batch_id": ["1"],
    }
    queries = [
        {},
        {"format": "csv"},
        {"format": "json"},
        {"level": "authorised", "purpose": "贷款审批"},
        {"level": "government", "purpose": "行政许可审查", "format": "csv"},
        {"item": "XZCF"},
        {"item": "XZXK", "format": "csv"},
        {"q": "华信"},
        {"q": COMPANY},
        {"q": "whhx"},
    ]
    client = closed.client("public")
    leaks, calls, refused = [], 0, 0
    for method, path, _ in route_permissions(closed.app):
        if method != "GET":
            continue
        params = re.findall(r"{(\w+)(?::\w+)?}", path)
        for combo in itertools.product(*[values.get(p, ["1"]) for p in params]):
            url = re.sub(
                r"{(\w+)(?::\w+)?}", lambda m, c=dict(zip(params, combo, strict=True)): c[m.group(1)], path
            )
            for query in queries:
                response = client.get(url, params=query, headers={"accept": "text/html"})
                calls += 1
                refused += response.status_code == 403
                text = response.text
                leaks += [f"{url} {query}: {s}" for s in secrets() if s in text]
    assert not leaks, "\n".join(leaks[:20])
    assert calls > 300 and refused > 20  # asking for a higher level is refused, not quietly downgraded
    # The subject page and the lists exist and answer; they just hold nothing non-public.
    page = client.get(f"/subjects/{COMPANY}", headers={"accept": "text/html"})
    assert page.status_code == 200 and "data-record-id" not in page.text
    assert client.get("/api/v1/records", params={"item": "XZCF"}).status_code == 404
    # ...while a government user, asking with a purpose, sees them.
    government = closed.client("government").get(
        f"/api/v1/subjects/{COMPANY}", params={"level": "government", "purpose": "行政许可审查"}
    )
    assert len(government.json()["records"]) == 6
