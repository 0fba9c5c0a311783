"""The never-collect rule: personal information the platform refuses, in a catalogue and in an upload.

The rules are data (``data/never_collect.yaml``), each with its legal source. :func:`forbidden_match` is
public because the collection pipeline calls it on every upload column; it is cached and does one
precompiled regex search per header form, so calling it per column of a million-row batch costs nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xinyong.catalog.headers import normalise_header
from xinyong.problems import Problem, ProblemError


class RuleKind(StrEnum):
    FORBIDDEN = "forbidden"  # never collected
    CONSENT = "consent"  # only with the subject's written consent (item declares consent_required)


class RuleScope(StrEnum):
    ALL = "all"
    PERSONAL = "personal"  # only items that can hold natural persons or 个体工商户


class ForbiddenRule(BaseModel):
    """One category of personal information the platform must not collect (or not without consent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: RuleKind
    scope: RuleScope = RuleScope.ALL
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    source: str = Field(min_length=1)

    @property
    def consent_only(self) -> bool:
        return self.kind is RuleKind.CONSENT


class _RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    rules: tuple[ForbiddenRule, ...]


_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")
_JOINERS = re.compile(r"[\s_\-]+")


def _word_form(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; everything else (CJK, punctuation) splits words."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return f" {_ASCII_SEPARATORS.sub(' ', folded).strip()} "


def _compact(text: str) -> str:
    return _JOINERS.sub("", normalise_header(text))


@dataclass(frozen=True)
class _Matcher:
    """All rules compiled into two regexes (one Chinese, one English) and an exact-match table."""

    rules: tuple[ForbiddenRule, ...]
    zh: re.Pattern[str] | None
    en: re.Pattern[str] | None
    zh_owner: dict[str, ForbiddenRule]
    en_owner: dict[str, ForbiddenRule]
    exact: dict[str, ForbiddenRule]

    @classmethod
    def build(cls, rules: Iterable[ForbiddenRule]) -> _Matcher:
        rules = tuple(rules)
        zh_owner: dict[str, ForbiddenRule] = {}
        en_owner: dict[str, ForbiddenRule] = {}
        exact: dict[str, ForbiddenRule] = {}
        en_groups: list[str] = []
        for rule in rules:
            for keyword in rule.keywords_zh:
                zh_owner.setdefault(normalise_header(keyword), rule)
            for keyword in rule.keywords_en:
                words = _word_form(keyword).split()
                if not words:
                    continue
                group = f"g{len(en_groups)}"
                # words may be run together or joined by any separator; a plural "s"/"es" may follow
                body = r"\s*".join(re.escape(w) for w in words)
                en_groups.append(f"(?P<{group}>{body}(?:e?s)?)")
                en_owner[group] = rule
            for word in (*rule.exact, rule.code):
                exact.setdefault(_compact(word), rule)
        # longest first so that 宗教信仰 wins over 信仰 (same rule either way, but the report is clearer)
        zh_keys = sorted(zh_owner, key=len, reverse=True)
        zh = re.compile("|".join(re.escape(k) for k in zh_keys)) if zh_keys else None
        en = re.compile(r"(?<![a-z0-9])(?:" + "|".join(en_groups) + r")(?![a-z0-9])") if en_groups else None
        return cls(rules, zh, en, zh_owner, en_owner, exact)

    def match(self, header: str) -> ForbiddenRule | None:
        compact = _compact(header)
        if not compact:
            return None
        if compact in self.exact:
            return self.exact[compact]
        if self.zh is not None and (found := self.zh.search(normalise_header(header))):
            return self.zh_owner[found.group(0)]
        if self.en is not None and (found := self.en.search(_word_form(header))):
            return self.en_owner[found.lastgroup or ""]
        return None


_DEFAULT_RULES = "never_collect.yaml"


def load_forbidden_rules(path: str | Path | None = None) -> tuple[ForbiddenRule, ...]:
    """Read a never-collect rule file (default: the packaged one). Refuses a malformed file."""
    if path is None:
        text = resources.files("xinyong.catalog").joinpath("data", _DEFAULT_RULES).read_text("utf-8")
        where = _DEFAULT_RULES
    else:
        text = Path(path).read_text("utf-8")
        where = str(path)
    try:
        parsed = _RuleFile.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ProblemError(
            Problem(
                "catalog.invalid",
                f"禁止采集规则文件 {where} 无效：{exc}",
                f"The never-collect rule file {where} is invalid: {exc}",
            )
        ) from exc
    return parsed.rules


@lru_cache(maxsize=1)
def _default_matcher() -> _Matcher:
    return _Matcher.build(load_forbidden_rules())


def default_rules() -> tuple[ForbiddenRule, ...]:
    """The packaged never-collect rules."""
    return _default_matcher().rules


@lru_cache(maxsize=8192)
def forbidden_match(header: str) -> ForbiddenRule | None:
    """The never-collect rule a header (field code, name, alias or upload column) falls under, if any.

    Pure matching: it does not know the catalogue item, so a consent-only rule is returned even where the
    item has consent. Use ``Item.refuses(header)`` to ask "must this column be refused for this item?".
    """
    return _default_matcher().match(header)


def matcher_for(rules: Iterable[ForbiddenRule]) -> _Matcher:
    """A matcher over custom rules (tests, an operator's stricter list); ``.match(header)`` as above."""
    return _Matcher.build(rules)
