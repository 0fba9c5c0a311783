"""The application chapter's rules as data: list types, business matters, memoranda and their measures.

Read from apply/data/*.yaml, validated with pydantic when loaded (a measure naming an unknown matter, a
memorandum targeting an unknown list, an unconfirmed entry without a note: the file is refused with the
path of the fault). Cached once per process: the files ship with the code.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.policy.errors import Bilingual, problems_from_validation
from xinyong.policy.yamlio import YamlProblem, read_yaml
from xinyong.problems import Problem, ProblemError
from xinyong.subjects.models import SUBJECT_KINDS

SubjectKind = Literal["legal_person", "other_org", "individual_business", "natural_person"]
assert set(SubjectKind.__args__) == set(SUBJECT_KINDS)  # type: ignore[attr-defined]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Model):
    source: str = Field(min_length=1)
    confirmed: bool
    note: str | None = None

    @model_validator(mode="after")
    def _unconfirmed_says_why(self) -> Sourced:
        if not self.confirmed and not (self.note and self.note.strip()):
            raise Bilingual(
                "未确认的条目必须在 note 中说明不确定之处",
                "an unconfirmed entry must say in `note` what is uncertain",
            )
        return self


class ListType(Sourced):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,31}$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    kind: Literal["red", "black"]
    deciding_body: str = Field(min_length=1)
    basis: str = Field(min_length=1)
    standard: str = Field(min_length=1)
    subject_kinds: tuple[SubjectKind, ...] = Field(min_length=1)
    validity_years: int = Field(ge=1, le=10)
    early_removal_after_repair: bool
    removed_on_new_adverse: bool
    catalog_item: str | None = None  # the catalogue item providers send entries of this list under

    def as_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        first = ("code", "name_zh", "name_en", "kind")
        return {k: data[k] for k in first} | {k: v for k, v in data.items() if k not in first}


class Matter(_Model):
    code: str = Field(pattern=r"^[A-Z]{2,16}$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class Measure(Sourced):
    code: str = Field(pattern=r"^[A-Z0-9-]{2,32}$")
    content_zh: str = Field(min_length=1)
    content_en: str = Field(min_length=1)
    basis: str = Field(min_length=1)
    departments: tuple[str, ...] = Field(min_length=1)
    effect: Literal["reward", "punishment"]
    mandatory: bool
    subject_kinds: tuple[SubjectKind, ...] = Field(min_length=1)
    matters: tuple[str, ...] = Field(min_length=1)


class Memorandum(Sourced):
    code: str = Field(min_length=2, max_length=32)
    name_zh: str = Field(min_length=1)
    document: str = Field(min_length=1)
    targets: tuple[str, ...] = Field(min_length=1)
    measures: tuple[Measure, ...] = Field(min_length=1)


class _ListsFile(_Model):
    version: Literal[1]
    list_types: tuple[ListType, ...] = Field(min_length=1)


class _MattersFile(Sourced):
    version: Literal[1]
    matters: tuple[Matter, ...] = Field(min_length=1)


class _MemorandaFile(_Model):
    version: Literal[1]
    memoranda: tuple[Memorandum, ...] = Field(min_length=1)


class ApplyCatalogue(_Model):
    list_types: tuple[ListType, ...]
    matters: tuple[Matter, ...]
    memoranda: tuple[Memorandum, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> ApplyCatalogue:
        lists = [t.code for t in self.list_types]
        matters = [m.code for m in self.matters]
        measures = [m.code for memo in self.memoranda for m in memo.measures]
        for name, codes in (("list type", lists), ("matter", matters), ("measure", measures)):
            if len(codes) != len(set(codes)):
                twice = sorted({c for c in codes if codes.count(c) > 1})
                raise Bilingual(f"代码重复：{twice}", f"a {name} code is used twice: {twice}")
        for memo in self.memoranda:
            if unknown := sorted(set(memo.targets) - set(lists)):
                raise Bilingual(
                    f"备忘录 {memo.code} 的对象名单不存在：{unknown}",
                    f"memorandum {memo.code} targets unknown list types {unknown}",
                )
            for measure in memo.measures:
                if unknown := sorted(set(measure.matters) - set(matters)):
                    raise Bilingual(
                        f"措施 {measure.code} 的事项不存在：{unknown}",
                        f"measure {measure.code} names unknown matters {unknown}",
                    )
        return self

    def list_type(self, code: str) -> ListType | None:
        return next((t for t in self.list_types if t.code == code), None)

    def matter(self, code: str) -> Matter | None:
        return next((m for m in self.matters if m.code == code), None)

    def measures_for(
        self, list_type: str, matter: str, subject_kind: str
    ) -> list[tuple[Memorandum, Measure]]:
        """The measures a subject of this kind on this list gets in this matter, in file order."""
        return [
            (memo, measure)
            for memo in self.memoranda
            if list_type in memo.targets
            for measure in memo.measures
            if matter in measure.matters and subject_kind in measure.subject_kinds
        ]


def data_dir() -> Path:
    return Path(str(resources.files("xinyong.apply") / "data"))


def _read(path: Path, model: type[_Model]) -> Any:
    try:
        return model.model_validate(read_yaml(path))
    except YamlProblem as exc:
        raise ProblemError(
            Problem(
                "apply.catalogue_invalid", f"{path.name}：{exc.message_zh}", f"{path.name}: {exc.message_en}"
            )
        ) from exc
    except ValidationError as exc:
        raise ProblemError(*problems_from_validation(exc, code="apply.catalogue_invalid", file=path)) from exc


def load_catalogue(directory: Path | None = None) -> ApplyCatalogue:
    """The validated list types, matters and memoranda of `directory` (default: the packaged data)."""
    if directory is None:
        return _packaged()
    return _load(directory)


@lru_cache(maxsize=1)
def _packaged() -> ApplyCatalogue:
    return _load(data_dir())


def _load(directory: Path) -> ApplyCatalogue:
    lists = _read(directory / "lists.yaml", _ListsFile)
    matters = _read(directory / "matters.yaml", _MattersFile)
    memoranda = _read(directory / "memoranda.yaml", _MemorandaFile)
    try:
        return ApplyCatalogue(
            list_types=lists.list_types, matters=matters.matters, memoranda=memoranda.memoranda
        )
    except ValidationError as exc:
        raise ProblemError(
            *problems_from_validation(exc, code="apply.catalogue_invalid", file=directory)
        ) from exc
