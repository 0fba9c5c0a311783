"""Loading the policy: the packaged file, or an operator's replacement named by XINYONG_POLICY.

The operator's file *replaces* the packaged one (no merging): a policy is read as a whole, and a half-merged
rule set would be one nobody has reviewed. Copy the packaged file, edit it, check it
(`xinyong policy check FILE`), then point XINYONG_POLICY at it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from xinyong.policy.errors import problems_from_validation
from xinyong.policy.models import Policy
from xinyong.policy.yamlio import YamlProblem, read_yaml
from xinyong.problems import Problem, ProblemError

POLICY_ENV = "XINYONG_POLICY"


def packaged_policy_path() -> Path:
    return Path(str(resources.files("xinyong.policy") / "data" / "policy.yaml"))


def policy_path(environ: Mapping[str, str] | None = None) -> Path:
    """The file load_policy() reads: XINYONG_POLICY when set and non-empty, else the packaged file."""
    env = os.environ if environ is None else environ
    override = env.get(POLICY_ENV, "").strip()
    return Path(override) if override else packaged_policy_path()


def load_policy(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> Policy:
    """The validated policy. Cached per file and modification time, so an edited file is read again.

    Raises ProblemError (code `policy.invalid`, one Problem per fault with its YAML path) when the file is
    missing, not YAML, or breaks a rule of the schema.
    """
    target = Path(path) if path is not None else policy_path(environ)
    try:
        stat = target.stat()
    except OSError as exc:
        hint_zh = (
            f"（环境变量 {POLICY_ENV} 指向此文件）"
            if path is None and target != packaged_policy_path()
            else ""
        )
        hint_en = f" (named by {POLICY_ENV})" if hint_zh else ""
        raise ProblemError(
            Problem(
                "policy.invalid",
                f"策略文件不存在：{target}{hint_zh}",
                f"policy file not found: {target}{hint_en}",
            )
        ) from exc
    return _load_cached(str(target.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_cached(resolved: str, mtime_ns: int, size: int) -> Policy:
    return parse_policy_file(Path(resolved))


def clear_policy_cache() -> None:
    _load_cached.cache_clear()


def parse_policy_file(path: Path) -> Policy:
    """Read and validate one file without caching (used by `xinyong policy check`)."""
    try:
        data = read_yaml(path)
    except YamlProblem as exc:
        raise ProblemError(
            Problem(
                "policy.invalid",
                f"策略文件 {path}：{exc.message_zh}",
                f"policy file {path}: {exc.message_en}",
            )
        ) from exc
    if not isinstance(data, dict):
        raise ProblemError(
            Problem(
                "policy.invalid",
                f"策略文件 {path}：顶层必须是键值映射（version、disclosure、……）",
                f"policy file {path}: the top level must be a mapping (version, disclosure, ...)",
            )
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ProblemError(*problems_from_validation(exc, code="policy.invalid", file=path)) from None
