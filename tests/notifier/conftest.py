"""A real SMTP server (aiosmtpd on a free loopback port), an HQ database built with the HQ's
own use cases, and a notifier configuration pointing at the one from the other."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Connection, select, update

from allocator import (
    TAIPEI,
    Ban,
    InvoiceType,
    NumberRange,
    Period,
    PoolKey,
    Quota,
    RefillPolicy,
    Track,
)
from allocator import TrackRange as TR
from hq_server.admin_ops import BranchSettings, NewAssignment, add_assignments, add_branch
from hq_server.alert_state import AlertState
from hq_server.branch_ops import GrantProgress, report_usage
from hq_server.coordinator import LocalCoordinator
from hq_server.grant_batch import RangeRequest, request_ranges
from hq_server.schema import branches
from hq_server.store import Store
from notifier import alerts
from notifier.alerts import AlertView
from notifier.config import NotifierConfig, parse_config
from notifier.evaluator import Evaluation
from notifier.outbox import messages
from notifier.service import NotifierService
from tests.conftest import BRANCH_BANS, ManualClock

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)  # period 11512 (Nov-Dec 2026)
ADMIN, FINANCE, STORE_IT = "admin@hq.example", "finance@hq.example", "it@hq.example"


@dataclass(frozen=True)
class Received:
    rcpt_tos: tuple[str, ...]
    mail: EmailMessage

    @property
    def text(self) -> str:
        return f"{self.mail['Subject']}\n{self.mail.get_content()}"


@dataclass
class Inbox:
    """What the SMTP server accepted. `refuse` lists recipients it rejects with a 550."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, _o: Any):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        with self.lock:
            self.received.append(Received(tuple(envelope.rcpt_tos), mail))
        return "250 2.0.0 queued"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    """aiosmtpd in its own thread; stop() and start() again on the same port (server down/up)."""

    def __init__(self, inbox: Inbox, port: int, **options: Any) -> None:
        self.inbox, self.port, self.options = inbox, port, options
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(inbox: Inbox) -> Iterator[SmtpServer]:
    server = SmtpServer(inbox, free_port())
    server.start()
    yield server
    server.stop()


def config_for(port: int, **sections: dict[str, Any]) -> NotifierConfig:
    data: dict[str, Any] = {
        "smtp": {"host": "127.0.0.1", "port": port, "security": "plain", "from": "einv@hq.example"},
        "roles": {"hq-admin": [ADMIN], "finance": [FINANCE], "store-it": [STORE_IT]},
        "routes": {
            "e0402_due": ["hq-admin", "finance"],
            "branch_stuck": ["branch", "store-it"],
        },
        "schedule": {
            "evaluate_seconds": 0.2,
            "dispatch_seconds": 0.05,
            "retry_base_seconds": 0.1,
            "retry_max_seconds": 0.4,
            "claim_timeout_seconds": 1.0,
            "reminder_hours": 1.0,
            "digest_hour": 23,  # out of the way unless a test wants it
        },
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return parse_config(data, {})


@pytest.fixture
def config(smtp_server: SmtpServer) -> NotifierConfig:
    return config_for(smtp_server.port)


@dataclass
class World:
    """An HQ database and its leader, built through the HQ's own use cases."""

    store: Store
    coordinator: LocalCoordinator
    clock: ManualClock

    def write(self, work: Callable[[Connection, datetime], Any]) -> Any:
        now = self.clock.now()
        return self.store.write_sync(self.coordinator.token(), lambda conn: work(conn, now))

    def assign(
        self, year_month: str, begin: int, end: int, track: str = "AB", kind: str = "07"
    ) -> int:
        pool = PoolKey(Period.from_year_month(year_month), InvoiceType.parse(kind))
        span = TR(Track(track), NumberRange(begin, end))
        item = NewAssignment(pool, span, "manual")
        (row,), _ = self.write(lambda c, now: add_assignments(c, now, "alice", [item]))
        return int(row.id)

    def branch(self, index: int, emails: tuple[str, ...] = (), per_period: int = 10) -> str:
        ban = BRANCH_BANS[index]
        settings = BranchSettings(f"Store {index}", Quota(4, per_period), RefillPolicy(), ())
        self.write(lambda c, now: add_branch(c, now, "alice", Ban(ban), settings))
        # Addresses straight into the table: a row from before addresses were checked may
        # hold a bad one, and the notifier must still mail the rest.
        self.write(
            lambda c, now: c.execute(
                update(branches).where(branches.c.ban == ban).values(emails=json.dumps(emails))
            )
        )
        return ban

    def grant(self, ban: str, rid: str, booklets: int = 4, year_month: str = "11512") -> Any:
        pool = PoolKey(Period.from_year_month(year_month), InvoiceType.GENERAL)
        request = RangeRequest(rid, Ban(ban), pool, booklets, f"branch:{ban}")
        token = self.coordinator.token()
        (outcome,) = self.write(lambda c, now: request_ranges(c, now, token, [request]))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def report(self, ban: str, grant: Any, issued: int, agent_skew: float = 0.0) -> None:
        """The agent reports `issued` numbers of the grant used, its clock `agent_skew` off."""
        agent_time = self.clock.now() + timedelta(seconds=agent_skew)
        progress = [GrantProgress(grant.id, grant.begin + issued, (), False)]
        self.write(lambda c, now: report_usage(c, now, Ban(ban), agent_time, progress))

    def alerts(self) -> list[AlertView]:
        return self.store.read_sync(lambda c: alerts.views(c))

    def ack(self, key: str, actor: str) -> AlertView:
        return self.write(lambda c, now: alerts.ack(c, now, key, actor))

    def mails(self) -> list[Any]:
        return self.store.read_sync(
            lambda c: list(c.execute(select(messages).order_by(messages.c.id)).all())
        )


async def start_world(path: Path, clock: ManualClock, holder: str = "hq-1") -> World:
    store = Store(f"sqlite:///{path}")
    coordinator = LocalCoordinator(store, holder, clock)
    await coordinator.start()
    return World(store, coordinator, clock)


@pytest.fixture
async def world(tmp_path: Path) -> World:
    built = await start_world(tmp_path / "hq.db", ManualClock(NOW))
    yield built  # type: ignore[misc]
    built.store.close()


async def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a condition the system under test makes true by itself (bounded)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def service_for(world: World, config: NotifierConfig, tracker: Any = None) -> NotifierService:
    return NotifierService(world.store, world.coordinator, world.clock, config, AlertState(tracker))


async def cycle(world: World, config: NotifierConfig, tracker: Any = None) -> Evaluation:
    """One evaluation and one dispatch round, as one tick of the running service does."""
    service = service_for(world, config, tracker)
    await service.start_up()
    result = await service.evaluate_once()
    await service.dispatch_pending()
    return result
