"""The benchmarks' smoke mode still runs end to end and reports every figure (tiny sizes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import SUITES
from tests.bench.smoke import assert_finite_and_positive, smoke_report

pytestmark = pytest.mark.slow
FIGURES = {
    "p1.latency_p50",
    "p1.latency_p99",
    "p1.throughput_1",
    "p1.throughput_8",
    "p1.throughput_32",
    "p1.throughput_128",
    "p1.cpu_per_number_1",
    "p1.cpu_per_number_32",
    *(
        f"p1.{figure}{shape}"  # one stream per terminal; a Unix socket, unary and streamed
        for shape in ("_stream", "_unix", "_unix_stream")
        for figure in (
            "latency_p50",
            "latency_p99",
            "throughput_1",
            "throughput_32",
            "cpu_per_number_1",
            "cpu_per_number_32",
        )
    ),
    "p1m.latency_p50",
    "p1m.cpu_per_number_1",
    "p1m.cpu_per_number_32",
    "p1m.hook_cost_per_number",
    "p2.sqlite_burst_seconds",
    "p2.sqlite_grants_per_s",
    "p2.sqlite_p99",
    "p2.sqlite_cpu_per_grant",
    "p2.sqlite_streamed_burst_seconds",  # on one open RequestRangeStream per branch
    "p2.sqlite_streamed_grants_per_s",
    "p2.sqlite_streamed_cpu_per_grant",
    "p2.sqlite_streams_open_seconds",
    "p2.tls_burst_seconds",
    "p2.tls_connect_seconds",
    "p2.tls_cpu_per_grant",
    "p2.tls_client_cpu_per_grant",
    "p3.seconds",
    "p3.peak_mb",
    "p3.peak_mb_numbers_x100",
    "p4.reports_per_s",
    "p4.p99",
    "p4.p50",
    "p4.ceiling_per_s",
    "p4.cpu_per_report",
    "p4.stream_ceiling_per_s",
    "p4.stream_cpu_per_report",
}
# The peers suite has a test of its own (tests/bench/test_peers.py): its invariants, not figures;
# so has the growth suite (tests/bench/test_growth.py): its figures at every size.
CHOSEN = ",".join(suite for suite in SUITES if suite not in ("peers", "growth"))
# Only where bench/hq_burst.py, etcd and PostgreSQL are all there; the JSON says when not.
PG_FIGURES = {
    "p2.pg_burst_seconds",
    "p2.pg_grants_per_s",
    "p2.pg_p99",
    "p2.pg_streamed_burst_seconds",
    "p2.pg_streamed_grants_per_s",
    "p2.pg_streamed_cpu_per_grant",
}


def test_smoke_run_reports_every_figure_finite_and_positive(tmp_path: Path) -> None:
    report = smoke_report(CHOSEN, tmp_path / "smoke.json", timeout=240)
    figures = {figure["key"]: figure for figure in report["figures"]}
    pg_skipped = any(note.startswith("P2 PostgreSQL skipped") for note in report["notes"])
    assert set(figures) == FIGURES | (set() if pg_skipped else PG_FIGURES)
    assert_finite_and_positive(figures)
    assert report["machine"]["nproc"] >= 1
