"""Feed declarations: which items each provider must send, how often, and how many rows to expect.

Like OpenSanctions' per-source YAML: an operator declares each feed once, and a batch that is far too
small fails loudly (a half-exported file is the commonest silent loss), while one far too large warns.
The packaged file declares the demo's feeds; `XINYONG_HOME/feeds.yaml` replaces it in a deployment.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.problems import Problem, ProblemError

PACKAGED = Path(__file__).with_name("data") / "feeds.yaml"


class Feed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    frequency: Literal["daily", "weekly", "monthly", "quarterly", "on_change"] = "on_change"
    min_rows: int = Field(default=1, ge=0)
    max_rows: int | None = Field(default=None, ge=1)
    note: str | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Feed:
        if self.max_rows is not None and self.max_rows < self.min_rows:
            raise ValueError(f"max_rows {self.max_rows} < min_rows {self.min_rows}")
        return self


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    uscc: str
    name: str
    feeds: tuple[Feed, ...]


class FeedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    providers: tuple[Provider, ...] = ()

    def for_submitter(self, uscc: str) -> Provider | None:
        return next((p for p in self.providers if p.uscc == uscc), None)


def load_feeds(home: Path | None = None) -> FeedFile:
    override = home / "feeds.yaml" if home else None
    return _load(override if override and override.exists() else PACKAGED)


@cache
def _load(path: Path) -> FeedFile:
    try:
        return FeedFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (ValidationError, yaml.YAMLError) as exc:
        raise ProblemError(
            Problem(
                "feeds.invalid",
                f"报送声明文件 {path} 有误：{exc}",
                f"Feed declaration file {path} is invalid: {exc}",
            )
        ) from exc
