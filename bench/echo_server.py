"""The transport floor: a grpc.aio server whose one method does nothing.

`python -m bench.echo_server --listen 127.0.0.1:PORT` runs in its own process, like the agent
and HQ, so an empty call pays exactly what theirs pay for gRPC, loopback and a context switch.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator, Sequence

import grpc

from bench import load
from runtime import event_loop

METHOD = "/bench.Echo/Empty"
STREAM_METHOD = "/bench.Echo/Stream"  # an empty reply to each message of a bidi stream
# gRPC core cancels calls the application has not picked up yet beyond 1,000 (at random) and
# 3,000 (all): a 10,000-call burst would lose most of them. The floor is what the transport can
# do, so it lifts those limits (the HQ, measured as it is, keeps the defaults).
PENDING_OPTIONS = (
    ("grpc.server.max_pending_requests", 1_000_000),
    ("grpc.server.max_pending_requests_hard_limit", 1_000_000),
)


async def _empty(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return b""


async def _stream(
    requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
) -> AsyncIterator[bytes]:
    async for _ in requests:
        yield b""


class _EchoHandler(grpc.GenericRpcHandler):
    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        if handler_call_details.method == METHOD:
            # No (de)serializers: the request and reply stay raw (empty) bytes.
            return grpc.unary_unary_rpc_method_handler(_empty)
        if handler_call_details.method == STREAM_METHOD:
            return grpc.stream_stream_rpc_method_handler(_stream)
        return None


async def serve(listen: str) -> None:
    server = grpc.aio.server(options=PENDING_OPTIONS)
    server.add_generic_rpc_handlers((_EchoHandler(),))
    await serve_until_signalled(server, listen, "echo")


async def serve_until_signalled(server: grpc.aio.Server, listen: str, name: str) -> None:
    """Bind and start `server`, say "NAME serving on HOST:PORT" (what bench/servers.py waits
    for), serve until SIGTERM or SIGINT."""
    port = server.add_insecure_port(listen)
    await server.start()
    print(f"{name} serving on {listen.rsplit(':', 1)[0]}:{port}", flush=True)
    await until_signalled()
    await server.stop(0)


async def until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def empty_call(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable:
    """The client side: call it with b"" and a timeout."""
    return channel.unary_unary(METHOD)


def empty_stream(channel: grpc.aio.Channel) -> grpc.aio.StreamStreamCall:
    """The client side of the stream, opened."""
    return channel.stream_stream(STREAM_METHOD)()


def empty_messages(channel: grpc.aio.Channel) -> load.Call:
    """The client side of the stream: one stream, and a call that writes b"" on it and reads
    the empty reply (again and again)."""
    return load.on_stream(empty_stream(channel), lambda: b"")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.echo_server")
    parser.add_argument("--listen", default="127.0.0.1:0")
    event_loop.run(serve(parser.parse_args(argv).listen))


if __name__ == "__main__":
    main()
