"""The servers' logs: a level on every line, JSON on request, and a failure that repeats at
every retry written once, then as a count now and then, then once when it works again."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from runtime.logs import Repeating, setup


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """What the test logger receives, every level."""
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logger = logging.getLogger("tests.repeating")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield seen
    logger.removeHandler(handler)


def said(records: list[logging.LogRecord], at_least: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in records if r.levelno >= at_least]


def test_a_failure_every_retry_is_one_line_then_a_count_then_recovery(
    records: list[logging.LogRecord],
) -> None:
    clock = FakeClock()
    refill = Repeating(logging.getLogger("tests.repeating"), "refill 11502 type 07", 60, clock)
    for _ in range(30):  # an outage: a retry every 2 s for a minute
        refill.failed(ConnectionError("HQ unreachable"))
        clock.now += 2
    assert said(records) == ["refill 11502 type 07 failed: HQ unreachable"]
    assert len(said(records, logging.DEBUG)) == 30  # --log-level debug still shows each retry
    refill.failed(ConnectionError("HQ unreachable"))  # 60 s after the first line
    assert said(records)[-1] == (
        "refill 11502 type 07 failed: HQ unreachable (repeated 30 times in the last 60 s)"
    )
    clock.now += 10
    refill.failed(ConnectionError("HQ unreachable"))  # too soon for another summary
    assert len(said(records)) == 2
    refill.recovered()
    assert said(records)[-1] == "refill 11502 type 07 works again, after 32 failures in 70 s"
    refill.recovered()  # nothing had failed since: nothing to say
    refill.failed(ConnectionError("HQ unreachable"))  # a new outage starts afresh
    assert len(said(records)) == 4 and said(records)[-1].endswith("failed: HQ unreachable")


def test_a_failure_of_another_kind_is_news(records: list[logging.LogRecord]) -> None:
    clock = FakeClock()
    report = Repeating(logging.getLogger("tests.repeating"), "usage report", 60, clock)
    report.failed(ConnectionError("HQ unreachable"))
    report.failed(ConnectionError("HQ unreachable"))
    report.failed(PermissionError("branch disabled"), note="asking again in 30 s")
    report.failed(PermissionError("branch disabled"), note="asking again in 30 s")
    assert said(records) == [
        "usage report failed: HQ unreachable",
        "usage report failed: branch disabled (asking again in 30 s)",
    ]
    assert [r.levelname for r in records if r.levelno >= logging.INFO] == ["WARNING", "WARNING"]


def test_every_line_has_its_level_in_text_and_json() -> None:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level  # pytest's, while the test runs
    out = io.StringIO()
    try:
        root.handlers.clear()  # as in a process that starts
        setup("info", "text", out)
        logging.getLogger("einv.test").info("hello %s", "text")
        logging.getLogger("einv.test").debug("not at info")
        root.handlers.clear()
        setup("info", "json", out)
        logging.getLogger("einv.test").warning("hello %s", "json")
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    text, line = out.getvalue().splitlines()
    assert " INFO einv.test hello text" in text
    record = json.loads(line)
    assert record["level"] == "WARNING" and record["logger"] == "einv.test"
    assert record["message"] == "hello json" and record["time"].endswith("+00:00")


def test_logging_set_up_already_is_left_alone() -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    assert before  # pytest's
    setup("debug", "json")
    assert root.handlers == before
