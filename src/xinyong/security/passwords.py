"""Hashing secrets: passwords with argon2id (argon2-cffi's RFC 9106 low-memory profile), random tokens
(session cookies, API tokens) with SHA-256 — 256 random bits need no slow hash; plus a minimal password rule.
"""

from __future__ import annotations

import hashlib
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from xinyong.problems import Problem, ProblemError


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at the next sign-in."""
    return _hasher().check_needs_rehash(stored_hash)


# Verifying against this when the account does not exist takes as long as a real check, so the response
# time does not tell an attacker which usernames exist.
_DUMMY_HASH: str | None = None


def burn_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("xinyong-no-such-account")
    verify_password(_DUMMY_HASH, password)


def check_password_rule(password: str, *, username: str, min_length: int) -> None:
    problems = []
    if len(password) < min_length:
        problems.append(
            Problem(
                "security.password_short",
                f"密码至少需要 {min_length} 个字符。",
                f"A password needs at least {min_length} characters.",
                field="password",
            )
        )
    if username and username.lower() in password.lower():
        problems.append(
            Problem(
                "security.password_username",
                "密码不能包含用户名。",
                "A password must not contain the username.",
            )
        )
    if problems:
        raise ProblemError(*problems)
