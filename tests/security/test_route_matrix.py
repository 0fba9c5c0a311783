"""Every role × every route × every disclosure level: allowed where route_matrix.yaml says, 403 elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from xinyong.security.roles import LEVELS, load_roles
from xinyong.web.deps import route_permissions

from .conftest import ENTERPRISE_USCC, PERSON_ID, World

MATRIX = yaml.safe_load((Path(__file__).parent / "route_matrix.yaml").read_text(encoding="utf-8"))
PLACEHOLDERS = {"enterprise_uscc": ENTERPRISE_USCC, "person_id": PERSON_ID}


def test_actors_are_exactly_the_roles() -> None:
    assert set(MATRIX["actors"]) == set(load_roles().roles), "route_matrix.yaml must have one actor per role"


def test_every_route_is_in_the_matrix_with_the_permission_it_declares(app: FastAPI) -> None:
    declared = {f"{method} {path}": perms for method, path, perms in route_permissions(app)}
    listed = {**MATRIX["routes"], **{f"* {path}": None for path in MATRIX["unguarded"]}}
    missing = sorted(set(declared) - set(listed))
    stale = sorted(set(listed) - set(declared))
    assert not missing, f"routes missing from tests/security/route_matrix.yaml: {missing}"
    assert not stale, f"route_matrix.yaml lists routes the app does not have: {stale}"
    for route, perms in declared.items():
        if route.startswith("* "):
            continue
        assert len(perms) == 1, f"{route} must declare exactly one permission(...), it declares {perms}"
        assert perms[0] == MATRIX["routes"][route]["permission"], f"{route}: code says {perms[0]}"
    for route, entry in MATRIX["routes"].items():
        assert ("allow" in entry) != ("levels" in entry), f"{route}: give either allow or levels"
        if "levels" in entry:
            assert set(entry["levels"]) == set(LEVELS), f"{route}: list every disclosure level"
            assert load_roles().permission(entry["permission"]).levels


def test_every_role_on_every_route_at_every_level(world: World) -> None:
    actors = MATRIX["actors"]
    clients = {actor: world.client(actor) for actor in actors}
    ordered = sorted(MATRIX["routes"].items(), key=lambda item: bool(item[1].get("last")))
    wrong: list[str] = []
    calls = 0
    for route, entry in ordered:
        method, path = route.split(" ", 1)
        cases = [(None, entry["allow"])] if "allow" in entry else list(entry["levels"].items())
        for level, allowed in cases:
            allowed = set(actors) if allowed == "all" else set(allowed)
            for actor in actors:
                response = _call(clients[actor], method, path, entry.get("request", {}), level)
                calls += 1
                where = f"{route}{f' level={level}' if level else ''} as {actor}: {response.status_code}"
                if actor in allowed:
                    expected = entry.get("ok")
                    if response.status_code == 403 or (expected and response.status_code != expected):
                        wrong.append(f"{where}, expected {expected or 'not 403'}: {response.text[:160]}")
                elif response.status_code != 403:
                    wrong.append(f"{where}, expected 403: {response.text[:160]}")
                else:
                    detail = response.json()["detail"]
                    if (
                        detail["code"] != "security.forbidden"
                        or not detail["message_zh"]
                        or not detail["message_en"]
                    ):
                        wrong.append(f"{where}: a refusal must say why in Chinese and English: {detail}")
    assert not wrong, "\n".join(wrong)
    assert calls >= len(actors) * len(MATRIX["routes"])


def _call(client: Any, method: str, path: str, request: dict[str, Any], level: str | None) -> Any:
    fill = lambda value: value.format(**PLACEHOLDERS) if isinstance(value, str) else value  # noqa: E731
    url = path.format(**{k: fill(v) for k, v in request.get("path", {}).items()})
    query = {k: fill(v) for k, v in request.get("query", {}).items()}
    if level is not None:
        query["level"] = level
    json_body = {k: fill(v) for k, v in request["json"].items()} if "json" in request else None
    return client.request(method, url, params=query, json=json_body)
