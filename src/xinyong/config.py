"""Runtime configuration, read from the environment once and passed around explicitly.

`XINYONG_HOME` (default ./var) holds the SQLite database, keys, calendar overrides and logs;
`XINYONG_DATABASE_URL` overrides the database (SQLite file in XINYONG_HOME by default);
`XINYONG_READ_DATABASE_URL`, when set, is a read replica that serves the public read path (docs/scaling.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEMO_MARKER = "DEMO"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    demo: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    read_database_url: str | None = None

    @classmethod
    def from_env(cls, *, demo: bool | None = None) -> Settings:
        home = Path(os.environ.get("XINYONG_HOME", "./var")).resolve()
        url = os.environ.get("XINYONG_DATABASE_URL") or sqlite_url(home / "xinyong.db")
        if demo is None:
            # A home seeded by `xinyong demo` stays a demo home: its marker file says so.
            demo = (
                os.environ.get("XINYONG_DEMO", "").lower() in {"1", "true", "yes"}
                or (home / DEMO_MARKER).exists()
            )
        read_url = os.environ.get("XINYONG_READ_DATABASE_URL") or None
        return cls(home=home, database_url=url, demo=demo, read_database_url=read_url)

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
