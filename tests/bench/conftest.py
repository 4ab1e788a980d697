"""What the bench suites' tests share: a smoke run of `python -m bench` and its JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def smoke_report(suites: str, out: Path, timeout: float) -> dict[str, Any]:
    """Runs `python -m bench --smoke --only SUITES` to its end; it must exit 0. Its report."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", suites, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads(out.read_text())
    return report
