"""Running `python -m bench --smoke` from a test, and the checks every smoke figure must pass."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def smoke_report(only: str, out: Path, timeout: float) -> dict[str, Any]:
    """The JSON of a smoke run of the suites `only`; the run must exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", only, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def assert_finite_and_positive(figures: Mapping[str, Mapping[str, Any]]) -> None:
    """Every figure has a floor, and its value, each floor and each ratio are finite and > 0."""
    for key, figure in figures.items():
        assert figure["floors"], f"{key} has no floor"
        numbers = [figure["value"]]
        for floor in figure["floors"].values():
            numbers += [floor["value"], floor["ratio"]]
        assert all(math.isfinite(n) and n > 0 for n in numbers), (key, figure)
