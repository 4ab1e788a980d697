"""The agent and HQ: refill ahead of need, outages, refusals, failover, reports, config."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import grpc
import pytest

from allocator import AssignedRange, Period, Quota, RangeStatus
from branch_agent.agent import Agent
from protos.einvoice.v1 import common_pb2
from tests.branch_agent.conftest import (
    GENERAL,
    Pos,
    StartAgent,
    double_for,
    eventually,
    hq_gone,
    ready,
)
from tests.branch_agent.hq_double import HqDouble


async def next_error(pos: Pos) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pos.next()
    return caught.value


async def test_refill_starts_below_low_water_without_the_pos_waiting(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await start_agent()
    state = agent.parts.state
    await eventually(lambda: state.config.version == hq.version)
    await ready(agent, 100)
    pos = pos_for(agent)
    held = (await pos.status()).remaining
    grants = len(hq.granted())
    assert held >= 100 and (await pos.status()).remaining == held  # nothing more asked for
    numbers = await pos.next(held - 99)  # now 99 left: under the low water of 100
    period = Period.containing(agent.settings.clock.now())
    # The agent's side: HQ records a grant before the agent has stored it.
    await eventually(lambda: state.remaining(period, GENERAL) == 99 + 100)  # min_booklets=2
    assert len(hq.granted()) == grants + 1
    status = await pos.status()
    assert status.remaining == 99 + 100
    current, queued = status.current_range, status.next_ranges
    assert current.track == "AB" and current.begin <= int(numbers[-1][2:]) <= current.end
    assert queued[-1].end - queued[-1].begin + 1 == 100
    assert status.hq_reachable and status.burn_per_minute > 0


async def test_hq_outage_agent_keeps_serving_and_then_says_since_when(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await start_agent()
    await ready(agent, 100)
    pos = pos_for(agent)
    await hq_gone(agent, hq)
    status = await pos.status()
    assert not status.hq_reachable and status.HasField("hq_unreachable_since")
    assert len(await pos.next(status.remaining)) == status.remaining
    error = await next_error(pos)
    assert error.code() is grpc.StatusCode.UNAVAILABLE
    assert "no number left for period 11502 type 07 and HQ unreachable since 2026-01-15T" in (
        error.details() or ""
    )


async def test_usage_reports_reach_hq_after_an_outage(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await start_agent()
    await ready(agent)
    ledger = agent.parts.ledger
    await eventually(lambda: ledger.reports_pending() == 0)
    await hq.stop()
    numbers = await pos_for(agent).next(7)
    await asyncio.sleep(0.5)  # a few report intervals go by with HQ down
    assert ledger.reports_pending() == 1
    await hq.start()
    last = int(numbers[-1][2:])
    [grant] = [g for g in hq.granted() if g.range.begin <= last <= g.range.end]
    await eventually(lambda: hq.usage[grant.grant_id].next_number == last + 1)
    await eventually(lambda: ledger.reports_pending() == 0)


async def at_quota(start_agent: StartAgent, pos: Callable[..., Pos], hq: HqDouble) -> Agent:
    """An agent whose refill HQ refused: its quota of 2 booklets is reached."""
    hq.quota = Quota(2, 2)
    agent = await start_agent()
    await ready(agent, 100)
    await pos(agent).next(100)  # under the low water: the refill asks, HQ refuses
    await eventually(lambda: agent.parts.refiller.errors)
    return agent


async def test_quota_reached_passes_hq_message_on(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    pos = pos_for(await at_quota(start_agent, pos_for, hq))
    error = await next_error(pos)
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (error.details() or "").startswith("quota reached: 2 of 2 booklets")
    assert "quota reached" in (await pos.status()).last_refill_error


async def test_a_quota_raised_while_a_refused_request_is_on_its_way_is_used_at_once(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await at_quota(start_agent, pos_for, hq)
    asked, granted = len(hq.request_ids), len(hq.granted())
    hq.reply_gate = asyncio.Event()
    await hq.change_config(version=hq.version)  # a new config: the agent asks again at once
    await eventually(lambda: len(hq.request_ids) == asked + 1)  # refused, the reply held
    await hq.change_config(quota=Quota(2, 10))
    await eventually(lambda: agent.parts.state.config.version == hq.version)
    hq.reply_gate.set()  # the refusal arrives after the raised quota
    await eventually(lambda: not agent.parts.refiller.errors)  # not after the 30 s backoff
    assert len(hq.granted()) == granted + 1
    assert (await pos_for(agent).status()).last_refill_error == ""


async def test_period_not_assigned_is_a_failed_precondition(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    hq.pools.clear()
    agent = await start_agent()
    await eventually(lambda: agent.parts.refiller.errors)
    error = await next_error(pos_for(agent))
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert (error.details() or "").startswith("period 11502 not yet assigned")


async def test_failover_to_the_next_hq_address(start_agent: StartAgent, hq: HqDouble) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    agent = await start_agent(hq_addresses=(dead, hq.address))
    await ready(agent)
    assert agent.parts.hq.health.reachable


async def test_a_follower_naming_the_leader_sends_the_agent_there_for_good(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    follower = double_for(("11502", "AB"))
    follower.leader = hq.address  # refuses writes NOT_LEADER, naming the leader
    await follower.start()
    try:
        agent = await start_agent(hq_addresses=(follower.address, hq.address))
        await ready(agent, 100)
        # gRPC did not retry on the follower (it said where the leader is), nor went back there.
        assert len(follower.request_ids) <= 1
        grants = len(hq.granted())
        await pos_for(agent).next((await pos_for(agent).status()).remaining - 99)
        await eventually(lambda: len(hq.granted()) > grants)  # a refill under the low water
        await eventually(lambda: hq.reports > 0)
        assert len(follower.request_ids) <= 1 and follower.reports == 0
        assert agent.parts.hq.health.reachable
    finally:
        await follower.stop()


async def test_the_agent_goes_back_to_the_leader_it_first_found_away(
    start_agent: StartAgent, hq: HqDouble
) -> None:
    """pick_first stays on the connection it has: the agent reached the follower while the
    leader was down, and only the follower's answer naming the leader moves it there."""
    follower = double_for(("11502", "AB"))
    follower.leader = hq.address
    await follower.start()
    await hq.stop()
    try:
        agent = await start_agent(hq_addresses=(hq.address, follower.address))
        await eventually(lambda: agent.parts.refiller.errors)  # refused there, the leader away
        assert follower.request_ids
        await hq.start()
        await ready(agent)
    finally:
        await follower.stop()


async def test_a_reply_lost_on_the_way_is_retried_by_grpc_with_the_same_request_id(
    start_agent: StartAgent, hq: HqDouble, caplog: pytest.LogCaptureFixture
) -> None:
    hq.lose_replies = 1  # HQ grants, then answers UNAVAILABLE: the channel's retry policy asks
    agent = await start_agent()
    await ready(agent)
    first, again = hq.request_ids[:2]
    assert first == again  # the same request id, so the same grant
    assert not [r for r in caplog.records if "refill" in r.getMessage()]  # not the refill's loop


async def test_config_from_hq_is_followed_and_disabled_ranges_stop_issuing(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await start_agent()
    await ready(agent)
    state = agent.parts.state
    await eventually(lambda: state.config.version == hq.version)
    assert state.config.policy.min_booklets == 2
    pos = pos_for(agent)
    await pos.next()
    [assigned] = hq.pools[("11502", GENERAL)]
    hq.pools[("11502", GENERAL)] = [AssignedRange(assigned.track_range, RangeStatus.DISABLED)]
    await hq.change_config(disabled=[assigned.track_range])
    await eventually(lambda: state.config.disabled == (assigned.track_range,))
    error = await next_error(pos)
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "pool exhausted" in (error.details() or "")


async def test_status_of_a_fresh_agent_before_hq_answers(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    hq = double_for()
    await hq.start()
    await hq.stop()  # its port is now closed
    agent = await start_agent(hq_addresses=(hq.address,))
    pos = pos_for(agent)
    await eventually(lambda: agent.parts.refiller.errors)
    status = await pos.status()
    assert status.branch_ban and status.year_month == "11502" and status.remaining == 0
    assert not status.hq_reachable and status.last_refill_error


async def test_refill_also_starts_when_the_rest_lasts_too_few_minutes(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    hq.refill = common_pb2.RefillSettings(
        low_water_count=10, low_water_minutes=30, min_booklets=2, max_booklets=2
    )
    agent = await start_agent()
    await eventually(lambda: agent.parts.state.config.version == hq.version)
    await ready(agent, 50)
    grants = len(hq.granted())
    await pos_for(agent).next(20)  # far above 10 left, but at this pace gone in seconds
    await eventually(lambda: len(hq.granted()) > grants)


async def test_a_call_that_finds_the_buffer_empty_waits_for_the_refill_under_way(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    assert agent.parts.state.grants == ()  # nothing held yet: the first grant is on its way
    assert len(await pos_for(agent).next(3)) == 3
