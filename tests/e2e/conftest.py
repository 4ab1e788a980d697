"""Real HQ and agent processes on loopback ports, started and stopped by PID."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import grpc
import pytest

import demo.run
from admin_cli.client import Admin
from branch_agent.hq.identity import enrolled, load
from demo.procs import Proc, agent_args, free_port, hq_args, sim_args
from demo.run import wait_for_stock
from demo.trust import Certs
from protos.einvoice.v1 import common_pb2
from tests.conftest import HEAD_BAN

GENERAL = common_pb2.INVOICE_TYPE_GENERAL


@dataclass
class Cluster:
    """One HQ process and any number of agent processes sharing one (optionally fast) clock."""

    root: Path
    certs: Certs
    sim: list[str] = field(default_factory=list)
    hq_address: str = ""
    hq: Proc | None = None
    agents: dict[str, Proc] = field(default_factory=dict)
    agent_addresses: dict[str, str] = field(default_factory=dict)

    def use_clock(self, start: datetime, speed: float, delay: float = 2.0) -> float:
        epoch = time.time() + delay
        self.sim = sim_args(start, epoch, speed)
        return epoch

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'hq.db'}"

    def start_hq(self, *extra: str) -> Admin:
        if not self.hq_address:
            self.hq_address = f"127.0.0.1:{free_port()}"
        self.hq = Proc(
            "hq",
            [
                *hq_args(HEAD_BAN, self.db_url, self.hq_address, self.certs.folder),
                *self.sim,
                *extra,
            ],
            self.root / "hq.log",
            "serving on",
        ).start()
        return self.admin()

    def admin(self) -> Admin:
        return self.certs.admin([self.hq_address])

    def branch_channel(self, ban: str) -> grpc.aio.Channel:
        """A BranchService channel with the branch's own certificate, as its agent has."""
        return grpc.aio.secure_channel(self.hq_address, load(self.root / ban).tls.credentials())

    def start_agent(self, ban: str, *extra: str, wait: bool = True) -> str:
        address = self.agent_addresses.setdefault(ban, f"127.0.0.1:{free_port()}")
        if not enrolled(self.root / ban):
            self.certs.enroll(self.admin(), self.hq_address, ban, self.root / ban)
        self.agents[ban] = Proc(
            f"agent {ban}",
            [
                *agent_args(self.hq_address, ban, self.root / ban, address, 1),
                *self.sim,
                *extra,
            ],
            self.root / f"agent-{ban}.log",
            "serving POS",
        ).start()
        if wait:
            asyncio.run(wait_for_stock(address))
        return address

    def stop_all(self) -> None:
        for proc in [*self.agents.values(), self.hq]:
            if proc is not None:
                proc.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, Certs.create(tmp_path))
    try:
        yield c
    finally:
        c.stop_all()


def add_branch(
    admin: Admin,
    ban: str,
    per_request: int,
    per_period: int,
    low_water: int = 50,
    min_booklets: int = 1,
) -> None:
    demo.run.add_branch(
        admin,
        ban,
        f"store {ban}",
        per_request,
        per_period,
        low_water=low_water,
        low_water_minutes=1,
        min_booklets=min_booklets,
    )
