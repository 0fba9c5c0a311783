"""Domains (领域) as data: which domain each catalogue item and red/black list type belongs to, and what the
special credit report (专项信用报告) covers. The file is `catalog/data/domains.yaml` (docs/reports.md)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.problems import Problem, ProblemError

BY_DEPARTMENT = "by_department"
OTHER = "other"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Domain(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    departments: tuple[str, ...] = ()


class SpecialReport(_Strict):
    items: tuple[str, ...] = Field(min_length=1)
    list_kinds: tuple[Literal["red", "black"], ...] = ("black",)
    default_years: int = Field(ge=1, le=10)
    audience: Literal["public", "self", "authorised", "government"]
    omit_states: tuple[str, ...] = ()
    public_for_kinds: tuple[str, ...] = ()


class DomainFile(_Strict):
    version: Literal[1]
    source: str
    confirmed: bool
    domains: tuple[Domain, ...] = Field(min_length=1)
    items: dict[str, str]
    list_types: dict[str, str]
    special_report: SpecialReport

    @model_validator(mode="after")
    def _references(self) -> DomainFile:
        codes = [d.code for d in self.domains]
        if len(set(codes)) != len(codes):
            raise ValueError("a domain code is repeated")
        if OTHER not in codes:
            raise ValueError(f"the domain {OTHER!r} is required (records no department matches)")
        for where, mapping in (("items", self.items), ("list_types", self.list_types)):
            for key, value in mapping.items():
                if value not in codes and not (where == "items" and value == BY_DEPARTMENT):
                    raise ValueError(f"{where}.{key}: unknown domain {value!r}")
        return self


class Domains:
    """The validated domain file, with the look-ups the reports make."""

    def __init__(self, file: DomainFile) -> None:
        self.file = file
        self.by_code = {d.code: d for d in file.domains}

    @property
    def domains(self) -> tuple[Domain, ...]:
        return self.file.domains

    @property
    def special(self) -> SpecialReport:
        return self.file.special_report

    def domain(self, code: str) -> Domain:
        return self.by_code[code]

    def of_record(self, item_code: str, department: str | None) -> str:
        """The domain of a record of `item_code` from `department` (its 数据来源单位 name)."""
        mapped = self.file.items.get(item_code, OTHER)
        if mapped != BY_DEPARTMENT:
            return mapped
        name = department or ""
        for d in self.file.domains:
            if any(word in name for word in d.departments):
                return d.code
        return OTHER

    def of_list_type(self, list_type: str) -> str:
        return self.file.list_types.get(list_type, OTHER)


def parse_domains(text: str, catalog: Catalog | None = None) -> Domains:
    """Validate a domain file against the catalogue edition (every item mapped, no unknown item)."""
    try:
        file = DomainFile.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ProblemError(
            Problem("catalog.invalid", f"领域配置文件无效：{exc}", f"The domain file is invalid: {exc}")
        ) from exc
    catalog = catalog or load_catalog()
    known = set(catalog.codes)
    problems = []
    for code in sorted(known - set(file.items)):
        problems.append(
            Problem("catalog.bad_reference", f"目录事项 {code} 未归入任何领域", f"item {code} has no domain")
        )
    for code in sorted((set(file.items) | set(file.special_report.items)) - known):
        problems.append(
            Problem("catalog.bad_reference", f"领域配置引用了不存在的目录事项 {code}", f"unknown item {code}")
        )
    if problems:
        raise ProblemError(*problems)
    return Domains(file)


@cache
def load_domains() -> Domains:
    """The packaged domain file, checked against the packaged catalogue."""
    text = resources.files("xinyong.catalog").joinpath("data", "domains.yaml").read_text(encoding="utf-8")
    return parse_domains(text)
