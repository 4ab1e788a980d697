"""Restarts: the ledger, not memory, decides what comes next."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from allocator import InvoiceNumber
from branch_agent.agent import Agent
from tests.branch_agent.conftest import Pos, StartAgent, eventually, ready
from tests.branch_agent.hq_double import HqDouble


async def test_restart_resumes_after_the_last_durable_number(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    await ready(agent)
    first = await pos_for(agent).next(5)
    await pos_for(agent).give_back(first[-1])  # reused: the cursor moves back onto it
    await agent.stop()

    again = await start_agent()
    assert again.parts.state.issued_total == 4
    numbers = await pos_for(again).next(2)
    assert numbers[0] == first[-1]
    assert InvoiceNumber.parse(numbers[1]).number == InvoiceNumber.parse(first[-1]).number + 1
    assert again.parts.ledger.issued_numbers() == first[:-1] + numbers


async def test_a_range_request_is_retried_after_restart_with_its_request_id(
    start_agent: StartAgent, hq: HqDouble
) -> None:
    hq.lose_replies = 1_000  # HQ grants, but the agent never hears back
    agent = await start_agent()
    await eventually(lambda: len(hq.request_ids) >= 2)
    [pending] = await asyncio.to_thread(agent.parts.ledger.pending_requests)
    await agent.stop()
    assert set(hq.request_ids) == {pending.request_id}
    sent_before = len(hq.request_ids)

    hq.lose_replies = 0
    again = await start_agent()
    await ready(again)
    assert hq.request_ids[sent_before] == pending.request_id
    assert hq.grants[pending.request_id].grant_id in held_by(again)

    # None stranded at HQ: every grant it made is held. Read both again each time, since the
    # agent may go on refilling meanwhile (a set taken once went stale under load).
    await eventually(lambda: held_by(again) == {g.grant_id for g in hq.granted()})


def held_by(agent: Agent) -> set[str]:
    return {g.grant_id for g in agent.parts.state.grants}
