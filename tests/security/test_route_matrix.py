"""Every role × every route × every disclosure level: allowed where route_matrix.yaml says, with the status
and the content it says; 403 with a bilingual reason elsewhere. Once with a stand-in that authorises every
agency, once with the rights chapter's real authorisation check and a real, granted authorisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from xinyong.security.roles import LEVELS, load_roles
from xinyong.web.deps import route_permissions

from .conftest import AGENCY, ENTERPRISE_USCC, GRANTED_PURPOSE, PERSON_ID, World

MATRIX = yaml.safe_load((Path(__file__).parent / "route_matrix.yaml").read_text(encoding="utf-8"))
PLACEHOLDERS = {"enterprise_uscc": ENTERPRISE_USCC, "person_id": PERSON_ID, "agency_uscc": AGENCY}


def test_actors_are_exactly_the_roles() -> None:
    assert set(MATRIX["actors"]) == set(load_roles().roles), "route_matrix.yaml must have one actor per role"
    assert set(MATRIX["audiences"]) == set(MATRIX["actors"]), "give every actor its audience"


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
        assert isinstance(entry.get("ok"), int), f"{route}: give the status an allowed actor gets (ok:)"
        assert _is_expectation(entry.get("expect")), f"{route}: say what the body holds (expect:)"
        for actor, differs in entry.get("by_actor", {}).items():
            known = actor in MATRIX["actors"] and set(differs) <= {"ok", "expect"}
            assert known, f"{route}: by_actor {actor}"


def test_every_role_on_every_route_at_every_level(world: World) -> None:
    """With a stand-in that authorises every agency for everything."""
    _walk_the_matrix(world)


def test_the_matrix_holds_with_the_real_authorisation_check(granted_world: World) -> None:
    """With the rights chapter's check, and the enterprise's authorisation for the purpose asked about."""
    assert GRANTED_PURPOSE in str(MATRIX["routes"]["GET /api/v1/subjects/{code}"]["request"])
    _walk_the_matrix(granted_world)


def _walk_the_matrix(world: World) -> None:
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
                    problems = _allowed_problems(entry, actor, level, response)
                    wrong += [f"{where}: {problem}" for problem in problems]
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


def _allowed_problems(entry: dict[str, Any], actor: str, level: str | None, response: Any) -> list[str]:
    """What is wrong with an allowed actor's answer: its status, then its content."""
    differs = entry.get("by_actor", {}).get(actor, {})
    status, expect = differs.get("ok", entry["ok"]), differs.get("expect", entry["expect"])
    if response.status_code != status:
        return [f"expected {status}: {response.text[:160]}"]
    # Asked at the public level, everyone gets the public answer (disclose.flows.look_up).
    audience = "public" if level == "public" else MATRIX["audiences"][actor]
    fill = {**PLACEHOLDERS, "actor": actor, "audience": audience}
    if "json" in expect:
        wanted = _fill(expect["json"], fill)
        if not _holds(response.json(), wanted):
            return [f"the body lacks {wanted}: {response.text[:300]}"]
        return []
    texts = expect["text"] if isinstance(expect["text"], list) else [expect["text"]]
    missing = [t for t in _fill(texts, fill) if t not in response.text]
    return [f"the body lacks {t!r}: {response.text[:160]}" for t in missing]


def _is_expectation(expect: Any) -> bool:
    return isinstance(expect, dict) and len(expect) == 1 and ("json" in expect or "text" in expect)


def _fill(value: Any, fill: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**fill)
    if isinstance(value, dict):
        return {k: _fill(v, fill) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, fill) for v in value]
    return value


def _holds(actual: Any, wanted: Any) -> bool:
    """A mapping holds the wanted keys with values that hold; a list holds each wanted item in some item of
    its own; anything else is equal."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and _holds(actual[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return isinstance(actual, list) and all(any(_holds(a, w) for a in actual) for w in wanted)
    return bool(actual == wanted)


def _call(client: Any, method: str, path: str, request: dict[str, Any], level: str | None) -> Any:
    url = path.format(**{k: _fill(v, PLACEHOLDERS) for k, v in request.get("path", {}).items()})
    query = {k: _fill(v, PLACEHOLDERS) for k, v in request.get("query", {}).items()}
    if level is not None:
        query["level"] = level
    json_body = _fill(request["json"], PLACEHOLDERS) if "json" in request else None
    return client.request(method, url, params=query, json=json_body)
