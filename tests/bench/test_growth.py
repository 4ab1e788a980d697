"""The growth suite at smoke sizes: every figure at every size, each with floors, and the
growth of each stated (flat, linear, worse) in the notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import growth
from tests.bench.smoke import assert_finite_and_positive, smoke_report

pytestmark = pytest.mark.slow
NAMES = {
    "p2_burst_seconds",
    "p2_grants_per_s",
    "p2_cpu_per_grant",
    "p4_p99",
    "p4_cpu_per_report",
    *(f"p3_{h}x_holes_{f}" for h in growth.SMOKE.holes for f in ("seconds", "peak_mb")),
}
VERDICTS = "flat|linear|worse|between flat and linear"


def test_smoke_growth_reports_each_figure_at_each_size_and_its_growth(tmp_path: Path) -> None:
    report = smoke_report("growth", tmp_path / "growth.json", timeout=240)
    figures = {figure["key"]: figure for figure in report["figures"]}
    sizes = growth.SMOKE.branches
    assert set(figures) == {f"growth.{n}.{size}" for n in NAMES for size in sizes}
    assert_finite_and_positive(figures)
    for name in NAMES:  # the table's growth: the largest size against the first
        assert f"at {sizes[0]:,} branches" in figures[f"growth.{name}.{sizes[-1]}"]["floors"]
    over_sizes = [n for n in report["notes"] if re.match(r"growth of P\d .*\): .* -> ", n)]
    assert len(over_sizes) == len(NAMES), report["notes"]
    assert all(re.search(f": ({VERDICTS})$", n) for n in over_sizes), over_sizes
    over_holes = [n for n in report["notes"] if re.match(r"growth of P3 with \d+x holes", n)]
    assert len(over_holes) == len(sizes) * (len(growth.SMOKE.holes) - 1), report["notes"]
    assert all(len(re.findall(f"\\(({VERDICTS})\\)", n)) == 2 for n in over_holes), over_holes
    assert any(n.startswith(f"growth {sizes[-1]:,} branches: history of") for n in report["notes"])


def test_growth_is_stated_against_the_ratio_of_work() -> None:
    assert growth.classify(1.2, 50) == "flat"
    assert growth.classify(40.0, 50) == "linear"
    assert growth.classify(120.0, 50) == "worse"
    assert growth.classify(8.0, 50) == "between flat and linear"
