"""The growth suite at smoke sizes: every figure at every size, each with floors, and the
growth of each stated (flat, linear, worse) in the notes; the history it seeds is one HQ's own
accounting would accept."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from allocator import BOOKLET_SIZE
from bench import growth, p2_hq
from bench.seed import History, current_period, seed_history, seed_hq
from bench.servers import HEAD_BAN
from demo.cluster import valid_bans
from hq_server.audit import chain_ok
from hq_server.queries import reconcile
from hq_server.schema import audit, closed_periods, grants
from hq_server.store import Store
from mof_sync.store import documents
from mof_sync.tracking import DocState
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


def test_seeded_history_is_what_hq_itself_would_account(tmp_path: Path) -> None:
    """Every past period reconciles (assigned = issued + blank, nothing held once closed), each
    branch's E0402 is confirmed, and the indexes dropped for the load are back."""
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    bans = valid_bans(30)
    seed_hq(url, bans, p2_hq.PLAN)
    history = seed_history(url, bans, HEAD_BAN, periods=3)
    assert history == History(periods=3, grants=90, skipped=9, documents=90)
    store = Store(url)
    try:
        accounts = store.read_sync(lambda c: reconcile(c, None))
        closed = store.read_sync(lambda c: c.execute(select(closed_periods)).all())
        sent = store.read_sync(lambda c: c.execute(select(documents.c.state)).scalars().all())
        chain = store.read_sync(lambda c: c.execute(select(audit).order_by(audit.c.seq)).all())
        names = store.read_sync(lambda c: inspect(c).get_indexes("grants"))
    finally:
        store.close()
    ended = [a for a in accounts if a.key.period.has_ended(datetime.now(UTC))]
    assert len(ended) == 3 and current_period().previous() in {a.key.period for a in ended}
    for account in ended:
        assert account.violations == [], account
        assert account.held == 0 and account.blank > 0 and account.issued > 0, account
        assert account.issued + account.blank == account.assigned == len(bans) * BOOKLET_SIZE
    assert len(closed) == 3
    assert sent == [DocState.CONFIRMED.value] * 90
    assert chain_ok(chain)
    assert {i["name"] for i in names} >= {ix.name for ix in grants.indexes}
