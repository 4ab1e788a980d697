"""Usage reports decided together on PostgreSQL: the same statements as on SQLite."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from allocator import Ban, InvoiceType, NotFound, NumberRange, PoolKey
from bench.seed import BranchPlan, seed_hq
from hq_server.app import Hq, scheduled_work
from hq_server.branch_ops import GrantProgress, UsageReport, report_usages
from hq_server.coordinator import LocalCoordinator
from hq_server.grant_batch import RangeRequest, request_ranges
from hq_server.schema import branches, skipped, usage_samples
from hq_server.store import Store
from runtime.clock import SystemClock
from tests.conftest import BRANCH_BANS, HEAD_BAN

pytestmark = pytest.mark.cluster


def test_reports_of_two_branches_in_one_batch(pg_url: str) -> None:
    period = seed_hq(pg_url, list(BRANCH_BANS[:2]), BranchPlan(1, 10))
    store = Store(pg_url)
    clock = SystemClock()
    hq = Hq(store, LocalCoordinator(store, "pg-test", clock), clock, HEAD_BAN)

    async def grants() -> list[object]:
        await hq.coordinator.start()
        pool = PoolKey(period, InvoiceType.GENERAL)
        asks = [RangeRequest(f"r{b}", Ban(b), pool, 1, "test") for b in BRANCH_BANS[:2]]
        return await asyncio.gather(*(hq.write_together(a, request_ranges) for a in asks))

    try:
        a, b = asyncio.run(grants())
        token, now = hq.coordinator.token(), clock.now()

        def usage(grant: object, cursor: int, *skips: int) -> GrantProgress:
            begin = grant.begin  # type: ignore[attr-defined]
            spans = [NumberRange(begin + s, begin + s) for s in skips]
            return GrantProgress(grant.id, begin + cursor, spans, False)  # type: ignore[attr-defined]

        reports = [
            UsageReport(Ban(BRANCH_BANS[0]), now, [usage(a, 10, 3)]),
            UsageReport(Ban(BRANCH_BANS[1]), None, [usage(b, 20, 4, 5)]),
            UsageReport(Ban(BRANCH_BANS[0]), now, [usage(a, 12, 4)]),
            UsageReport(Ban(BRANCH_BANS[2]), None, []),  # not registered
        ]
        outcomes = store.write_sync(token, lambda conn: report_usages(conn, now, reports))
        assert outcomes[:3] == [1, 1, 1] and isinstance(outcomes[3], NotFound)
        store.write_sync(token, lambda conn: scheduled_work(conn, now))
        with store.read_engine.connect() as conn:
            totals = dict(conn.execute(select(branches.c.ban, branches.c.issued_total)).all())
            spans = conn.execute(select(skipped.c.begin, skipped.c.end).order_by("begin")).all()
            samples = conn.execute(select(usage_samples.c.ban, usage_samples.c.issued_total)).all()
        assert totals == {BRANCH_BANS[0]: 12 - 2, BRANCH_BANS[1]: 20 - 2}
        first = a.begin  # type: ignore[attr-defined]
        assert [(s.begin - first, s.end - first) for s in spans][:1] == [(3, 4)]
        assert sorted(samples) == sorted([(BRANCH_BANS[0], 10), (BRANCH_BANS[1], 18)])
    finally:
        store.close()
