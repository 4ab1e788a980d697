"""The agent's metrics: the state collector alone, a running agent's /metrics under POS calls."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from allocator import (
    Holding,
    InvalidInput,
    InvoiceType,
    NumberRange,
    Period,
    Refused,
    Track,
    TrackRange,
)
from branch_agent import cli
from branch_agent.buffer.burn import BurnMeter
from branch_agent.buffer.state import BufferState
from branch_agent.hq.client import HqHealth
from branch_agent.hq.identity import tls_dir
from branch_agent.ledger.store import LedgerSnapshot
from branch_agent.metrics import AgentCollector, AgentSources, listen_of, minutes_to_empty
from branch_agent.model import AgentConfig, HeldGrant
from branch_agent.pos import tls as pos_tls
from demo.trust import Certs
from runtime import pki
from tests.branch_agent.conftest import BAN, GENERAL, MID_PERIOD, Pos, StartAgent, idle, ready
from tests.conftest import ManualClock
from tests.hq_server.test_metrics import parse, value

PERIOD = Period.containing(MID_PERIOD)


@dataclass
class Refills:
    failing: set[InvoiceType]

    def last_error(self, period: Period, invoice_type: InvoiceType) -> Refused | None:
        return Refused("quota reached") if invoice_type in self.failing else None


def grant(gid: str, period: Period, begin: int, end: int, next_number: int, seq: int) -> HeldGrant:
    tr = TrackRange(Track("AB"), NumberRange(begin, end))
    return HeldGrant(Holding(gid, period, GENERAL, tr, next_number), seq, next_number)


def test_collector_reads_the_buffer_burn_and_hq_health_at_scrape_time() -> None:
    clock = ManualClock(MID_PERIOD)
    state = BufferState(
        LedgerSnapshot(
            (grant("a", PERIOD, 0, 99, 40, 1), grant("b", PERIOD.next(), 100, 149, 100, 2)),
            {},
            AgentConfig(),
            40,
        )
    )
    burn = BurnMeter(MID_PERIOD - timedelta(minutes=20))
    burn.record(GENERAL, 30, MID_PERIOD - timedelta(minutes=1))
    health = HqHealth(clock)
    health.failed("connection refused")
    clock.advance(seconds=90)
    types = (GENERAL, InvoiceType.SPECIAL)
    pending = [3]
    sources = AgentSources(
        BAN, types, state, burn, health, Refills({InvoiceType.SPECIAL}), clock, lambda: pending[0]
    )
    collector = AgentCollector(sources)
    registry = CollectorRegistry()
    registry.register(collector)
    asyncio.run(collector.refresh())
    get = registry.get_sample_value
    ym = PERIOD.to_year_month()
    assert get("einv_agent_numbers_left", {"year_month": ym, "invoice_type": "07"}) == 60
    nxt = {"year_month": PERIOD.next().to_year_month(), "invoice_type": "07"}
    assert get("einv_agent_numbers_left", nxt) == 50
    assert get("einv_agent_numbers_left", {"year_month": ym, "invoice_type": "08"}) == 0
    assert get("einv_agent_burn_per_minute", {"invoice_type": "07"}) == pytest.approx(3.0)
    assert get("einv_agent_minutes_to_empty", {"invoice_type": "07"}) == pytest.approx(20.0)
    assert get("einv_agent_minutes_to_empty", {"invoice_type": "08"}) == 0
    assert get("einv_agent_refill_failing", {"invoice_type": "08"}) == 1
    assert get("einv_agent_refill_failing", {"invoice_type": "07"}) == 0
    assert get("einv_agent_numbers_issued_total") == 40
    assert get("einv_agent_hq_reachable") == 0
    assert get("einv_agent_hq_unreachable_seconds") == 90
    assert get("einv_agent_reports_pending") == 3
    assert get("einv_agent_info", {"branch_ban": BAN}) == 1
    health.answered()
    pending[0] = 0
    asyncio.run(collector.refresh())
    assert get("einv_agent_hq_reachable") == 1
    assert get("einv_agent_hq_unreachable_seconds") == 0
    assert get("einv_agent_reports_pending") == 0


def test_minutes_to_empty() -> None:
    assert minutes_to_empty(0, 5.0) == 0
    assert minutes_to_empty(100, 0.0) == math.inf
    assert minutes_to_empty(100, 4.0) == 25


async def test_running_agent_metrics_match_what_the_pos_got_and_status(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent(metrics_listen="127.0.0.1:0")
    assert agent.metrics is not None
    await ready(agent, 100)
    terminals = [pos_for(agent, f"pos-{i}") for i in range(4)]

    async def run(pos: Pos) -> list[str]:
        return [n for _ in range(15) for n in await pos.next(count=2)]

    received = await asyncio.gather(*(run(pos) for pos in terminals))
    await idle(agent)
    async with aiohttp.ClientSession() as session, session.get(agent.metrics.url) as reply:
        got = parse(await reply.text())
    status = await terminals[0].status()
    handed = sum(len(r) for r in received)
    assert value(got, "einv_agent_numbers_issued_total") == handed == status.issued_total
    assert value(got, "einv_agent_next_numbers_seconds_count") == 4 * 15
    ym = {"year_month": status.year_month, "invoice_type": "07"}
    assert value(got, "einv_agent_numbers_left", **ym) == status.remaining
    assert value(got, "einv_agent_reports_pending") == status.reports_pending == 0
    assert value(got, "einv_agent_hq_reachable") == 1
    writer = agent.parts.writer
    assert value(got, "einv_agent_ledger_batch_size_sum") == writer.commands
    assert value(got, "einv_agent_ledger_commit_seconds_count") == writer.commits


async def test_an_agent_without_metrics_serves_none(start_agent: StartAgent) -> None:
    agent = await start_agent()
    assert agent.metrics is None


def test_exposed_agent_metrics_need_its_lan_certificate_and_the_hq_ca(tmp_path: Path) -> None:
    data = tmp_path / "agent"
    with pytest.raises(InvalidInput, match="no HQ CA"):
        listen_of("0.0.0.0:9101", data, enrolled=False)
    with pytest.raises(InvalidInput, match="pos-certs init"):
        listen_of("0.0.0.0:9101", data, enrolled=True)
    pos_tls.init(data, BAN, ["127.0.0.1"])
    certs = Certs.create(tmp_path)
    pki.write_public(tls_dir(data) / pki.CA_CERT, certs.ca_cert.read_bytes())
    exposed = listen_of("0.0.0.0:9101", data, enrolled=True)
    assert exposed is not None and exposed.tls is not None
    local = listen_of("127.0.0.1:9101", data, enrolled=False)
    assert local is not None and local.tls is None


def test_cli_refuses_an_exposed_address_without_tls_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["serve", "--hq", "127.0.0.1:1", "--insecure", "--branch-ban", BAN]
    args += ["--data", str(tmp_path / "agent"), "--metrics-listen", "0.0.0.0:9101"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("einv-agent: --metrics-listen 0.0.0.0:9101 is not loopback")
    assert not (tmp_path / "agent").exists()  # refused before the ledger was opened


def test_cli_metrics_address_forms(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli.build_parser()
    base = ["serve", "--hq", "127.0.0.1:1", "--data", "d"]
    assert parser.parse_args([*base, "--metrics-listen", "9101"]).metrics_listen == "127.0.0.1:9101"
    assert parser.parse_args(base).metrics_listen is None
    assert cli.main([*base, "--metrics-listen", "unix:/tmp/m.sock"]) == 2
    assert "--metrics-listen" in capsys.readouterr().err
