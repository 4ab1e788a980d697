"""NextNumbers and GiveBack through the real gRPC API: order, uniqueness, group commit."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import grpc
import pytest

from allocator import BufferEmpty, InvalidInput, InvoiceNumber, InvoiceType
from branch_agent.buffer.state import BufferState
from branch_agent.ledger.commands import NextNumbers
from branch_agent.ledger.store import Tx
from protos.einvoice.v1 import pos_pb2
from tests.branch_agent.conftest import SPECIAL_CODE, Pos, StartAgent, eventually, ready


async def test_concurrent_terminals_get_unique_ascending_durable_numbers(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    await ready(agent, 100)
    terminals = [pos_for(agent, f"pos-{i}") for i in range(32)]

    async def run(pos: Pos) -> list[str]:
        return [n for _ in range(20) for n in await pos.next()]

    received = await asyncio.gather(*(run(pos) for pos in terminals))
    numbers = [n for per_terminal in received for n in per_terminal]
    assert len(numbers) == 32 * 20 and len(set(numbers)) == len(numbers)
    for per_terminal in received:
        parsed = [InvoiceNumber.parse(n) for n in per_terminal]
        assert all(a < b for a, b in itertools.pairwise(parsed))
    assert sorted(numbers) == sorted(agent.parts.ledger.issued_numbers())


async def test_concurrent_calls_share_commits(
    start_agent: StartAgent, pos_for: Callable[..., Pos], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await start_agent()
    await ready(agent, 100)
    ledger, writer = agent.parts.ledger, agent.parts.writer
    real_transaction, real_submit, real_apply = (
        ledger.transaction,
        writer.submit,
        NextNumbers.apply_all,
    )
    terminals = [pos_for(agent, f"pos-{i}") for i in range(32)]
    arrived, armed = 0, False
    gate = threading.Event()  # the first commit in the worker thread waits for every call
    batches: list[int] = []  # POS calls per commit (the refill and reports commit too)

    async def counting(command: NextNumbers) -> object:
        nonlocal arrived
        arrived += isinstance(command, NextNumbers)  # queued before submit first awaits
        return await real_submit(command)

    def recording(state: BufferState, tx: Tx, now: datetime, calls: list[NextNumbers]) -> Any:
        batches.append(len(calls))
        return real_apply(state, tx, now, calls)

    @contextmanager
    def slow_disk() -> Iterator[Tx]:
        # A store PC's disk: fsync takes milliseconds, so calls pile up behind each commit.
        with real_transaction() as tx:
            yield tx
            if armed and threading.current_thread() is not threading.main_thread():
                gate.wait(timeout=10)
            time.sleep(0.005)

    monkeypatch.setattr(ledger, "transaction", slow_disk)
    monkeypatch.setattr(writer, "submit", counting)
    monkeypatch.setattr(NextNumbers, "apply_all", staticmethod(recording))
    for pos in terminals[:2]:  # slow commits: from now on the writer commits in its thread
        await pos.next()
    arrived, armed = 0, True
    batches.clear()
    calling = asyncio.gather(*(pos.next() for pos in terminals))
    try:
        await eventually(lambda: arrived == len(terminals), timeout=10)
    finally:
        gate.set()
    await calling
    # However the calls reached the agent, those that came during the first commit share the
    # next one: a writer committing call by call makes 32 commits here.
    assert sum(batches) == len(terminals) and len(batches) <= 2, batches


async def test_retry_with_the_same_request_id_gets_the_same_numbers(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    await ready(agent)
    pos = pos_for(agent)
    request_id = str(uuid.uuid4())
    first = await pos.next(3, request_id)
    again = await asyncio.gather(*(pos.next(3, request_id) for _ in range(5)))
    assert all(numbers == first for numbers in again)
    assert await pos.next(1) != first[:1]
    assert agent.parts.state.issued_total == 4
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pos.next(2, request_id)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_give_back_reuses_the_last_number_and_skips_an_earlier_one(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    await ready(agent)
    pos = pos_for(agent)
    a, b = await pos.next(2)
    assert await pos.give_back(b) == pos_pb2.GiveBackReply.OUTCOME_REUSED
    assert await pos.next() == [b]
    assert await pos.give_back(a) == pos_pb2.GiveBackReply.OUTCOME_SKIPPED
    (c,) = await pos.next()
    assert InvoiceNumber.parse(c) > InvoiceNumber.parse(b)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pos.give_back(a)
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert agent.parts.ledger.issued_numbers() == [b, c]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (pos_pb2.NextNumbersRequest(count=1001), grpc.StatusCode.INVALID_ARGUMENT),
        (pos_pb2.NextNumbersRequest(count=1, invoice_type=9), grpc.StatusCode.INVALID_ARGUMENT),
        (
            pos_pb2.NextNumbersRequest(count=1, invoice_type=SPECIAL_CODE),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
    ],
)
async def test_bad_next_numbers_requests(
    start_agent: StartAgent,
    pos_for: Callable[..., Pos],
    message: pos_pb2.NextNumbersRequest,
    code: grpc.StatusCode,
) -> None:
    pos = pos_for(await start_agent())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pos.stub.NextNumbers(message, timeout=5)
    assert caught.value.code() is code
    assert caught.value.details()


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("AB1234567", grpc.StatusCode.INVALID_ARGUMENT),
        ("ab12345678", grpc.StatusCode.INVALID_ARGUMENT),
        ("ZZ00000001", grpc.StatusCode.FAILED_PRECONDITION),
    ],
)
async def test_bad_give_backs(
    start_agent: StartAgent, pos_for: Callable[..., Pos], number: str, code: grpc.StatusCode
) -> None:
    pos = pos_for(await start_agent())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pos.give_back(number)
    assert caught.value.code() is code
    assert number in caught.value.details()


async def test_count_zero_means_one(start_agent: StartAgent, pos_for: Callable[..., Pos]) -> None:
    agent = await start_agent()
    await ready(agent)
    assert len(await pos_for(agent).next(0)) == 1


async def test_one_batch_of_calls_is_decided_in_turn(start_agent: StartAgent) -> None:
    """POS calls that land in one batch share its statements, yet each is decided alone: a
    refused one takes nothing, a retry inside the batch gets the first one's numbers."""
    agent = await start_agent()
    await ready(agent, 100)
    writer, ledger = agent.parts.writer, agent.parts.ledger
    commits = writer.commits
    calls = [
        NextNumbers(2, InvoiceType.GENERAL, "pos-1", "r1"),
        NextNumbers(10**6, InvoiceType.GENERAL, "pos-2", "too-many"),
        NextNumbers(1, InvoiceType.GENERAL, "pos-3"),
        NextNumbers(2, InvoiceType.GENERAL, "pos-1", "r1"),
        NextNumbers(3, InvoiceType.GENERAL, "pos-4", "r1"),
    ]
    outcomes = await asyncio.gather(*(writer.submit(c) for c in calls), return_exceptions=True)
    assert writer.commits == commits + 1
    first, too_many, single, retry, misused = outcomes
    assert isinstance(too_many, BufferEmpty) and isinstance(misused, InvalidInput)
    assert retry.numbers == first.numbers and retry.replayed
    everything = [*first.numbers, *single.numbers]
    assert all(a < b for a, b in itertools.pairwise(everything))
    assert sorted(str(n) for n in everything) == sorted(ledger.issued_numbers())
    again = await writer.submit(NextNumbers(2, InvoiceType.GENERAL, "pos-1", "r1"))
    assert again.numbers == first.numbers  # the stored answer, after the batch
