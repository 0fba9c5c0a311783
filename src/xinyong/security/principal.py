"""Who is asking: the one description of a caller that every permission check and audit entry reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PrincipalKind = Literal["anonymous", "user", "token", "system"]


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller: the anonymous public, a signed-in user, a system holding an API token, or the platform.

    `subject_scheme`/`subject_key` say which credit subject the principal *is* (for the `subject` role):
    ("uscc", the enterprise's USCC) or ("idcard", the blind index of the person's ID number). They never
    hold an ID number in clear; `subject_label` is the masked form fit for display.
    """

    kind: PrincipalKind
    role: str
    actor: str  # how the audit trail names it: "anonymous", "user:alice", "token:xyt_ab12cd34", "system:cli"
    display_name: str = ""
    organisation_id: int | None = None
    organisation_uscc: str | None = None
    organisation_name: str | None = None
    user_id: int | None = None
    token_id: int | None = None
    session_id: int | None = None
    scopes: frozenset[str] | None = None  # tokens only: a subset of the role's permissions
    subject_scheme: Literal["uscc", "idcard"] | None = None
    subject_key: str | None = None
    subject_label: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(kind="anonymous", role="public", actor="anonymous", display_name="社会公众 / public")

    @classmethod
    def system(cls, name: str) -> Principal:
        """The platform acting by itself or through an operator's command line (who, in `name`)."""
        return cls(kind="system", role="system", actor=f"system:{name}"[:100], display_name=name)

    def describe(self) -> dict[str, Any]:
        """What the API tells a caller about itself (no secrets, no ID numbers)."""
        return {
            "kind": self.kind,
            "role": self.role,
            "actor": self.actor,
            "display_name": self.display_name,
            "organisation": (
                {"uscc": self.organisation_uscc, "name": self.organisation_name}
                if self.organisation_id
                else None
            ),
            "scopes": sorted(self.scopes) if self.scopes is not None else None,
            "subject": self.subject_label,
        }
