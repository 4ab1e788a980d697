"""Delivery under failure: the SMTP server down for a while, crashes at each step, two
replicas on one database. Every alert arrives, and once (except the documented window)."""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from hq_server.alert_state import AlertState
from notifier import NotifierService
from notifier.config import NotifierConfig
from notifier.dispatch import backoff, claim
from notifier.evaluator import Evaluation
from notifier.outbox import FAILED, SENDING, SENT, attempts
from notifier.smtp import send_all
from runtime.clock import SimulatedClock
from tests.conftest import ManualClock
from tests.notifier.conftest import (
    ADMIN,
    NOW,
    Inbox,
    SmtpServer,
    World,
    config_for,
    free_port,
    start_world,
    wait_for,
)

STORES = ("store0@branch.example", "store1@branch.example")


def two_skewed_branches(world: World) -> None:
    """Two clock-skew alerts, each to the admins and its store: four mails."""
    world.assign("11512", 0, 999)
    for index, address in enumerate(STORES):
        ban = world.branch(index, (address,))
        world.report(ban, world.grant(ban, f"g{index}"), 0, agent_skew=600)


def copies(inbox: Inbox) -> collections.Counter[tuple[str, str]]:
    return collections.Counter((r.rcpt_tos[0], r.mail["Message-ID"]) for r in inbox.all())


async def run_until(service: NotifierService, done: object, timeout: float = 10.0) -> None:
    """Run the service until `done()` holds, a few more ticks, then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await wait_for(done, timeout)  # type: ignore[arg-type]
        await asyncio.sleep(0.4)  # more ticks: nothing more may be sent
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def live_clock() -> SimulatedClock:
    return SimulatedClock(NOW, time.time())


async def evaluated_then_crashed(
    tmp_path: Path, config: NotifierConfig
) -> tuple[World, Evaluation]:
    """Two skewed branches; a notifier starts and evaluates once (its mails committed). The
    caller goes on to where the process dies."""
    world = await start_world(tmp_path / "hq.db", ManualClock(NOW))
    two_skewed_branches(world)
    crashed = NotifierService(world.store, world.coordinator, world.clock, config, AlertState())
    await crashed.start_up()
    return world, await crashed.evaluate_once()


async def restart(tmp_path: Path, config: NotifierConfig) -> tuple[World, NotifierService]:
    """The HQ process again on the same database, its notifier on a live clock."""
    world = await start_world(tmp_path / "hq.db", ManualClock(NOW), holder="hq-restarted")
    service = NotifierService(world.store, world.coordinator, live_clock(), config, AlertState())
    return world, service


async def test_server_down_then_up_every_alert_arrives_once(tmp_path: Path, inbox: Inbox) -> None:
    world = await start_world(tmp_path / "hq.db", ManualClock(NOW))
    two_skewed_branches(world)
    server = SmtpServer(inbox, free_port())  # not started yet: connection refused
    config = config_for(server.port)
    service = NotifierService(world.store, world.coordinator, live_clock(), config, AlertState())
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await wait_for(lambda: [m.attempts >= 3 for m in world.mails()] == [True] * 4)
        assert service.smtp_error and f"127.0.0.1:{server.port}" in service.smtp_error
        assert all("Connect" in (m.last_error or "") for m in world.mails())
        server.start()
        await wait_for(lambda: all(m.state == SENT for m in world.mails()))
        await asyncio.sleep(0.4)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        server.stop()
    assert sorted(r for r, _ in copies(inbox)) == sorted([ADMIN, ADMIN, *STORES])
    assert set(copies(inbox).values()) == {1}
    for outcomes in attempt_log(world).values():
        assert outcomes[-1] == "sent" and outcomes.count("sent") == 1
        assert set(outcomes[:-1]) == {"retry"} and len(outcomes) >= 3  # >= 3 claims
    world.store.close()


def attempt_log(world: World) -> dict[int, list[str]]:
    query = select(attempts).order_by(attempts.c.id)
    log: dict[int, list[str]] = {}
    for row in world.store.read_sync(lambda c: c.execute(query).all()):
        log.setdefault(row.message, []).append(row.outcome)
    return log


def test_backoff_doubles_up_to_the_maximum() -> None:
    waits = [backoff(config_for(25).schedule, n).total_seconds() for n in range(1, 6)]
    assert waits == [0.1, 0.2, 0.4, 0.4, 0.4]


async def test_crash_after_commit_before_send_is_sent_after_restart_once(
    tmp_path: Path, inbox: Inbox, smtp_server: SmtpServer, config: NotifierConfig
) -> None:
    world, evaluation = await evaluated_then_crashed(tmp_path, config)
    assert evaluation.queued == 4  # committed; the process dies here
    world.store.close()
    assert inbox.all() == []
    restarted, service = await restart(tmp_path, config)
    await run_until(service, lambda: len(inbox.all()) == 4)
    assert len(restarted.mails()) == 4 and set(copies(inbox).values()) == {1}
    restarted.store.close()


async def test_crash_after_claim_before_send_is_sent_once_after_the_claim_times_out(
    tmp_path: Path, inbox: Inbox, smtp_server: SmtpServer, config: NotifierConfig
) -> None:
    world, _ = await evaluated_then_crashed(tmp_path, config)
    token = world.coordinator.token()
    world.store.write_sync(token, lambda c: claim(c, NOW, token, config))
    assert {m.state for m in world.mails()} == {SENDING}  # and the process dies here
    world.store.close()
    restarted, service = await restart(tmp_path, config)
    await run_until(service, lambda: len(inbox.all()) == 4)
    assert set(copies(inbox).values()) == {1}
    assert {m.state for m in restarted.mails()} == {SENT}
    restarted.store.close()


async def test_crash_between_smtp_accept_and_mark_resends_with_the_same_message_id(
    tmp_path: Path,
    inbox: Inbox,
    smtp_server: SmtpServer,
    config: NotifierConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The one at-least-once window: accepted by the server, then the process died."""
    world, _ = await evaluated_then_crashed(tmp_path, config)
    token = world.coordinator.token()
    batch = world.store.write_sync(token, lambda c: claim(c, NOW, token, config))
    assert all(o.accepted for o in await send_all(config.smtp, batch))
    world.store.close()  # died before recording 'sent'
    restarted, service = await restart(tmp_path, config)
    with caplog.at_level(logging.WARNING, "einv.notifier"):
        await run_until(service, lambda: len(inbox.all()) == 8)
    assert set(copies(inbox).values()) == {2}  # each twice, under one Message-ID
    assert "may get it twice" in caplog.text
    restarted.store.close()


async def test_two_replicas_one_token_one_mail_per_alert(
    tmp_path: Path,
    inbox: Inbox,
    smtp_server: SmtpServer,
    config: NotifierConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock(NOW)
    first = await start_world(tmp_path / "hq.db", clock, holder="hq-1")
    two_skewed_branches(first)
    second = await start_world(tmp_path / "hq.db", clock, holder="hq-2")  # fences the first
    services = [
        NotifierService(w.store, w.coordinator, live_clock(), config, AlertState())
        for w in (first, second)
    ]
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, "einv.notifier"):
        tasks = [asyncio.create_task(s.run(stop)) for s in services]
        await wait_for(lambda: len(inbox.all()) == 4)
        await asyncio.sleep(1.0)  # several evaluate and dispatch ticks of both
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert len(inbox.all()) == 4 and set(copies(inbox).values()) == {1}
    assert {m.claim_token for m in second.mails()} == {second.coordinator.token()}
    assert "follows: fenced" in caplog.text
    first.store.close()
    second.store.close()


async def test_a_refused_recipient_fails_for_good_and_the_alert_says_why(
    tmp_path: Path, inbox: Inbox, smtp_server: SmtpServer, config: NotifierConfig
) -> None:
    inbox.refuse.add(STORES[0])
    world = await start_world(tmp_path / "hq.db", ManualClock(NOW))
    two_skewed_branches(world)
    service = NotifierService(world.store, world.coordinator, live_clock(), config, AlertState())
    await run_until(service, lambda: len(inbox.all()) == 3)
    refused = next(m for m in world.mails() if m.recipient == STORES[0])
    assert (refused.state, refused.attempts) == (FAILED, 1)  # a 550 is not retried
    assert "550" in refused.last_error
    alert = next(a for a in world.alerts() if a.mails_failed)
    assert STORES[0] in (alert.last_error or "") and "550" in (alert.last_error or "")
    world.store.close()
