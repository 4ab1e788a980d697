"""The peers suite in its smoke size: the agent, the central PostgreSQL peer and the Leaf peer
driven by the same client, and the invariants it measures hold (tiny sizes: figures say nothing
there, the invariants do): no number a POS got is lost after kill -9, none is handed out twice
by any design, every number of the central peer is held once in its PostgreSQL table, and the
agent serves from its buffer while HQ is stopped when the central peer's POS gets nothing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.bench.smoke import smoke_report

pytestmark = pytest.mark.slow
ZERO = {  # invariants: each must measure 0 of a positive number of numbers handed out
    "peers.kill9_lost",
    "peers.kill9_twice",
    "peers.twice_ours",
    "peers.twice_central",
    "peers.twice_leaf",
    "peers.outage_central",
}
AGENT_SHAPES = ("", "_stream")  # the agent's unary NextNumbers, and one stream per terminal
MEASURED = {
    f"peers.{figure}{shape}"
    for figure in (
        "latency_p50",
        "latency_p99",
        "throughput_1",
        "throughput_8",
        "throughput_32",
        "cpu_per_number_1",
        "cpu_per_number_32",
    )
    for shape in AGENT_SHAPES
} | {
    "peers.wan_latency_p50",
    "peers.wan_latency_p99",
    "peers.wan_throughput_32",
    "peers.outage_ours",
}


def test_peers_smoke_run_measures_no_loss_and_no_number_twice(tmp_path: Path) -> None:
    out = tmp_path / "peers.json"
    report = smoke_report("peers", out, 120)
    if any(note.startswith("peers skipped") for note in report["notes"]):
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432: the peers suite needs it")
    figures = {figure["key"]: figure for figure in report["figures"]}
    assert set(figures) == ZERO | MEASURED
    for key in ZERO:
        (handed_out,) = figures[key]["floors"].values()
        assert figures[key]["value"] == 0 and handed_out["value"] > 0, (key, figures[key])
    outage = figures["peers.outage_ours"]
    (asked,) = outage["floors"].values()
    assert outage["value"] == asked["value"], "the agent did not serve all from its buffer"
    for key in MEASURED:
        numbers = [figures[key]["value"]]
        numbers += [floor["value"] for floor in figures[key]["floors"].values()]
        assert all(math.isfinite(n) and n > 0 for n in numbers), (key, figures[key])
