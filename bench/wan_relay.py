"""A WAN link on loopback: a TCP relay that delays each direction by a fixed time.

`python -m bench.wan_relay --listen 127.0.0.1:PORT --to HOST:PORT --delay-ms 10` forwards every
connection to `--to`, holding each chunk `--delay-ms` before writing it on, in both directions:
a round trip of twice the delay, bandwidth as loopback's. It stands in for `tc netem` on a veth
between network namespaces (demo/netns.py) where the kernel has no sch_netem, as this one's
(CONFIG_NET_SCH_NETEM is not set); bench/peers.py says which was used. Chunks keep their order
and are pipelined (a later chunk waits for its own due time, not for the earlier ones' replies),
so it adds latency, not a throughput cap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence
from time import monotonic

from bench.echo_server import until_signalled

CHUNK = 65536


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Read on one side, write each chunk on the other `delay` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            if (wait := due - monotonic()) > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    delivering = asyncio.create_task(deliver())
    try:
        while data := await reader.read(CHUNK):
            queue.put_nowait((monotonic() + delay, data))
    except OSError:
        pass
    finally:
        queue.put_nowait((monotonic() + delay, b""))
        with contextlib.suppress(OSError):
            await delivering


async def _relay(
    target: tuple[str, int],
    delay: float,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    # asyncio sets TCP_NODELAY on both: gRPC's small frames do not wait for Nagle.
    try:
        up_reader, up_writer = await asyncio.open_connection(*target)
    except OSError:  # the far side is down: so is the link, as a real one would look
        writer.close()
        return
    try:
        await asyncio.gather(_pump(reader, up_writer, delay), _pump(up_reader, writer, delay))
    finally:
        for side in (writer, up_writer):
            side.close()


def _host_port(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def serve(listen: str, to: str, delay_ms: float) -> None:
    host, port = _host_port(listen)
    target, delay = _host_port(to), delay_ms / 1000
    server = await asyncio.start_server(
        lambda r, w: _relay(target, delay, r, w), host, port, reuse_address=True
    )
    print(f"relay serving on {listen} -> {to}, {delay_ms:g} ms each way", flush=True)
    async with server:
        await until_signalled()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.wan_relay", description=__doc__)
    parser.add_argument("--listen", required=True, help="HOST:PORT to accept on")
    parser.add_argument("--to", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="delay of each direction")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen, args.to, args.delay_ms))


if __name__ == "__main__":
    main()
