"""Clocks: the one place the shells read the time, so tests and the demo can run a fast one."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from runtime.cli import seconds


class Clock(Protocol):
    """Where a shell gets `now` (an aware datetime)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class SimulatedClock:
    """A clock that reads `start` at the real instant `epoch` and runs `speed` times faster.

    Separate processes given the same three values agree on the time, which is what lets the
    demo and the rollover tests run an HQ and its agents on one fast, shared clock.
    """

    start: datetime
    epoch: float
    speed: float = 1.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.epoch) * self.speed)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The simulated clock's flags, the same on every server (the demo runs them fast)."""
    parser.add_argument("--sim-start", help="simulated clock: start instant (ISO, with zone)")
    parser.add_argument("--sim-epoch", type=float, help="simulated clock: real UNIX time of start")
    parser.add_argument(
        "--sim-speed", type=seconds(0, 10_000), default=1.0, help="simulated clock: speed"
    )


def clock_from_args(sim_start: str | None, sim_epoch: float | None, sim_speed: float) -> Clock:
    """The CLI's choice: the system clock unless a simulated start is given."""
    if not sim_start:
        return SystemClock()
    start = datetime.fromisoformat(sim_start)
    if start.tzinfo is None:
        raise ValueError(f"--sim-start {sim_start!r} needs a time zone, e.g. +08:00")
    return SimulatedClock(start, sim_epoch if sim_epoch is not None else time.time(), sim_speed)
