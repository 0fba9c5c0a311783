"""Security refusals. Each is a ProblemError with the HTTP status the web layer answers with.

Services and the command line raise and catch them like any ProblemError; the web app turns them into
`{"detail": {"code", "message_zh", "message_en", ...}}` with the status and headers below.
"""

from __future__ import annotations

from typing import Any

from xinyong.problems import Problem, ProblemError


class SecurityError(ProblemError):
    status = 403

    def __init__(self, problem: Problem, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.headers = headers or {}
        self.extra = extra
        # What the refusal concerned (e.g. subject_id, level), for the audit entry; never sent to the client.
        self.context: dict[str, Any] = {}

    def body(self) -> dict[str, Any]:
        return {"detail": {**self.problem.as_dict(), **self.extra}}


class AccessDenied(SecurityError):
    """403: the principal is known (or anonymous) and may not do this."""

    status = 403


class AuthenticationFailed(SecurityError):
    """401: the credentials offered (password, token, session) are not valid."""

    status = 401


class PurposeRequired(SecurityError):
    """400: non-public information is only shown for a declared purpose."""

    status = 400


class RateLimited(SecurityError):
    """429: too many requests; `retry_after` seconds until the next one is accepted."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            Problem(
                "security.rate_limited",
                f"请求过于频繁，请在 {retry_after} 秒后重试。",
                f"Too many requests; retry in {retry_after} seconds.",
            ),
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
        self.retry_after = retry_after
