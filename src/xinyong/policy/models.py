"""The policy file's schema: every rule with a number, typed, with its source and its [C]/[U] mark.

Features read typed values, never raw YAML, e.g.
    policy.disclosure.penalty_classes["一般"].min_months          -> 3
    policy.objection.mark_disputed_within.working_days            -> 1
    add_period(decision_date, policy.disclosure.adverse_default_5y)

Every leaf rule is an `Entry`: it carries `source` (the article or document) and `confirmed` (True for
[C], False for [U]). An unconfirmed entry must carry a `note` saying its value is a default to be
confirmed: a [U] value that looks as solid as a [C] one is how a guess becomes law by accident.
All models forbid unknown keys, so a misspelt key is an error at load, not a rule silently ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xinyong.policy.errors import Bilingual
from xinyong.policy.periods import PositiveSpan, Span

if TYPE_CHECKING:
    from xinyong.policy.workdays import WorkdayCalendar

PenaltyClassName = Literal["轻微", "一般", "严重"]
PENALTY_CLASS_NAMES: tuple[PenaltyClassName, ...] = ("轻微", "一般", "严重")
# Where a disclosure period starts counting.
RunsFrom = Literal["act_end", "decision", "publication"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(Model):
    """One rule: where it comes from and whether that source confirms it for this platform."""

    source: str = Field(min_length=1)
    confirmed: bool
    note: str | None = None
    in_force: dt.date | None = None

    @model_validator(mode="after")
    def _unconfirmed_says_so(self) -> Entry:
        if not self.confirmed and not (self.note and self.note.strip()):
            raise Bilingual(
                "未确认 [U] 的规则必须在 note 中说明其取值是待确认的默认值",
                "an unconfirmed [U] rule must say in `note` that its value is a default "
                "awaiting confirmation",
            )
        return self

    def describe_value(self) -> str:
        return ""


class PeriodEntry(Entry, PositiveSpan):
    """A calendar period rule (days, months, years; at least 1); usable directly with `add_period`."""

    def describe_value(self) -> str:
        return self.describe()


# What the deadline engine (xinyong.deadlines) does when a task is still open after its due day, beyond
# marking it overdue: suspend the disclosure of the record in question, or flag the owner for the 考核
# figures.
TimeoutConsequence = Literal["suspend_disclosure", "flag_assessment"]
TIMEOUT_CONSEQUENCES: tuple[TimeoutConsequence, ...] = ("suspend_disclosure", "flag_assessment")


class TimeoutRule(Entry):
    """The consequence a deadline's timeout has, with its own source (it is often less certain than the
    number of days)."""

    consequence: TimeoutConsequence

    def describe_value(self) -> str:
        return self.consequence


class WorkingDaysEntry(Entry):
    """A deadline in working days (工作日), counted by `WorkdayCalendar.add`: the Nth working day after.

    `on_timeout` names what happens when a task held to this deadline is still open after its due day;
    without it, the task is only shown overdue."""

    value: int = Field(ge=1)
    unit: Literal["working_days"]
    on_timeout: TimeoutRule | None = None

    @property
    def working_days(self) -> int:
        return self.value

    def due(self, start: dt.date, calendar: WorkdayCalendar) -> dt.date:
        """The last day to act: the `value`-th working day after `start` (start day not counted)."""
        return calendar.add(start, self.value)

    def describe_value(self) -> str:
        return f"{self.value} working_days"


class FlagEntry(Entry):
    value: bool

    def describe_value(self) -> str:
        return "true" if self.value else "false"


class CountEntry(Entry):
    value: int = Field(ge=0)
    unit: str = Field(min_length=1)

    def describe_value(self) -> str:
        return f"{self.value} {self.unit}"


class DateEntry(Entry):
    value: dt.date

    def describe_value(self) -> str:
        return self.value.isoformat()


class TextEntry(Entry):
    value: str = Field(min_length=1)

    def describe_value(self) -> str:
        return self.value


class Item(Model):
    """A named member of a list rule (a repair material, a grade...)."""

    code: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class ItemsEntry(Entry):
    items: list[Item] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _unique_codes(cls, items: list[Item]) -> list[Item]:
        codes = [i.code for i in items]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise Bilingual(f"代码重复：{dupes}", f"duplicate codes: {dupes}")
        return items

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.items]

    def describe_value(self) -> str:
        return ", ".join(f"{i.code} {i.name_zh}" for i in self.items)


# --- disclosure --------------------------------------------------------------------------------------


class AdversePeriodRule(PeriodEntry):
    """Adverse information: shown for a period counted from `runs_from`, then kept as an archive only."""

    runs_from: RunsFrom
    then: Literal["archive"] = "archive"

    def describe_value(self) -> str:
        return f"{self.describe()} from {self.runs_from}, then {self.then}"


class PenaltyClass(Model):
    label_en: str
    published_by_default: bool
    min_months: int = Field(ge=0)
    max_months: int = Field(ge=1)
    # When repair may be applied for: once the duty is fulfilled, or only after the minimum period.
    repair_after: Literal["duty_fulfilled", "minimum_period"]

    @model_validator(mode="after")
    def _min_not_above_max(self) -> PenaltyClass:
        if self.min_months > self.max_months:
            raise Bilingual(
                f"最短公示期 min_months={self.min_months} 大于最长公示期 max_months={self.max_months}",
                f"min_months={self.min_months} is greater than max_months={self.max_months}",
            )
        return self

    @property
    def min_period(self) -> Span:
        return Span(value=self.min_months, unit="months")

    @property
    def max_period(self) -> Span:
        return Span(value=self.max_months, unit="months")


class PenaltyByClassRule(Entry):
    """令第36号: publicity by penalty class, counted from the decision date, ending by itself at the max."""

    runs_from: RunsFrom
    replaces: str | None = None
    classes: dict[PenaltyClassName, PenaltyClass]

    @field_validator("classes")
    @classmethod
    def _all_classes(cls, classes: dict[str, PenaltyClass]) -> dict[str, PenaltyClass]:
        missing = [c for c in PENALTY_CLASS_NAMES if c not in classes]
        if missing:
            raise Bilingual(f"缺少处罚类别：{missing}", f"missing penalty classes: {missing}")
        return classes

    def describe_value(self) -> str:
        parts = []
        for name, c in self.classes.items():
            shown = "" if c.published_by_default else " (not published by default)"
            parts.append(f"{name} {c.min_months}–{c.max_months} months{shown}")
        return "; ".join(parts) + f"; from {self.runs_from}"


class SmallFineThreshold(Entry):
    """SAMR's "较低数额罚款", set by each provincial SAMR: a fine at or under (or under) it is small."""

    natural_person_yuan: Decimal = Field(gt=0)
    organisation_yuan: Decimal = Field(gt=0)
    inclusive: bool

    def is_small(self, amount_wan: Decimal, *, natural_person: bool) -> bool:
        """Whether a fine of `amount_wan` 万元 (the unit 双公示 data uses) is a small fine."""
        limit = self.natural_person_yuan if natural_person else self.organisation_yuan
        yuan = Decimal(amount_wan) * 10000
        return yuan <= limit if self.inclusive else yuan < limit

    def describe_value(self) -> str:
        op = "≤" if self.inclusive else "<"
        return (
            f"natural person {op} {self.natural_person_yuan} yuan; "
            f"organisation {op} {self.organisation_yuan} yuan"
        )


class SamrProviders(Entry):
    """Which providers' penalties are SAMR's own: by the 数据来源单位's name or USCC."""

    name_contains: tuple[str, ...] = ()
    usccs: tuple[str, ...] = ()

    def matches(self, *, uscc: str | None, name: str | None) -> bool:
        if uscc and uscc in self.usccs:
            return True
        return bool(name) and any(part in name for part in self.name_contains)  # type: ignore[operator]

    def describe_value(self) -> str:
        return (
            "name contains "
            + " / ".join(self.name_contains)
            + (f"; {len(self.usccs)} USCCs" if self.usccs else "")
        )


class SamrPenaltyRule(Entry):
    """SAMR's own penalties (总局令第45号): periods run from publication, not from the decision."""

    runs_from: RunsFrom
    warning_only_published: bool
    short_period: PositiveSpan  # 通报批评 only, or a small fine
    other_period: PositiveSpan
    small_fine: SmallFineThreshold
    providers: SamrProviders
    # The timeliness rule (a name under `timeliness`) by which SAMR publishes its penalties: a penalty the
    # platform first receives later than that was published — or should have been — before it arrived, so
    # its period runs from the decision instead of the late upload.
    published_within: Literal["samr_publish_within", "publish_within"] | None = None

    def describe_value(self) -> str:
        late = f"; received after {self.published_within}: from the decision" if self.published_within else ""
        return (
            f"警告 alone {'published' if self.warning_only_published else 'not published'}; "
            f"通报批评/small fine {self.short_period.describe()}; other {self.other_period.describe()}; "
            f"from {self.runs_from}{late}"
        )


class InvalidStatus(Model):
    """A status field whose values end a licence's publicity whatever its end date says (当前状态 2 无效)."""

    field: str = Field(min_length=1)
    values: tuple[str, ...] = Field(min_length=1)


class LicenceRule(Entry):
    """Licences: shown while valid, plus `after_expiry` once the validity ends."""

    after_expiry: Span
    invalid_status: InvalidStatus | None = None

    def describe_value(self) -> str:
        return f"while valid + {self.after_expiry.describe()}"


class PermanentRule(Entry):
    visible_while: Literal["subject_exists"]

    def describe_value(self) -> str:
        return f"while {self.visible_while}"


PenaltyCategory = str
Audience = Literal["public", "self", "authorised", "government", "platform"]
RecordState = Literal["active", "disputed", "corrected", "withdrawn", "repaired", "suspended", "expired"]
RECORD_STATE_NAMES: tuple[RecordState, ...] = (
    "active",
    "disputed",
    "corrected",
    "withdrawn",
    "repaired",
    "suspended",
    "expired",
)


class PenaltyFields(Model):
    """The catalogue fields of a 行政处罚 item that the class inference reads."""

    categories: str = Field(min_length=1)  # 处罚类别 (multi_enum)
    fine: str | None = None  # 罚款金额(万元)
    confiscation: str | None = None  # 没收违法所得、没收非法财物的金额(万元)


class PenaltyClassBound(Model):
    categories: tuple[PenaltyCategory, ...] = Field(min_length=1)
    fine_natural_person_yuan: Decimal = Field(gt=0)
    fine_organisation_yuan: Decimal = Field(gt=0)

    def limit_wan(self, *, natural_person: bool) -> Decimal:
        yuan = self.fine_natural_person_yuan if natural_person else self.fine_organisation_yuan
        return yuan / 10000


class PenaltyClassInference(Entry):
    """令第36号's class of a penalty, read from its 处罚类别 and amounts (in 万元, as 双公示 sends them)."""

    fields: PenaltyFields
    minor: PenaltyClassBound
    severe: PenaltyClassBound

    def classify(
        self,
        categories: set[str],
        *,
        fine_wan: Decimal | None,
        confiscation_wan: Decimal | None,
        natural_person: bool,
    ) -> PenaltyClassName:
        severe_limit = self.severe.limit_wan(natural_person=natural_person)
        amounts = [a for a in (fine_wan, confiscation_wan) if a is not None]
        if categories & set(self.severe.categories) or any(a >= severe_limit for a in amounts):
            return "严重"
        minor_limit = self.minor.limit_wan(natural_person=natural_person)
        if (
            categories
            and categories <= set(self.minor.categories)
            and (fine_wan is None or fine_wan <= minor_limit)
        ):
            return "轻微"
        return "一般"

    def describe_value(self) -> str:
        return (
            f"轻微: only {'/'.join(self.minor.categories)}, fine ≤ {self.minor.fine_natural_person_yuan}/"
            f"{self.minor.fine_organisation_yuan} yuan; 严重: {'/'.join(self.severe.categories)} or amount ≥ "
            f"{self.severe.fine_natural_person_yuan}/{self.severe.fine_organisation_yuan} yuan; else 一般"
        )


class AfterPublicityRule(Entry):
    """Who still sees an item whose publicity has ended while its information period runs."""

    shown_to: tuple[Audience, ...]

    def describe_value(self) -> str:
        return "shown to " + ", ".join(self.shown_to)


class StateMark(Model):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class StatesRule(Entry):
    """Per record state: which audiences see the record, and the mark shown beside it."""

    shown_to: dict[RecordState, tuple[Audience, ...]]
    marks: dict[RecordState, StateMark] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_state_platform_keeps_all(self) -> StatesRule:
        missing = [s for s in RECORD_STATE_NAMES if s not in self.shown_to]
        if missing:
            raise Bilingual(f"缺少记录状态：{missing}", f"missing record states: {missing}")
        hidden = [s for s, who in self.shown_to.items() if "platform" not in who]
        if hidden:
            raise Bilingual(
                f"平台保存全部信息，须能看到每种状态：{hidden}",
                f"the platform keeps everything and must see every state: {hidden}",
            )
        return self

    def describe_value(self) -> str:
        return "; ".join(f"{s}: {', '.join(who)}" for s, who in self.shown_to.items())


DISCLOSURE_RULE_NAMES = (
    "adverse_default_5y",
    "penalty_by_class",
    "penalty_samr",
    "licence_validity",
    "permanent_basic",
)


class DisclosurePolicy(Model):
    adverse_default_5y: AdversePeriodRule
    penalty_by_class: PenaltyByClassRule
    penalty_samr: SamrPenaltyRule
    licence_validity: LicenceRule
    permanent_basic: PermanentRule
    penalty_class_inference: PenaltyClassInference
    after_publicity: AfterPublicityRule
    states: StatesRule
    long_term_sentinel: DateEntry

    @property
    def penalty_classes(self) -> dict[str, PenaltyClass]:
        return dict(self.penalty_by_class.classes)

    @property
    def rule_names(self) -> tuple[str, ...]:
        """The names a catalogue item may give as its disclosure rule."""
        return DISCLOSURE_RULE_NAMES

    def rule(self, name: str) -> Entry:
        if name not in DISCLOSURE_RULE_NAMES:
            raise KeyError(f"unknown disclosure rule {name!r}; known: {', '.join(DISCLOSURE_RULE_NAMES)}")
        return getattr(self, name)


# --- 双公示 timeliness ----------------------------------------------------------------------------------


class TimelinessPolicy(Model):
    publish_within: WorkingDaysEntry
    samr_publish_within: WorkingDaysEntry
    samr_withdraw_revoked_within: WorkingDaysEntry


# --- objections ---------------------------------------------------------------------------------------


class ObjectionProfile(Model):
    """One jurisdiction's objection deadlines, each counted in working days from the previous step."""

    title: str = Field(min_length=1)
    mark_disputed_within: WorkingDaysEntry
    platform_decides_within: WorkingDaysEntry
    forward_to_provider_within: WorkingDaysEntry
    provider_decides_within: WorkingDaysEntry


class ObjectionPolicy(Model):
    active_profile: str
    profiles: dict[str, ObjectionProfile]
    revoked_decision_removed_within: WorkingDaysEntry

    @model_validator(mode="after")
    def _active_exists(self) -> ObjectionPolicy:
        if self.active_profile not in self.profiles:
            known = ", ".join(self.profiles)
            raise Bilingual(
                f"active_profile {self.active_profile!r} 不在 profiles 中（已有：{known}）",
                f"active_profile {self.active_profile!r} is not among profiles ({known})",
            )
        return self

    @property
    def profile(self) -> ObjectionProfile:
        return self.profiles[self.active_profile]

    # The active profile's deadlines, read as policy.objection.<deadline>.working_days.
    @property
    def mark_disputed_within(self) -> WorkingDaysEntry:
        return self.profile.mark_disputed_within

    @property
    def platform_decides_within(self) -> WorkingDaysEntry:
        return self.profile.platform_decides_within

    @property
    def forward_to_provider_within(self) -> WorkingDaysEntry:
        return self.profile.forward_to_provider_within

    @property
    def provider_decides_within(self) -> WorkingDaysEntry:
        return self.profile.provider_decides_within


# --- repair -------------------------------------------------------------------------------------------


class RepairOnlineFlow(Model):
    decide_within: WorkingDaysEntry
    share_within: WorkingDaysEntry


class RepairPolicy(Model):
    decide_within: WorkingDaysEntry
    leave_public_query_within: WorkingDaysEntry
    national_online: RepairOnlineFlow
    repeat_refusal_window: PeriodEntry
    free_of_charge: FlagEntry
    conditions: ItemsEntry
    materials: ItemsEntry
    materials_severe_extra: ItemsEntry


# --- the deadline engine ------------------------------------------------------------------------------


class DeadlinesPolicy(Model):
    remind_before: WorkingDaysEntry


# --- self-query and query log -------------------------------------------------------------------------


class SelfQueryPolicy(Model):
    own_information_free: FlagEntry
    free_reports_per_year: CountEntry
    query_records_visible_to_subject: FlagEntry
    query_log_fields: ItemsEntry


# --- red and black lists ------------------------------------------------------------------------------


class ListsPolicy(Model):
    public_comment_min: PeriodEntry
    defence_before_listing: FlagEntry
    validity_max: PeriodEntry
    remove_at_expiry: FlagEntry
    remove_early_after_repair: FlagEntry
    remove_when_decision_revoked: FlagEntry
    red_removed_on_new_adverse: FlagEntry
    defence_within: WorkingDaysEntry
    respond_within: WorkingDaysEntry
    check_batch_max_rows: CountEntry


# --- push (推送) ------------------------------------------------------------------------------------------


class PushPolicy(Model):
    """Webhook delivery: how often a failed delivery is tried again before it is dead-lettered."""

    max_attempts: CountEntry
    retry_base: CountEntry
    timeout: CountEntry


# --- evaluation ---------------------------------------------------------------------------------------


class WeightsEntry(Entry):
    values: dict[str, float] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _weights_sum_to_one(cls, values: dict[str, float]) -> dict[str, float]:
        negative = [k for k, v in values.items() if v < 0]
        if negative:
            raise Bilingual(f"权重不能为负：{negative}", f"weights must not be negative: {negative}")
        total = sum(values.values())
        if abs(total - 1.0) > 1e-9:
            raise Bilingual(
                f"权重之和必须为 1（现为 {total:g}）", f"weights must sum to 1 (they sum to {total:g})"
            )
        return values

    def describe_value(self) -> str:
        return ", ".join(f"{k} {v:g}" for k, v in self.values.items())


class MultipliersEntry(Entry):
    values: dict[str, float] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _positive(cls, values: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in values.items() if v <= 0]
        if bad:
            raise Bilingual(f"抽查倍数必须大于 0：{bad}", f"sampling multipliers must be positive: {bad}")
        return values

    def describe_value(self) -> str:
        return ", ".join(f"{k} ×{v:g}" for k, v in self.values.items())


class EvaluationPolicy(Model):
    standard: TextEntry
    grades: ItemsEntry
    samr_risk_classes: ItemsEntry
    weights: WeightsEntry
    sampling_multipliers: MultipliersEntry

    @model_validator(mode="after")
    def _multipliers_match_risk_classes(self) -> EvaluationPolicy:
        expected = set(self.samr_risk_classes.codes)
        got = set(self.sampling_multipliers.values)
        if expected != got:
            raise Bilingual(
                f"sampling_multipliers 的键 {sorted(got)} 必须与 samr_risk_classes {sorted(expected)} 一致",
                f"sampling_multipliers keys {sorted(got)} must match samr_risk_classes {sorted(expected)}",
            )
        return self


# --- masking ------------------------------------------------------------------------------------------


class MaskRule(Entry):
    """Keep `keep_first` and `keep_last` characters, replace the rest with `mask_char`.

    `mask_length` None writes one mask character per hidden character; a number writes exactly that many
    (hiding the length too).
    """

    keep_first: int = Field(ge=0)
    keep_last: int = Field(ge=0)
    mask_char: str = Field(default="*", min_length=1, max_length=1)
    mask_length: int | None = Field(default=None, ge=1)
    example: str | None = None

    def describe_value(self) -> str:
        text = f"keep first {self.keep_first}, last {self.keep_last}"
        return text + (f" (e.g. {self.example})" if self.example else "")


SubjectKindName = Literal["legal_person", "other_org", "individual_business", "natural_person"]


class PersonNameMasking(Entry):
    """Where a natural person's name is masked for the public (with the `name` rule): the subject's own name
    for the kinds in `subject_name`; an 个体工商户's name of at most `individual_business_name_up_to`
    characters (a business registered under its operator's bare name); and, on the records of the kinds in
    `named_person_fields`, every field the catalogue marks `names_person` (法定代表人, 负责人, 经营者)."""

    subject_name: tuple[SubjectKindName, ...]
    individual_business_name_up_to: int = Field(ge=0)
    named_person_fields: tuple[SubjectKindName, ...]

    def names_a_person(self, name: str | None, subject_kind: str) -> bool:
        """Whether a subject's name is a natural person's name: a natural person's always; an 个体工商户's
        when it is no longer than a personal name (registered under its operator's bare name)."""
        if subject_kind in self.subject_name:
            return True
        if subject_kind == "individual_business" and name:
            return len("".join(name.split())) <= self.individual_business_name_up_to
        return False

    def describe_value(self) -> str:
        return (
            f"names of {', '.join(self.subject_name)}; 个体工商户 names up to "
            f"{self.individual_business_name_up_to} characters; names_person fields on records of "
            f"{', '.join(self.named_person_fields)}"
        )


class MaskingPolicy(Model):
    id_number: MaskRule
    name: MaskRule
    phone: MaskRule
    person_names: PersonNameMasking

    def rule(self, kind: str) -> MaskRule:
        found = getattr(self, kind, None) if kind in type(self).model_fields else None
        if not isinstance(found, MaskRule):
            raise KeyError(f"no masking rule {kind!r}")
        return found


# --- collection (the 双公示 data standard's numbers) ----------------------------------------------------


class AmountFormat(Entry):
    unit: Literal["万元"]
    precision: int = Field(ge=1)
    scale: int = Field(ge=0)

    @model_validator(mode="after")
    def _scale_fits(self) -> AmountFormat:
        if self.scale > self.precision:
            raise Bilingual("scale 不能大于 precision", "scale must not exceed precision")
        return self

    def describe_value(self) -> str:
        return f"decimal({self.precision},{self.scale}) {self.unit}"


# The catalogue's field types (xinyong.catalog.FieldType), named here without importing the catalogue.
FieldTypeName = Literal["string", "text", "date", "decimal", "integer", "enum", "multi_enum", "code"]


class DefaultMaxLength(Entry):
    """The length limit of a text field whose catalogue entry declares none: every field has one."""

    string: int = Field(ge=1)
    text: int = Field(ge=1)
    code: int = Field(ge=1)

    def for_type(self, kind: str) -> int | None:
        return {"string": self.string, "text": self.text, "code": self.code}.get(kind)

    def describe_value(self) -> str:
        return f"string {self.string}, text {self.text}, code {self.code} characters"


class IdNumbersElsewhere(Entry):
    """What a citizen ID number found outside the ID number fields does to its row."""

    mask_in: tuple[FieldTypeName, ...]  # field types where it is masked and the row kept; elsewhere rejected
    reject_in_subject_name: bool  # the subject's name field rejects it even when its type masks

    def masks(self, kind: str, *, subject_name: bool) -> bool:
        return kind in self.mask_in and not (subject_name and self.reject_in_subject_name)

    def describe_value(self) -> str:
        where = ", ".join(self.mask_in) or "nowhere"
        return f"masked in {where}; rejected elsewhere" + (
            " and in the subject's name" if self.reject_in_subject_name else ""
        )


class ImplausibleAmount(Entry):
    """Amounts kept but reported to the clerk as a warning: probably written in 元 into a 万元 column."""

    fields: tuple[str, ...] = Field(min_length=1)  # catalogue field codes
    warn_from: Decimal = Field(gt=0)
    unit: Literal["万元"]

    def describe_value(self) -> str:
        return f"≥ {self.warn_from} {self.unit} in {', '.join(self.fields)}"


class ReadingLimits(Model):
    """Ceilings on what one file may make the reader hold (collect/readers.py)."""

    cell_max_chars: CountEntry
    record_max_bytes: CountEntry
    columns_max: CountEntry
    xlsx_max_uncompressed_bytes: CountEntry
    header_search_rows: CountEntry
    header_row_max: CountEntry


class CollectionPolicy(Model):
    decision_number_max_length: CountEntry
    amount_format: AmountFormat
    no_uscc_placeholder: TextEntry
    licence_status_codes: ItemsEntry
    earliest_date: DateEntry
    default_max_length: DefaultMaxLength
    id_numbers_elsewhere: IdNumbersElsewhere
    implausible_amount: ImplausibleAmount
    reading: ReadingLimits


# --- 考核通报: the providers' assessment --------------------------------------------------------------

ASSESSMENT_INDICATORS = ("coverage", "timeliness", "quality", "correction", "objection_handling")


class AssessmentGrade(Model):
    code: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    min_score: float = Field(ge=0, le=100)


class AssessmentGrades(Entry):
    """Grades from the best down: a provider takes the first whose `min_score` its score reaches."""

    items: tuple[AssessmentGrade, ...] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _descending_to_zero(cls, items: tuple[AssessmentGrade, ...]) -> tuple[AssessmentGrade, ...]:
        scores = [g.min_score for g in items]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise Bilingual(
                f"考核等级的最低分必须严格递减：{scores}",
                f"grade minimum scores must strictly descend: {scores}",
            )
        if scores[-1] != 0:
            raise Bilingual("最后一个考核等级的最低分必须为 0", "the last grade's minimum score must be 0")
        return items

    def describe_value(self) -> str:
        return ", ".join(f"{g.name_zh} ≥{g.min_score:g}" for g in self.items)


class AssessmentPolicy(Model):
    weights: WeightsEntry
    grades: AssessmentGrades

    @model_validator(mode="after")
    def _known_indicators(self) -> AssessmentPolicy:
        got = set(self.weights.values)
        if got != set(ASSESSMENT_INDICATORS):
            raise Bilingual(
                f"assessment.weights 的键 {sorted(got)} 必须是 {list(ASSESSMENT_INDICATORS)}",
                f"assessment.weights keys {sorted(got)} must be {list(ASSESSMENT_INDICATORS)}",
            )
        return self


# --- the whole policy ---------------------------------------------------------------------------------


class Policy(Model):
    version: Literal[1]
    jurisdiction: str = Field(min_length=1)
    disclosure: DisclosurePolicy
    timeliness: TimelinessPolicy
    objection: ObjectionPolicy
    repair: RepairPolicy
    deadlines: DeadlinesPolicy
    self_query: SelfQueryPolicy
    lists: ListsPolicy
    push: PushPolicy
    evaluation: EvaluationPolicy
    masking: MaskingPolicy
    collection: CollectionPolicy
    assessment: AssessmentPolicy

    def iter_rules(self) -> Iterator[tuple[str, Entry]]:
        """Every rule with its dotted path, in file order (for `xinyong policy show` and the docs test)."""
        yield from _walk(self, "")


def _walk(node: Any, prefix: str) -> Iterator[tuple[str, Entry]]:
    if isinstance(node, Entry):
        yield prefix, node  # then walk on: an entry may hold a nested setting (penalty_samr.small_fine)
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name), f"{prefix}.{name}" if prefix else name)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{prefix}.{key}")
