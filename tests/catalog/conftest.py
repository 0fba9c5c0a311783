"""Fixtures for catalogue tests: the shipped edition as plain data, to copy, break and load again."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from xinyong.catalog import Catalog, load_catalog
from xinyong.problems import Problem, ProblemError

Raw = dict[str, Any]


@pytest.fixture(scope="session")
def shipped_raw() -> Raw:
    text = resources.files("xinyong.catalog").joinpath("data", "hubei-demo.yaml").read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture
def raw(shipped_raw: Raw) -> Raw:
    """A private copy of the shipped catalogue to mutate."""
    return copy.deepcopy(shipped_raw)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[Raw], Path]:
    def _write(data: Raw, name: str = "catalog.yaml") -> Path:
        path = tmp_path / name
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False), "utf-8")
        return path

    return _write


@pytest.fixture
def load(write: Callable[[Raw], Path]) -> Callable[[Raw], Catalog]:
    def _load(data: Raw) -> Catalog:
        return load_catalog(write(data))

    return _load


@pytest.fixture
def refuse(load: Callable[[Raw], Catalog]) -> Callable[[Raw], list[Problem]]:
    """Load data that must be refused; return the problems."""

    def _refuse(data: Raw) -> list[Problem]:
        with pytest.raises(ProblemError) as caught:
            load(data)
        return caught.value.problems

    return _refuse
