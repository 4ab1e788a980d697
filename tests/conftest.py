"""Shared test helpers: a clock tests can move, well-known BANs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

pytest_plugins = ["tests.fixtures"]

HEAD_BAN = "22099131"
BRANCH_BANS = ("04595257", "12345675", "10458575")


@dataclass
class ManualClock:
    """A clock that stays where the test puts it."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)
