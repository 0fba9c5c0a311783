"""Roles, permissions, disclosure levels and audiences, loaded from `data/roles.yaml` and validated.

The file is the single statement of who may do what; code asks it through `load_roles()` and never
hard-codes a role's rights. Validation refuses a grant of an undeclared permission, levels on a permission
that has none, an unknown audience or level, and inheritance cycles.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.problems import Problem, ProblemError

Level = Literal["public", "authorised", "government"]
LEVELS: tuple[Level, ...] = ("public", "authorised", "government")
AudienceName = Literal["public", "self", "authorised", "government", "platform"]
PrincipalKind = Literal["anonymous", "user", "token"]
Scope = Literal["any", "own_organisation", "self"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelDef(_Model):
    zh: str
    en: str


class AudienceDef(_Model):
    zh: str
    en: str
    sees: tuple[Level, ...]
    source: str = Field(min_length=1)


class PermissionDef(_Model):
    zh: str
    en: str
    levels: bool = False


class Grant(_Model):
    permission: str
    levels: tuple[Level, ...] = ()
    scope: Scope = "any"
    source: str = Field(min_length=1)


class RoleDef(_Model):
    zh: str
    en: str
    principals: tuple[PrincipalKind, ...]
    organisation_kinds: tuple[str, ...] = ()
    person: bool = False  # may a natural person, with no organisation, hold this role
    inherits: tuple[str, ...] = ()
    audience: AudienceName
    grants: tuple[Grant, ...] = ()


class RoleBook(_Model):
    version: int
    levels: dict[Level, LevelDef]
    audiences: dict[AudienceName, AudienceDef]
    permissions: dict[str, PermissionDef]
    roles: dict[str, RoleDef]

    @model_validator(mode="after")
    def _consistent(self) -> RoleBook:
        errors: list[str] = []
        for name, role in self.roles.items():
            errors += [
                f"roles.{name}.inherits: unknown role {p!r}" for p in role.inherits if p not in self.roles
            ]
            for i, grant in enumerate(role.grants):
                where = f"roles.{name}.grants[{i}] ({grant.permission})"
                perm = self.permissions.get(grant.permission)
                if perm is None:
                    errors.append(f"{where}: permission not declared under `permissions`")
                elif perm.levels and not grant.levels:
                    errors.append(f"{where}: this permission depends on the disclosure level; list `levels`")
                elif not perm.levels and grant.levels:
                    errors.append(f"{where}: this permission has no disclosure levels; remove `levels`")
        if not errors:
            for name in self.roles:
                if name in self._ancestors(name, ()):
                    errors.append(f"roles.{name}.inherits: inheritance cycle")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def _ancestors(self, name: str, seen: tuple[str, ...]) -> tuple[str, ...]:
        found: tuple[str, ...] = ()
        for parent in self.roles[name].inherits:
            if parent in seen:
                return (*found, parent)
            found += (parent, *self._ancestors(parent, (*seen, parent)))
        return found

    def role(self, name: str) -> RoleDef:
        try:
            return self.roles[name]
        except KeyError:
            raise ValueError(f"unknown role {name!r}; roles: {', '.join(self.roles)}") from None

    def assignable(self, name: str) -> RoleDef:
        """The role an operator named for an account or a token; an unknown name is a problem to show them
        (role() is for names in code, where an unknown one is a bug)."""
        if name not in self.roles:
            raise ProblemError(
                Problem(
                    "security.role_unknown",
                    f"没有该角色；可选：{'、'.join(self.roles)}",
                    f"no such role; one of {', '.join(self.roles)}",
                    field="role",
                )
            )
        return self.roles[name]

    def permission(self, name: str) -> PermissionDef:
        try:
            return self.permissions[name]
        except KeyError:
            raise ValueError(f"unknown permission {name!r}: declare it in security/data/roles.yaml") from None

    def grants(self, role: str, permission: str) -> list[Grant]:
        """Every grant of `permission` to `role`, its own and inherited ones."""
        names = (role, *dict.fromkeys(self._ancestors(role, ())))
        return [g for r in names for g in self.roles[r].grants if g.permission == permission]

    def permissions_of(self, role: str) -> set[str]:
        names = (role, *self._ancestors(role, ()))
        return {g.permission for r in names for g in self.roles[r].grants}

    def base_audience(self, role: str) -> AudienceName:
        """What the role is without knowing the subject: `self` and `authorised` need a subject to hold."""
        audience = self.role(role).audience
        return "public" if audience in ("self", "authorised") else audience


@cache
def load_roles() -> RoleBook:
    text = resources.files("xinyong.security").joinpath("data/roles.yaml").read_text(encoding="utf-8")
    return parse_roles(text)


def parse_roles(text: str) -> RoleBook:
    try:
        return RoleBook.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ProblemError(
            Problem(
                "security.roles_invalid",
                f"角色与权限文件有误：{exc}",
                f"the roles file is invalid: {exc}",
            )
        ) from exc
