"""Period rollover on a simulated clock: the old period stops at 00:00 Taipei, the new starts."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from allocator import TAIPEI, Period
from branch_agent.ledger.store import LEDGER_FILE
from runtime.clock import Clock, SimulatedClock
from tests.branch_agent.conftest import GENERAL, Pos, StartAgent, eventually, ready
from tests.branch_agent.hq_double import HqDouble

BOUNDARY = datetime(2026, 3, 1, 0, 0, tzinfo=TAIPEI)  # 11502 ends, 11504 begins
OLD, NEW = Period.from_year_month("11502"), Period.from_year_month("11504")


@pytest.fixture
def clock() -> Clock:
    return SimulatedClock(BOUNDARY - timedelta(seconds=1.5), time.time(), 1.0)


async def test_numbers_switch_period_at_the_boundary_and_old_grants_close(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble, clock: Clock
) -> None:
    agent = await start_agent()
    state = agent.parts.state
    await ready(agent)
    await eventually(lambda: state.remaining(NEW, GENERAL) >= 100)  # prefetched ahead
    pos = pos_for(agent)
    received: list[str] = []
    while clock.now() < BOUNDARY + timedelta(seconds=0.3):
        received += await pos.next()
    assert received[0].startswith("AB") and received[-1].startswith("CD")
    switch = next(i for i, n in enumerate(received) if n.startswith("CD"))
    assert all(n.startswith("AB") for n in received[:switch])
    assert all(n.startswith("CD") for n in received[switch:])

    with sqlite3.connect(agent.settings.data_dir / LEDGER_FILE) as conn:
        rows = conn.execute("SELECT year_month, issued_at FROM issued").fetchall()
    assert {ym for ym, _ in rows} == {"11502", "11504"}
    for year_month, issued_at in rows:
        at = datetime.fromisoformat(issued_at)
        assert (at < BOUNDARY) if year_month == "11502" else (at >= BOUNDARY)

    old = [g.grant_id for g in state.grants if g.period == OLD]
    await eventually(lambda: all(g.final for g in state.grants if g.period == OLD))
    await eventually(lambda: all(gid in hq.usage and hq.usage[gid].final for gid in old))
    assert not any(g.final for g in state.grants if g.period == NEW)


async def test_a_grant_whose_reply_was_lost_is_collected_after_its_period_ended(
    start_agent: StartAgent, hq: HqDouble, clock: Clock
) -> None:
    """The protocol model's finding F1 (docs/model): HQ committed a grant, the reply was lost,
    and the period ended before HQ answered again. The agent keeps asking with the stored id
    until it has the grant, and closes it, without a restart: no grant stays unreported."""
    hq.lose_replies = 1_000  # HQ grants, the agent never hears back
    await start_agent()
    await eventually(lambda: any(g.year_month == "11502" for g in hq.granted()))
    await eventually(lambda: clock.now() > BOUNDARY + timedelta(seconds=0.5), timeout=10)
    hq.lose_replies = 0
    old = [g for g in hq.granted() if g.year_month == "11502"]
    await eventually(
        lambda: all(hq.usage.get(g.grant_id) and hq.usage[g.grant_id].final for g in old),
        timeout=15,
    )
