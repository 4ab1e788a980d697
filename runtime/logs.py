"""The servers' logs: a level on every line, text or JSON, and failures that repeat at every
retry (an HQ outage) written once with a count instead of once per retry."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# How often a failure that goes on is written again, with how many times it happened meanwhile.
SUMMARY_EVERY = 60.0


def level(text: str) -> str:
    """--log-level, in any case (INFO as info)."""
    if text.lower() not in LEVELS:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a log level: {', '.join(LEVELS)}")
    return text.lower()


level.__name__ = "level"


def add_options(parser: argparse.ArgumentParser, default_level: str) -> None:
    parser.add_argument(
        "--log-level",
        type=level,
        default=default_level,
        metavar="{" + ",".join(LEVELS) + "}",
        help="the least severe lines written (default: %(default)s)",
    )
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="text lines, or one JSON object per line (time, level, logger, message) for a log "
        "collector (default: %(default)s)",
    )


def setup(log_level: str, log_format: str, stream: TextIO | None = None) -> None:
    """The process's one log handler, on stderr. Logging configured already (a test runner,
    a program embedding this one) is left as it is, as logging.basicConfig does."""
    if logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter  # only when asked: a dependency less

        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",  # ISO 8601 in UTC, as log collectors parse it
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    logging.basicConfig(level=log_level.upper(), handlers=[handler])


@dataclass
class Repeating:
    """One failure site of a retry loop: the first failure is logged at once, the ones after it
    at debug level, with a line saying how many there were at most every `every` seconds, and
    one line when it works again. A failure of another kind (exception type) is news: logged
    at once."""

    log: logging.Logger
    what: str  # "refill 11412 type 07": the line reads "<what> failed: <error>"
    every: float = SUMMARY_EVERY
    clock: Callable[[], float] = time.monotonic  # real seconds, whatever the simulated clock
    failures: int = 0  # since it last worked
    _since: float = 0.0
    _said: float = 0.0  # when the last line (first or summary) was written
    _unsaid: int = 0  # failures since that line
    _kind: str = ""

    def failed(
        self, error: object, level: int = logging.WARNING, exc_info: bool = False, note: str = ""
    ) -> None:
        """`note`: what the error does not say ("3 days left"), written after it."""
        now, kind = self.clock(), type(error).__name__
        error = f"{error} ({note})" if note else error
        self.failures += 1
        if self.failures == 1 or kind != self._kind:
            if self.failures == 1:
                self._since = now
            self._say(now, level, "%s failed: %s", self.what, error, exc_info=exc_info)
            self._kind = kind
            return
        self._unsaid += 1
        if now - self._said < self.every:
            self.log.debug("%s failed again: %s", self.what, error)
            return
        self._say(
            now,
            level,
            "%s failed: %s (repeated %d times in the last %.0f s)",
            self.what,
            error,
            self._unsaid,
            now - self._said,
        )

    def recovered(self) -> None:
        """It worked: say so once if it had failed, and start afresh."""
        if not self.failures:
            return
        self.log.info(
            "%s works again, after %d failures in %.0f s",
            self.what,
            self.failures,
            self.clock() - self._since,
        )
        self.failures, self._unsaid, self._kind = 0, 0, ""

    def _say(
        self, now: float, level: int, message: str, *args: object, exc_info: bool = False
    ) -> None:
        self.log.log(level, message, *args, exc_info=exc_info)
        self._said, self._unsaid = now, 0
