"""Fixtures for the agent's tests: an HQ double, an agent factory, a small POS client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import grpc
import pytest

from allocator import TAIPEI, InvoiceType, Period
from branch_agent.agent import Agent, AgentSettings
from branch_agent.pos import tls as pos_tls
from demo.procs import free_port
from protos.einvoice.v1 import common_pb2, pos_pb2, pos_pb2_grpc
from runtime.clock import Clock, SimulatedClock
from runtime.tls import Tls, client_tls
from tests.branch_agent.hq_double import HqDouble, pool
from tests.conftest import BRANCH_BANS

BAN = BRANCH_BANS[1]
GENERAL = InvoiceType.GENERAL
# Mid-period (11502 is Jan-Feb 2026), far from a boundary unless a test moves there.
MID_PERIOD = datetime(2026, 1, 15, 10, 0, tzinfo=TAIPEI)

StartAgent = Callable[..., Awaitable[Agent]]


def double_for(*periods: tuple[str, str]) -> HqDouble:
    return HqDouble({BAN}, {(ym, GENERAL): [pool(track, 0, 9_999)] for ym, track in periods})


@pytest.fixture
def clock() -> Clock:
    return SimulatedClock(MID_PERIOD, time.time(), 1.0)


@pytest.fixture
async def hq() -> AsyncIterator[HqDouble]:
    double = double_for(("11502", "AB"), ("11504", "CD"))
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def start_agent(tmp_path: Path, hq: HqDouble, clock: Clock) -> AsyncIterator[StartAgent]:
    """Start an agent on the test's data dir (again = a restart); all are stopped at the end."""
    running: list[Agent] = []

    async def start(**overrides: object) -> Agent:
        settings = AgentSettings(
            branch_ban=BAN,
            hq_addresses=(hq.address,),
            data_dir=tmp_path / "agent",
            listen="127.0.0.1:0",
            report_interval=0.2,
            hq_timeout=1.0,
            refill_tick=0.05,
            clock=clock,
            insecure=True,  # the HQ double speaks plaintext on loopback
        )
        agent = Agent(replace(settings, **overrides))
        await agent.start()
        running.append(agent)
        return agent

    yield start
    for agent in running:
        await agent.stop(grace=0.1)


async def eventually(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until `check()` is truthy (bounded), for what background tasks do."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


@dataclass
class Pos:
    """A POS terminal talking to one agent."""

    channel: grpc.aio.Channel
    stub: pos_pb2_grpc.PosServiceStub
    terminal: str = "pos-1"

    @classmethod
    def connect(cls, address: str, terminal: str = "pos-1") -> Pos:
        channel = grpc.aio.insecure_channel(address)
        return cls(channel, pos_pb2_grpc.PosServiceStub(channel), terminal)

    async def next(self, count: int = 1, request_id: str = "", type_code: int = 0) -> list[str]:
        reply = await self.stub.NextNumbers(
            pos_pb2.NextNumbersRequest(
                count=count,
                invoice_type=type_code,
                terminal_id=self.terminal,
                request_id=request_id,
            ),
            timeout=5,
        )
        return [n.invoice_number for n in reply.numbers]

    async def give_back(self, number: str) -> int:
        reply = await self.stub.GiveBack(
            pos_pb2.GiveBackRequest(invoice_number=number, terminal_id=self.terminal), timeout=5
        )
        return reply.outcome

    async def status(self) -> pos_pb2.AgentStatus:
        return await self.stub.Status(pos_pb2.StatusRequest(), timeout=5)

    async def close(self) -> None:
        await self.channel.close()


@pytest.fixture
async def pos_for() -> AsyncIterator[Callable[..., Pos]]:
    opened: list[Pos] = []

    def connect(agent: Agent, terminal: str = "pos-1") -> Pos:
        pos = Pos.connect(agent.address, terminal)
        opened.append(pos)
        return pos

    yield connect
    for pos in opened:
        await pos.close()


async def lan_agent(
    start_agent: StartAgent, tmp_path: Path, terminal: str
) -> tuple[Agent, str, Tls]:
    """An agent with a store-LAN port and the certificate of one terminal of its POS CA: the
    agent (stocked), the LAN address and the terminal's TLS."""
    data = tmp_path / "agent"
    pos_tls.init(data, BAN, ["127.0.0.1"])
    pos_tls.terminal(data, BAN, terminal, tmp_path / terminal)
    lan = f"127.0.0.1:{free_port()}"
    agent = await start_agent(lan_listen=lan)
    await ready(agent)
    return agent, lan, client_tls(tmp_path / terminal, terminal)


async def ready(agent: Agent, at_least: int = 1) -> None:
    """Wait until the agent holds numbers of the current period."""
    state, clock = agent.parts.state, agent.settings.clock
    await eventually(lambda: state.remaining(Period.containing(clock.now()), GENERAL) >= at_least)


async def hq_gone(agent: Agent, hq: HqDouble) -> None:
    """Stop HQ and wait until the agent has noticed it is unreachable."""
    await hq.stop()
    await eventually(lambda: not agent.parts.hq.health.reachable)


SPECIAL_CODE = common_pb2.INVOICE_TYPE_SPECIAL


async def idle(agent: Agent) -> None:
    """Wait until the background refill and reports have nothing more to do (for tests that
    compare the ledger before and after a call: either would change it meanwhile)."""
    state, clock, ledger = agent.parts.state, agent.settings.clock, agent.parts.ledger

    def settled() -> bool:
        remaining = state.remaining(Period.containing(clock.now()), GENERAL)
        refilled = not ledger.pending_requests() and not state.config.policy.needs_refill(
            remaining, 0
        )
        return refilled and ledger.reports_pending() == 0  # and HQ has been told

    await eventually(settled)
