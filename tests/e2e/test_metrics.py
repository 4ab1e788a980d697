"""/metrics of a real HQ and a real agent (mutual TLS between them) against what POS traffic did."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from datetime import datetime

import grpc
import pytest

from allocator import TAIPEI, Period
from demo.procs import free_port
from demo.run import add_pool
from protos.einvoice.v1 import admin_pb2, pos_pb2, pos_pb2_grpc
from tests.conftest import BRANCH_BANS
from tests.e2e.conftest import Cluster, add_branch
from tests.e2e.pos import load
from tests.hq_server.test_metrics import Samples, parse, value

pytestmark = pytest.mark.slow
BAN = BRANCH_BANS[0]
CURRENT = Period.containing(datetime.now(TAIPEI)).to_year_month()
POOL = {"year_month": CURRENT, "invoice_type": "07"}
WAIT = 30.0


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return parse(reply.read().decode())


def status(address: str) -> pos_pb2.AgentStatus:
    with grpc.insecure_channel(address) as channel:
        return pos_pb2_grpc.PosServiceStub(channel).Status(pos_pb2.StatusRequest(), timeout=5)


def settled(address: str, port: int) -> tuple[pos_pb2.AgentStatus, Samples]:
    """Status and a scrape taken while nothing changed in between (refill and reports done)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        before, got, after = status(address), scrape(port), status(address)
        if before == after and after.reports_pending == 0:
            return after, got
        time.sleep(0.2)
    raise AssertionError(f"agent {address} did not settle within {WAIT}s")


def test_scraped_values_match_pos_traffic_status_and_hq(cluster: Cluster) -> None:
    hq_port, agent_port = free_port(), free_port()
    admin = cluster.start_hq("--metrics-listen", f"127.0.0.1:{hq_port}")
    add_pool(admin, CURRENT, "AB", 0, 49_999)
    add_branch(admin, BAN, per_request=4, per_period=400)
    address = cluster.start_agent(BAN, "--metrics-listen", str(agent_port))
    tally = asyncio.run(load(address, terminals=8, calls=40))
    assert not tally.errors
    handed = len(tally.numbers)

    now, got = settled(address, agent_port)
    assert value(got, "einv_agent_numbers_issued_total") == handed == now.issued_total
    assert value(got, "einv_agent_next_numbers_seconds_count") == 8 * 40
    left = {"year_month": now.year_month, "invoice_type": "07"}
    assert value(got, "einv_agent_numbers_left", **left) == now.remaining
    assert value(got, "einv_agent_hq_reachable") == 1
    assert value(got, "einv_agent_reports_pending") == 0
    assert value(got, "einv_agent_info", branch_ban=BAN) == 1

    deadline = time.monotonic() + WAIT  # HQ's view is read at most every 5 s
    hq = scrape(hq_port)
    while value(hq, "einv_hq_pool_issued_numbers", **POOL) != handed:
        assert time.monotonic() < deadline, "HQ's issued count never reached what POS got"
        time.sleep(0.5)
        hq = scrape(hq_port)
    usage = admin.call("GetUsage", admin_pb2.GetUsageRequest(year_month=CURRENT))
    mine = next(u for u in usage.branches if u.branch_ban == BAN)
    assert value(hq, "einv_hq_pool_granted_numbers", **POOL) == mine.granted
    assert value(hq, "einv_hq_granted_booklets_total") * 50 == mine.granted
    assert value(hq, "einv_hq_pool_free_numbers", **POOL) == 50_000 - mine.granted
    audit = admin.call("ListAudit", admin_pb2.ListAuditRequest(limit=1000))
    grants = sum(e.action == "grant" for e in audit.entries)
    assert value(hq, "einv_hq_grants_total", outcome="granted") == grants > 0
    assert value(hq, "einv_hq_leader") == 1 and value(hq, "einv_hq_db_up") == 1
    assert ("einv_hq_report_lag_top_seconds", (("branch_ban", BAN),)) in hq
