"""Whatever a clerk types into the console's addresses and forms (months, dates, items, ids, names of
figures), the answer is a page or a refusal — never a 500. The console's routes are outside the OpenAPI
document, so schemathesis (tests/web/test_fuzz.py) does not reach them: hypothesis does here."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import World

TEXT = st.text(max_size=24)
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(month=TEXT, start=TEXT, end=TEXT, name=st.text(min_size=1, max_size=16).filter(lambda s: "/" not in s))
def test_statistics_and_assessment_parameters_never_fail(
    world: World, month: str, start: str, end: str, name: str
) -> None:
    office = world.client("operator") if not hasattr(world, "_office") else world._office  # type: ignore[attr-defined]
    world._office = office  # type: ignore[attr-defined]
    for path in ("/console/stats", "/console/assessment", f"/console/stats/{quote(name, safe='')}/export"):
        answer = office.get(path, params={"month": month, "from": start, "to": end})
        assert answer.status_code < 500, (path, month, start, end)


@SETTINGS
@given(item=TEXT, batch=st.integers(min_value=-(2**70), max_value=2**70), before=st.integers(-(2**70), 2**70))
def test_batch_addresses_and_upload_fields_never_fail(
    world: World, item: str, batch: int, before: int
) -> None:
    clerk = world.client("clerk") if not hasattr(world, "_clerk") else world._clerk  # type: ignore[attr-defined]
    world._clerk = clerk  # type: ignore[attr-defined]
    assert clerk.get(f"/console/batches/{batch}").status_code < 500
    assert clerk.get("/console/batches", params={"item": item, "before": before}).status_code < 500
    assert clerk.get("/console/upload", params={"item": item}).status_code < 500
    answer = clerk.post(
        "/console/upload", data={"item": item}, files={"file": ("a.csv", b"x,y\n1,2\n", "text/csv")}
    )
    assert answer.status_code < 500


@SETTINGS
@given(
    username=TEXT,
    name=TEXT,
    role=TEXT,
    organisation=TEXT,
    status=TEXT,
    days=st.one_of(st.integers(-(2**40), 2**40).map(str), TEXT),
    scope=st.lists(TEXT, max_size=3),
)
def test_administration_forms_never_fail(
    world: World,
    username: str,
    name: str,
    role: str,
    organisation: str,
    status: str,
    days: str,
    scope: list[str],
) -> None:
    admin = world.client("admin") if not hasattr(world, "_admin") else world._admin  # type: ignore[attr-defined]
    world._admin = admin  # type: ignore[attr-defined]
    posts = (
        (
            "/console/admin/users",
            {"username": username, "display_name": name, "role": role, "organisation": organisation},
        ),
        ("/console/admin/users/status", {"username": username, "status": status}),
        ("/console/admin/users/unlock", {"username": username}),
        ("/console/admin/users/reset", {"username": username}),
        (
            "/console/admin/tokens",
            {"organisation": organisation, "role": role, "name": name, "scope": scope, "days": days},
        ),
        ("/console/admin/tokens/revoke", {"prefix": username}),
    )
    for path, data in posts:
        answer = admin.post(path, data=data)
        assert answer.status_code < 500, (path, data)


@SETTINGS
@given(
    actor=TEXT, subject=TEXT, action=TEXT, start=TEXT, end=TEXT, page=st.integers(-(2**40), 2**40), link=TEXT
)
def test_audit_search_and_one_time_links_never_fail(
    world: World, actor: str, subject: str, action: str, start: str, end: str, page: int, link: str
) -> None:
    admin = world.client("admin") if not hasattr(world, "_admin") else world._admin  # type: ignore[attr-defined]
    world._admin = admin  # type: ignore[attr-defined]
    params = {"actor": actor, "subject": subject, "action": action, "from": start, "to": end, "page": page}
    assert admin.get("/console/admin/audit", params=params).status_code < 500
    path = f"/console/reset/{quote(link, safe='')}"
    visitor = world.client()
    assert visitor.get(path).status_code < 500
    assert visitor.post(path, data={"password": link, "again": link}).status_code < 500
