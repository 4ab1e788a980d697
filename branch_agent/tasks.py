"""Helpers for the agent's background loops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that arrived disguised as an error.

    gRPC can turn a task's cancellation into an RPC error (CANCELLED); a loop that catches
    errors to keep going would then swallow the agent's own shutdown and run forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel_all(
    tasks: Iterable[asyncio.Task[Any]], rounds: int = 5, wait: float = 0.5
) -> set[asyncio.Task[Any]]:
    """Cancel tasks and wait for them, cancelling again if one is still running.

    A cancellation that lands while gRPC completes a stream read can get lost inside gRPC; a
    second one gets through. Returns the tasks still running after `rounds` tries (bounded).
    """
    pending = {task for task in tasks if not task.done()}
    for _ in range(rounds):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=wait)
    return pending


async def nap(wake: asyncio.Event, seconds: float) -> None:
    """Sleep until `wake` is set or `seconds` pass, then re-arm it (loops' pacing)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await wake.wait()
    wake.clear()
