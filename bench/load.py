"""Load shapes over grpc.aio: one caller in sequence, N terminals flat out, a fixed arrival
rate, a burst. The same drivers run against the echo floor and the real services, so the ratio
between the two is the cost of the service itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter

import grpc

from bench.servers import Server

Call = Callable[[], Awaitable[object]]
CallFactory = Callable[[grpc.aio.Channel], Call]
TerminalFactory = Callable[[grpc.aio.Channel, int], Call]
# Every terminal or branch is its own process in production, with its own TCP connection; gRPC
# would otherwise share one connection between channels to the same address.
CHANNEL_OPTIONS = (("grpc.use_local_subchannel_pool", 1),)
READY_TIMEOUT = 30.0
QUIET_WINDOW = 0.2  # seconds; 20 of the kernel's 10 ms CPU ticks
QUIET_SHARE = 0.1  # of one core: a server doing nothing but its timers
KEEP_ERRORS = 5


def on_stream(stream: grpc.aio.StreamStreamCall, request: Callable[[], object]) -> Call:
    """A call that writes the next `request()` on one open bidi stream and reads its reply."""

    async def call() -> object:
        await stream.write(request())
        reply = await stream.read()
        if reply is grpc.aio.EOF:
            raise RuntimeError("the stream ended with no reply")
        return reply

    return call


@dataclass
class Run:
    """What a driver saw: each call's latency (seconds), the wall time, and the failures."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds the server process used meanwhile, when measured

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    @property
    def cpu_per_call(self) -> float:
        return self.server_cpu / len(self.latencies)

    def failed(self, error: grpc.aio.AioRpcError) -> None:
        self.errors += 1
        if len(self.first_errors) < KEEP_ERRORS:
            self.first_errors.append(f"{error.code().name}: {error.details()}")

    def check(self, what: str) -> Run:
        if self.errors or not self.latencies:
            raise RuntimeError(f"{what}: {self.errors} calls failed: {self.first_errors}")
        return self


@contextlib.asynccontextmanager
async def channels(address: str, count: int) -> AsyncIterator[list[grpc.aio.Channel]]:
    """`count` connected channels (connections) to one address, closed on the way out."""
    opened = [grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) for _ in range(count)]
    try:
        ready = asyncio.gather(*(c.channel_ready() for c in opened))
        await asyncio.wait_for(ready, READY_TIMEOUT)
        yield opened
    finally:
        await asyncio.gather(*(c.close() for c in opened))


async def taken_in(streams: Sequence[grpc.aio.StreamStreamCall], server: Server) -> float:
    """Wait until every stream is connected and `server` has gone quiet again (it has taken
    each in: admitted it, and its handler waits for the first request); the seconds it took."""
    start = perf_counter()
    connected = asyncio.gather(*(stream.wait_for_connection() for stream in streams))
    await asyncio.wait_for(connected, READY_TIMEOUT)
    for _ in range(int(READY_TIMEOUT / QUIET_WINDOW)):
        before = server.cpu()
        await asyncio.sleep(QUIET_WINDOW)
        if server.cpu() - before <= QUIET_SHARE * QUIET_WINDOW:
            return perf_counter() - start
    raise RuntimeError(
        f"{server.address} still busy {READY_TIMEOUT:.0f} s after the streams opened"
    )


async def finish(streams: Sequence[grpc.aio.StreamStreamCall]) -> None:
    """End each stream from this side and wait for the server to end it too (a cancelled one
    would leave gRPC events for a loop that may be closed by then)."""
    await asyncio.gather(*(stream.done_writing() for stream in streams))
    ended = asyncio.gather(*(stream.code() for stream in streams))
    await asyncio.wait_for(ended, READY_TIMEOUT)


async def measuring(server: Server, driven: Awaitable[Run]) -> Run:
    """`driven` with the CPU the server process spent meanwhile (background load does not count,
    unlike in wall-clock rates)."""
    before = server.cpu()
    run = await driven
    run.server_cpu = server.cpu() - before
    return run


async def _timed(call: Call, run: Run, since: float) -> None:
    try:
        await call()
    except grpc.aio.AioRpcError as error:
        run.failed(error)
        return
    run.latencies.append(perf_counter() - since)


async def sequential(call: Call, count: int) -> Run:
    """One caller, one call at a time."""
    run = Run()
    start = perf_counter()
    for _ in range(count):
        await _timed(call, run, perf_counter())
    run.elapsed = perf_counter() - start
    return run


async def closed_loop(calls: Sequence[Call], duration: float) -> Run:
    """One coroutine per terminal, each calling again as soon as its reply is in."""
    run = Run()
    start = perf_counter()
    deadline = start + duration

    async def terminal(call: Call) -> None:
        while perf_counter() < deadline:
            await _timed(call, run, perf_counter())

    await asyncio.gather(*(terminal(call) for call in calls))
    run.elapsed = perf_counter() - start
    return run


async def open_loop(make: Callable[[int], Call], rate: float, count: int) -> Run:
    """`count` calls started on a fixed schedule whatever the replies do.

    Latency counts from the scheduled instant, so a server that falls behind shows it in the
    tail instead of slowing the schedule down (no coordinated omission).
    """
    run = Run()
    start = perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for index in range(count):
        due = start + index / rate
        if (wait := due - perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(_timed(make(index), run, due)))
    await asyncio.gather(*tasks)
    run.elapsed = perf_counter() - start
    return run


async def burst(calls: Sequence[Call]) -> Run:
    """Every call at once; each latency is the time from the start of the burst to its reply."""
    run = Run()
    start = perf_counter()
    await asyncio.gather(*(_timed(call, run, start) for call in calls))
    run.elapsed = perf_counter() - start
    return run
