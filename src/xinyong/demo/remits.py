"""The demo's world as data: which department kind issues which licences and penalties (data/remits.yaml),
and which trades exist, how their businesses are named and what concerns them (data/trades.yaml).

Validated when loaded, so that the generator never draws a licence no department issues or a trade word
that names nothing: every key a trade uses must be in exactly one department's remit.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PERSONS = "persons"  # the pseudo-trade of natural persons, who are not businesses


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Licence(_Model):
    name: str = Field(min_length=1)
    category: str = Field(pattern="^(普通|特许|认可|核准|登记|其他)$")
    basis: str = Field(min_length=1)
    valid_years: int | None = Field(ge=1)  # None: long-term


class Violation(_Model):
    type: str = Field(min_length=1)
    basis: str = Field(min_length=1)
    categories: str = Field(min_length=1)  # 处罚类别, ";"-joined
    fine: tuple[float, float] | None = None  # 万元, when 罚款 is among the categories

    @model_validator(mode="after")
    def _fine_when_fined(self) -> Violation:
        fined = "罚款" in self.categories.split(";")
        if fined != (self.fine is not None):
            raise ValueError(f"{self.type}: a fine range goes with 罚款, and only with it")
        if self.fine is not None and not 0 < self.fine[0] <= self.fine[1]:
            raise ValueError(f"{self.type}: fine range {self.fine}")
        return self


class DepartmentKind(_Model):
    name: str = Field(pattern=r"\{city\}")
    abbr: str = Field(min_length=1)
    licences: dict[str, Licence] = {}
    violations: dict[str, Violation] = {}

    def named(self, city: str) -> str:
        return self.name.format(city=city)


class Offer(_Model):
    """What can concern a subject: keys of licences and violations in remits.yaml."""

    licences: tuple[str, ...] = ()
    violations: tuple[str, ...] = ()


class Common(Offer):
    share: float = Field(ge=0, le=1)  # of a business's licences and penalties, the part drawn from these


class Trade(Offer):
    firm_words: tuple[str, ...] = ()
    coop_words: tuple[str, ...] = ()
    shop_words: tuple[str, ...] = ()
    scope: str = Field(min_length=1)
    capital: tuple[float, float]


class Remits(_Model):
    source: str
    departments: dict[str, DepartmentKind]


class Trades(_Model):
    source: str
    common: Common
    persons: Offer
    trades: dict[str, Trade]


class DemoData:
    """Both files, cross-checked: `kind_of_licence[key]` and `kind_of_violation[key]` say who issues what."""

    def __init__(self, remits: Remits, trades: Trades) -> None:
        self.departments = remits.departments
        self.trades = trades.trades
        self.common = trades.common
        self.persons = trades.persons
        self.licences: dict[str, Licence] = {}
        self.violations: dict[str, Violation] = {}
        self.kind_of_licence: dict[str, str] = {}
        self.kind_of_violation: dict[str, str] = {}
        for kind, dept in self.departments.items():
            for table, owner, entries in (
                (self.licences, self.kind_of_licence, dept.licences),
                (self.violations, self.kind_of_violation, dept.violations),
            ):
                for key, entry in entries.items():
                    if key in owner:
                        raise ValueError(f"{key} is in the remit of both {owner[key]} and {kind}")
                    table[key] = entry  # type: ignore[index]
                    owner[key] = kind
        for name, offer in [*self.trades.items(), ("common", self.common), (PERSONS, self.persons)]:
            unknown = [k for k in offer.licences if k not in self.licences]
            unknown += [k for k in offer.violations if k not in self.violations]
            if unknown:
                raise ValueError(f"trade {name} names what no department issues: {unknown}")

    def offer(self, trade: str) -> Offer:
        """What concerns a subject of this trade besides the common offer (natural persons: PERSONS)."""
        return self.persons if trade == PERSONS else self.trades[trade]

    def everything_for(self, trade: str) -> Offer:
        """Every licence and violation a subject of this trade can be given."""
        own = self.offer(trade)
        if trade == PERSONS:
            return own
        return Offer(
            licences=own.licences + self.common.licences, violations=own.violations + self.common.violations
        )

    def firm_trades(self) -> list[str]:
        return [t for t, v in self.trades.items() if v.firm_words]

    def shop_trades(self) -> list[str]:
        return [t for t, v in self.trades.items() if v.shop_words]


@cache
def load_demo_data() -> DemoData:
    return DemoData(Remits.model_validate(_read("remits.yaml")), Trades.model_validate(_read("trades.yaml")))


def _read(name: str) -> Any:
    return yaml.safe_load(resources.files("xinyong.demo").joinpath("data", name).read_text(encoding="utf-8"))
