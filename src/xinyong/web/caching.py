"""HTTP caching of public answers: a strong ETag from the content, Cache-Control, 304 on If-None-Match.

    return public_answer(request, response)   # in a route whose answer may be public

An answer is cacheable only when it is the public answer to a visitor without credentials (no API token, no
session: `request.state.principal` is anonymous), is a 200, and sets no cookie. Then it carries
`ETag: "<blake2b-128 of the body>"` and `Cache-Control: public, no-cache` — any cache may keep it but must
ask again before showing it, so a repaired record is never shown from a cache; a request whose
If-None-Match names the tag gets 304 with no body. An operator who accepts that a repaired record stays
visible in caches for a while sets XINYONG_PUBLIC_MAX_AGE_S (then `public, max-age=N`: a repeat visit
within N seconds does not reach the server at all; docs/scaling.md). The ETag is computed from the bytes
sent, so it changes exactly when the answer does (a new record, a repair, the day moving a record out of
publicity). The one exception is the search answer, whose `took_ms` differs on every call: its tag is weak
(`W/"…"`), computed from the answer without the timing, so a repeat search still gets its 304.

Everything else — a signed-in visitor's pages, an answer above the public level, the console, errors — is
`Cache-Control: no-store`: `NoStoreByDefault` adds it to every response that does not say otherwise, so a
route that forgets is private, never public.
"""

from __future__ import annotations

import hashlib
import os

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.security.principal import Principal

MAX_AGE_ENV = "XINYONG_PUBLIC_MAX_AGE_S"
DEFAULT_MAX_AGE_S = 0  # revalidate every time: a repair shows at once (tests/web/test_browser_rights.py)
NO_STORE = "no-store"
# Pages change with the visitor's language (cookie or Accept-Language); the API answers with its query.
VARY = "Accept-Language, Cookie"


def cache_control() -> str:
    max_age = max(0, int(os.environ.get(MAX_AGE_ENV, DEFAULT_MAX_AGE_S)))
    return f"public, max-age={max_age}" if max_age else "public, no-cache"


def entity_tag(body: bytes) -> str:
    """A strong validator: equal tags mean byte-identical answers."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(if_none_match: str, tag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison for GET; `*` matches any current answer."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag.removeprefix("W/"):
            return True
    return False


def is_public_request(request: Request) -> bool:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal is not None and not principal.authenticated


def public_answer(
    request: Request, response: Response, *, public: bool = True, equivalent: bytes | None = None
) -> Response:
    """`response` made cacheable when it is a public answer (`public`) to an anonymous visitor; else left
    to `NoStoreByDefault`. Returns a 304 instead when the visitor already holds this very answer.
    `equivalent`: the bytes that identify the answer when the body holds something incidental (a
    timing); the tag is then weak."""
    if (
        not public
        or response.status_code != 200
        or not is_public_request(request)
        or "set-cookie" in response.headers
        or request.method not in ("GET", "HEAD")
    ):
        return response
    tag = entity_tag(bytes(response.body)) if equivalent is None else "W/" + entity_tag(equivalent)
    headers = {"ETag": tag, "Cache-Control": cache_control(), "Vary": VARY}
    asked = request.headers.get("if-none-match")
    if asked and _matches(asked, tag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


class NoStoreByDefault:
    """Adds `Cache-Control: no-store` to every HTTP response that does not set Cache-Control itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_default(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    message["headers"] = [*headers, (b"cache-control", NO_STORE.encode())]
            await send(message)

        await self.app(scope, receive, send_with_default)
