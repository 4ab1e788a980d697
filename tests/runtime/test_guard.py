"""The guard interceptor over a real grpc.aio server on loopback: each call is admitted for its
own task, and an error ends it with its status (a domain error's own, anything else INTERNAL and
logged), the same on the second call of a method as on the first (its handler is wrapped once);
a stream is identified once and each of its messages admitted by the method's rule."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from allocator import InvalidInput
from runtime.errors import Forbidden
from runtime.guard import Anyone, Guard, Rule, current_principal
from runtime.principal import Kind, Principal

SERVICE = "/einv.test.Guarded/"


@dataclass(frozen=True, slots=True)
class NotNamed:
    """Refuses a request that is this one value (bytes requests: no fields to name)."""

    refused: bytes

    def check(self, principal: Principal, request: Any) -> None:
        if request == self.refused:
            raise Forbidden(f"{principal.name} may not send {self.refused!r}")


RULES: dict[str, Rule] = {SERVICE + name: Anyone() for name in ("Who", "Refused", "Broken")}
RULES[SERVICE + "Stream"] = NotNamed(b"forbidden")
CALLERS = iter(range(1000))  # a new caller for every call: the principal is per call


def identify(context: grpc.aio.ServicerContext) -> Principal:
    return Principal(Kind.INSECURE, f"caller{next(CALLERS)}")


async def who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return current_principal().name.encode()


async def refused(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise InvalidInput("count 0 must be 1..1000")


async def broken(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise RuntimeError("a bug")


async def stream(
    requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
) -> AsyncIterator[bytes]:
    async for request in requests:
        if request == b"bug":
            raise RuntimeError("a bug mid-stream")
        if request == b"bad":
            raise InvalidInput("a bad message")
        yield current_principal().name.encode()


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=[Guard(RULES, identify)])
    handlers = {
        "Who": grpc.unary_unary_rpc_method_handler(who),
        "Refused": grpc.unary_unary_rpc_method_handler(refused),
        "Broken": grpc.unary_unary_rpc_method_handler(broken),
        "Unruled": grpc.unary_unary_rpc_method_handler(who),
        "Stream": grpc.stream_stream_rpc_method_handler(stream),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("einv.test.Guarded", handlers),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as opened:
            yield opened
    finally:
        await server.stop(None)


async def test_each_call_is_admitted_for_itself(channel: grpc.aio.Channel) -> None:
    call = channel.unary_unary(SERVICE + "Who")
    names = {await call(b"", timeout=5) for _ in range(3)}
    assert len(names) == 3 and all(name.startswith(b"caller") for name in names)


async def test_errors_end_the_call_with_their_status_every_time(
    channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    cases = {
        "Refused": (grpc.StatusCode.INVALID_ARGUMENT, "count 0 must be 1..1000"),
        "Broken": (grpc.StatusCode.INTERNAL, "internal error; see the server log"),
        "Unruled": (grpc.StatusCode.PERMISSION_DENIED, "has no authorization rule"),
        "Missing": (grpc.StatusCode.UNIMPLEMENTED, ""),
    }
    with caplog.at_level(logging.ERROR, logger="einv.guard"):
        for _ in range(2):
            for name, (code, message) in cases.items():
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await channel.unary_unary(SERVICE + name)(b"", timeout=5)
                assert raised.value.code() == code, name
                assert message in (raised.value.details() or ""), name
    logged = [r for r in caplog.records if r.getMessage() == f"{SERVICE}Broken failed"]
    assert len(logged) == 2 and all(r.exc_info and "a bug" in str(r.exc_info[1]) for r in logged)
    assert not [r for r in caplog.records if "Refused" in r.getMessage()]


async def test_a_stream_is_identified_once_and_ends_with_the_status_of_its_error(
    channel: grpc.aio.Channel,
) -> None:
    cases = {
        b"bad": grpc.StatusCode.INVALID_ARGUMENT,
        b"bug": grpc.StatusCode.INTERNAL,
        b"forbidden": grpc.StatusCode.PERMISSION_DENIED,  # each message meets the method's rule
    }
    for last, code in cases.items():
        call = channel.stream_stream(SERVICE + "Stream")()
        await call.write(b"one")
        first = await call.read()
        await call.write(b"two")
        assert await call.read() == first  # one caller for the whole stream
        await call.write(last)
        assert await call.code() == code, last
