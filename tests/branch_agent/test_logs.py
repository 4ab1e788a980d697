"""An agent whose HQ is down retries every second or two: its log says so once per loop, not
once per retry (each retry is still there at debug level)."""

from __future__ import annotations

import logging
import socket
from collections import Counter

import pytest

from tests.branch_agent.conftest import StartAgent, eventually


async def test_an_hq_outage_is_one_warning_per_loop_not_one_per_retry(
    start_agent: StartAgent, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port nobody listens on: HQ is down
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    caplog.set_level(logging.DEBUG, "branch_agent")
    await start_agent(hq_addresses=(dead,))

    def refill_failures() -> int:  # at any level: each try of the refill loop is a record
        return sum(r.getMessage().startswith("refill ") for r in caplog.records)

    await eventually(lambda: refill_failures() >= 5, timeout=30)  # it has tried 5 times
    shown = Counter(
        r.getMessage().split(" failed: ")[0]
        for r in caplog.records
        if r.levelno >= logging.INFO and r.name.startswith("branch_agent")
    )
    assert shown, "the outage was not logged at all"
    refill = [what for what in shown if what.startswith("refill ")]
    assert refill and all(shown[what] == 1 for what in refill), shown
    assert max(shown.values()) <= 2, shown  # no loop repeats its line at every retry
