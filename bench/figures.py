"""Figures, their floors and goals; the printed table and the JSON file.

A figure means nothing alone on an unknown machine, so each one carries the floors measured in
the same run (an empty gRPC call, a bare fsync, a raw commit, plain lxml) and its ratio to each.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

_QUIET: dict[str, Any] = {"capture_output": True, "text": True, "timeout": 10, "check": True}


@dataclass(frozen=True, slots=True)
class Goal:
    text: str
    met: bool


@dataclass
class Figure:
    """One measured value; `floors` maps a floor's name to its value in the same unit."""

    key: str
    label: str
    value: float
    unit: str
    floors: dict[str, float]
    goal: Goal | None = None

    def ratios(self) -> dict[str, float]:
        return {name: self.value / floor for name, floor in self.floors.items()}

    def as_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "floors": {
                name: {"value": floor, "ratio": self.value / floor}
                for name, floor in self.floors.items()
            },
            "goal": asdict(self.goal) if self.goal else None,
        }


@dataclass
class Results:
    mode: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def as_json(self) -> dict[str, object]:
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": self.mode,
            "machine": machine(),
            "figures": [f.as_json() for f in self.figures],
            "notes": self.notes,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n")


def machine() -> dict[str, object]:
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "sqlite": sqlite3.sqlite_version,
        "code": code_version(),
    }


def code_version() -> str:
    """The commit measured, and whether files were changed on top of it (read-only git)."""
    git = ["git", "--no-optional-locks", "-C", str(Path(__file__).resolve().parents[1])]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], **_QUIET).stdout.strip()
        changed = subprocess.run([*git, "status", "--porcelain"], **_QUIET).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} + {len(changed)} changed files" if changed else head


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values)


def ms(seconds: float) -> float:
    return seconds * 1000.0


def table(results: Results) -> str:
    """One line per (figure, floor): value, floor, ratio; the goal on the figure's first line."""
    header = ("figure", "value", "floor", "floor value", "ratio", "goal")
    rows: list[tuple[str, ...]] = []
    for fig in results.figures:
        goal = "" if fig.goal is None else f"{'MET' if fig.goal.met else 'MISSED'}: {fig.goal.text}"
        for index, (name, ratio) in enumerate(fig.ratios().items()):
            first = index == 0
            rows.append(
                (
                    fig.label if first else "",
                    f"{number_text(fig.value)} {fig.unit}" if first else "",
                    name,
                    f"{number_text(fig.floors[name])} {fig.unit}",
                    f"{ratio:.2f}x",
                    goal if first else "",
                )
            )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))
    return "\n".join([head, "-" * len(head), *lines]).rstrip()


def number_text(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
