"""NextNumbersStream: the unary call's numbers, checks and idempotency, one stream a terminal."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from allocator import InvoiceNumber
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc
from runtime.grpc_status import refusal
from tests.branch_agent.conftest import Pos, StartAgent, lan_agent, ready

Stream = grpc.aio.StreamStreamCall


async def ask(stream: Stream, request: pos_pb2.NextNumbersRequest) -> list[str]:
    await stream.write(request)
    reply = await stream.read()
    assert reply is not grpc.aio.EOF, "the stream ended without a reply"
    return [n.invoice_number for n in reply.numbers]


async def refused(stream: Stream, request: pos_pb2.NextNumbersRequest) -> grpc.aio.AioRpcError:
    """The request ends the stream: its status, read from the call."""
    await stream.write(request)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        reply = await stream.read()
        assert reply is grpc.aio.EOF, f"a reply to a refused request: {reply}"
        await stream
    return caught.value


async def test_streamed_terminals_get_unique_ascending_numbers_durable_before_each_reply(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    await ready(agent, 100)
    ledger = agent.parts.ledger

    async def terminal(index: int) -> list[str]:
        stream = pos_for(agent).stub.NextNumbersStream()
        received: list[str] = []
        for serial in range(15):
            request = pos_pb2.NextNumbersRequest(
                count=1 + serial % 3, terminal_id=f"till-{index}", request_id=f"{index}-{serial}"
            )
            numbers = await ask(stream, request)
            # Durable before the reply: the ledger already holds what this reply carries.
            assert set(numbers) <= set(ledger.issued_numbers())
            received += numbers
        await stream.done_writing()
        return received

    per_terminal = await asyncio.gather(*(terminal(i) for i in range(8)))
    numbers = [n for received in per_terminal for n in received]
    assert len(numbers) == 8 * (5 * (1 + 2 + 3)) and len(set(numbers)) == len(numbers)
    for received in per_terminal:
        parsed = [InvoiceNumber.parse(n) for n in received]
        assert all(a < b for a, b in itertools.pairwise(parsed))
    assert sorted(numbers) == sorted(ledger.issued_numbers())


async def test_a_retried_request_id_gets_its_numbers_back_on_a_stream_or_a_unary_call(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    await ready(agent)
    pos = pos_for(agent, "till-1")
    stream = pos.stub.NextNumbersStream()
    request = pos_pb2.NextNumbersRequest(count=2, terminal_id="till-1", request_id="sale-1")
    first = await ask(stream, request)
    assert await ask(stream, request) == first
    assert await pos.next(2, "sale-1") == first
    other = pos.stub.NextNumbersStream()  # the POS reconnected: a new stream, the same answer
    assert await ask(other, request) == first
    assert agent.parts.state.issued_total == 2
    await stream.done_writing()
    await other.done_writing()


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (pos_pb2.NextNumbersRequest(count=1001), ""),
        (pos_pb2.NextNumbersRequest(count=1, invoice_type=9), ""),
        (pos_pb2.NextNumbersRequest(count=1, terminal_id="t" * 65), "FIELD_REFUSED"),
        (pos_pb2.NextNumbersRequest(count=3, request_id="sale-1"), ""),  # sale-1 was for 1
    ],
)
async def test_a_refused_request_ends_the_stream_with_the_unary_calls_status(
    start_agent: StartAgent,
    pos_for: Callable[..., Pos],
    request_: pos_pb2.NextNumbersRequest,
    reason: str,
) -> None:
    agent = await start_agent()
    await ready(agent)
    pos = pos_for(agent)
    stream = pos.stub.NextNumbersStream()
    (kept,) = await ask(stream, pos_pb2.NextNumbersRequest(count=1, request_id="sale-1"))
    with pytest.raises(grpc.aio.AioRpcError) as unary:
        await pos.stub.NextNumbers(request_, timeout=5)
    error = await refused(stream, request_)
    assert error.code() is unary.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    seen = refusal(error)
    assert seen.message == refusal(unary.value).message and seen.message
    if reason:
        assert seen.reason == reason
    assert agent.parts.ledger.issued_numbers() == [kept]  # the reply before it stands


async def test_a_lan_terminal_streams_only_as_itself(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    agent, lan, tls = await lan_agent(start_agent, tmp_path, "till-7")
    async with grpc.aio.secure_channel(lan, tls.credentials()) as channel:
        stream = pos_pb2_grpc.PosServiceStub(channel).NextNumbersStream()
        (number,) = await ask(stream, pos_pb2.NextNumbersRequest(count=1))
        await ask(stream, pos_pb2.NextNumbersRequest(count=1, terminal_id="till-7"))
        error = await refused(stream, pos_pb2.NextNumbersRequest(count=1, terminal_id="till-1"))
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "may act only as itself" in (error.details() or "")
    issued = agent.parts.ledger.issued_numbers()
    assert len(issued) == 2 and issued[0] == number
