"""The servers' event loop: uvloop's (libuv's, in C) rather than asyncio's pure-Python one.

The same grpc.aio, aiohttp and asyncio code runs on it; it takes less of the loop's own CPU per
call, which is most of a server's CPU here (bench/README.md, P2: HQ's CPU per grant 9-28% lower
on unary calls and 6-10% on open streams, in alternating runs of the same hour).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a server's `main` to its end on a new uvloop event loop (as asyncio.run does)."""
    return uvloop.run(main)
