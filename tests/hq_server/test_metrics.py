"""HQ's metrics: the hooks count what the branch API did; the collector reads what is stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from allocator import TAIPEI, InvoiceType, Period, PoolKey
from hq_server import cli
from hq_server.alert_state import AlertState
from hq_server.app import Hq
from hq_server.coordinator import LocalCoordinator
from hq_server.metrics import HqMetrics, listen_of
from hq_server.server import build_server, start_metrics
from hq_server.store import Store
from notifier import raise_held_back
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc, branch_pb2, branch_pb2_grpc, common_pb2
from runtime.metrics.server import MetricsListen
from tests.conftest import BRANCH_BANS, HEAD_BAN, ManualClock
from tests.hq_server.test_branch_api import GENERAL, request, setup_pool

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)  # period 11512, as setup_pool's pool
TYPE = {"invoice_type": "07"}


def parse(body: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


class MeteredHq:
    def __init__(self, app: Hq, clock: ManualClock, address: str, url: str) -> None:
        self.app, self.clock, self.url = app, clock, url
        self.channel = grpc.aio.insecure_channel(address)
        self.admin = admin_pb2_grpc.AdminServiceStub(self.channel)
        self.branch = branch_pb2_grpc.BranchServiceStub(self.channel)

    async def scrape(self) -> Samples:
        async with aiohttp.ClientSession() as session, session.get(self.url) as reply:
            assert reply.status == 200
            return parse(await reply.text())


@pytest.fixture
async def metered(tmp_path: Path) -> AsyncIterator[MeteredHq]:
    """An in-process HQ wired as `serve` wires it with --metrics-listen 127.0.0.1:0."""
    clock = ManualClock(NOW)
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    app = Hq(store, LocalCoordinator(store, "test-hq", clock), clock, HEAD_BAN)
    exporter = await start_metrics(app, MetricsListen("127.0.0.1:0", None), AlertState())
    assert exporter is not None
    await app.coordinator.start()
    server, port = await build_server(app, "127.0.0.1:0")
    await server.start()
    handle = MeteredHq(app, clock, f"127.0.0.1:{port}", exporter.url)
    try:
        yield handle
    finally:
        await handle.channel.close()
        await server.stop(0)
        await exporter.stop()
        store.close()


async def test_grants_are_counted_by_outcome_with_latency_and_batch_size(
    metered: MeteredHq,
) -> None:
    await setup_pool(metered, per_request=4, per_period=2)  # type: ignore[arg-type]
    await metered.branch.RequestRange(request(BRANCH_BANS[0], "r1"))
    await metered.branch.RequestRange(request(BRANCH_BANS[1], "r2"))
    await metered.branch.RequestRange(request(BRANCH_BANS[0], "r1"))  # a retry
    with pytest.raises(grpc.aio.AioRpcError):
        await metered.branch.RequestRange(request(BRANCH_BANS[0], "r3"))  # quota reached
    got = await metered.scrape()
    assert value(got, "einv_hq_grants_total", outcome="granted") == 2
    assert value(got, "einv_hq_grants_total", outcome="replayed") == 1
    assert value(got, "einv_hq_grants_total", outcome="refused") == 1
    assert value(got, "einv_hq_grant_refusals_total", reason="QUOTA_REACHED") == 1
    assert value(got, "einv_hq_granted_booklets_total") == 4
    assert value(got, "einv_hq_grant_seconds_count") == 4
    assert value(got, "einv_hq_grant_batch_size_sum") == 4
    # Every write went through the batcher: the grant batches, and the admin's setup.
    assert value(got, "einv_hq_db_batch_size_sum") >= 4 + 1 + len(BRANCH_BANS)
    assert value(got, "einv_hq_db_commit_seconds_count") == value(
        got, "einv_hq_db_batch_size_count"
    )


async def report(metered: MeteredHq, ban: str, grant: branch_pb2.Grant, next_number: int) -> None:
    await metered.branch.ReportUsage(
        branch_pb2.UsageReport(
            report_id=f"rep-{ban}",
            branch_ban=ban,
            grants=[
                branch_pb2.GrantUsage(
                    grant_id=grant.grant_id,
                    next_number=next_number,
                    skipped=[common_pb2.Span(begin=5, end=7)],
                )
            ],
        )
    )


async def test_pools_branches_alerts_and_leadership_read_from_the_database(
    metered: MeteredHq,
) -> None:
    await setup_pool(metered)  # type: ignore[arg-type]
    previous = Period.containing(NOW).previous()
    await metered.admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month=previous.to_year_month(),
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track="ZZ", begin=0, end=49),
        )
    )
    a = await metered.branch.RequestRange(request(BRANCH_BANS[0], "g1"))
    await metered.branch.RequestRange(request(BRANCH_BANS[1], "g2"))
    await report(metered, BRANCH_BANS[0], a, 30)  # 0..29 handed out, 5..7 skipped
    await metered.app.write(
        lambda conn, now: raise_held_back(
            conn, now, BRANCH_BANS[2], "store", PoolKey(previous, InvoiceType.GENERAL), "test"
        )
    )
    metered.clock.advance(minutes=10)
    await metered.branch.RequestRange(request(BRANCH_BANS[1], "g3", booklets=1))
    metered.clock.advance(minutes=25)  # branch 0 silent 35 min, branch 1 heard 25 min ago
    got = await metered.scrape()
    pool = {"year_month": "11512", "invoice_type": "07"}
    assert value(got, "einv_hq_pool_assigned_numbers", **pool) == 1000
    assert value(got, "einv_hq_pool_granted_numbers", **pool) == 250
    assert value(got, "einv_hq_pool_issued_numbers", **pool) == 27
    assert value(got, "einv_hq_pool_blank_numbers", **pool) == 3
    assert value(got, "einv_hq_pool_free_numbers", **pool) == 750
    assert value(got, "einv_hq_pool_free_booklets", **pool) == 15
    assert value(got, "einv_hq_pool_closed", **pool) == 0
    ends = Period.from_year_month("11512").end().timestamp()
    assert value(got, "einv_hq_pool_ends_timestamp_seconds", **pool) == ends
    assert value(got, "einv_hq_leader") == 1
    assert value(got, "einv_hq_fencing_token") == 1
    assert value(got, "einv_hq_db_up") == 1
    assert value(got, "einv_hq_info", head_ban=HEAD_BAN, mode="local") == 1
    assert value(got, "einv_hq_branches", state="enabled") == len(BRANCH_BANS)
    # Two branches hold numbers: heard 35 and 25 minutes ago.
    assert value(got, "einv_hq_report_lag_seconds_bucket", le="900.0") == 0
    assert value(got, "einv_hq_report_lag_seconds_bucket", le="1800.0") == 1
    assert value(got, "einv_hq_report_lag_seconds_bucket", le="+Inf") == 2
    assert value(got, "einv_hq_report_lag_seconds_gsum") == 60 * (35 + 25)
    assert value(got, "einv_hq_report_lag_top_seconds", branch_ban=BRANCH_BANS[0]) == 35 * 60
    # The notifier's own rules (30 minutes of silence), and the condition MOF sync raised.
    assert value(got, "einv_hq_conditions", kind="branch_silent") == 1
    assert value(got, "einv_hq_alerts_open", kind="e0402_held_back") == 1
    assert value(got, "einv_hq_alerts_open", kind="pool_low") == 0
    deadline = previous.blank_report_deadline() - metered.clock.now()
    days = value(got, "einv_hq_e0402_days_left", year_month=previous.to_year_month(), **TYPE)
    assert days == pytest.approx(deadline / timedelta(days=1))


async def test_a_failing_database_read_says_db_down_and_shows_no_stale_figures(
    metered: MeteredHq,
) -> None:
    await setup_pool(metered)  # type: ignore[arg-type]
    assert ("einv_hq_pool_assigned_numbers", (("invoice_type", "07"), ("year_month", "11512"))) in (
        await metered.scrape()
    )
    with metered.app.store.write_engine.begin() as conn:
        conn.execute(text("DROP TABLE notify_conditions"))
    got = await metered.scrape()
    for _ in range(100):  # bounded: the cached read lasts REFRESH_SECONDS
        if value(got, "einv_hq_db_up") == 0:
            break
        await asyncio.sleep(0.1)
        got = await metered.scrape()
    assert value(got, "einv_hq_db_up") == 0
    assert value(got, "einv_hq_leader") == 1
    assert not [name for name, _ in got if name.startswith("einv_hq_pool_")]


def test_hooks_count_outcomes_without_a_server() -> None:
    metrics = HqMetrics()

    async def replayed() -> str:
        return "the stored grant's row"

    async def refused() -> str:
        raise RuntimeError("boom")

    async def run() -> None:
        assert await metrics.observe(replayed()) == "the stored grant's row"
        with pytest.raises(RuntimeError):
            await metrics.observe(refused())

    asyncio.run(run())
    metrics.batched(7)
    metrics.committed(3, 0.002)
    get = metrics.registry.get_sample_value
    assert get("einv_hq_grants_total", {"outcome": "replayed"}) == 1
    assert get("einv_hq_grants_total", {"outcome": "refused"}) == 1
    assert get("einv_hq_grant_refusals_total", {"reason": "RuntimeError"}) == 1
    assert get("einv_hq_grant_seconds_count") == 2
    assert get("einv_hq_grant_batch_size_sum") == 7
    assert get("einv_hq_db_batch_size_sum") == 3
    assert get("einv_hq_db_commit_seconds_bucket", {"le": "0.0032"}) == 1


def test_a_non_loopback_metrics_address_needs_tls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'hq.db'}"
    args = ["serve", "--head-ban", HEAD_BAN, "--db", db, "--insecure"]
    assert cli.main([*args, "--metrics-listen", "0.0.0.0:9100"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("einv-hq: --metrics-listen 0.0.0.0:9100 is not loopback")
    assert "--certs-dir" in err
    assert not (tmp_path / "hq.db").exists()  # refused before anything started


def test_tls_material_makes_an_exposed_address_https(tmp_path: Path) -> None:
    from demo.trust import Certs

    certs = Certs.create(tmp_path)
    exposed = listen_of("0.0.0.0:9100", certs.folder)
    assert exposed is not None and exposed.tls is not None
    local = listen_of("127.0.0.1:9100", None)
    assert local is not None and local.tls is None
    assert listen_of(None, certs.folder) is None
