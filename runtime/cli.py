"""What every command line shares: argument types that refuse bad values with one line (exit 2).

argparse turns only ValueError, TypeError and ArgumentTypeError from a type into a usage error;
a domain error would otherwise surface as a traceback. `arg` adapts the domain's own parsers, so
a command line applies exactly the rule the servers apply.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn, TypeVar

from allocator import DomainError

T = TypeVar("T")


def arg(parse: Callable[[str], T]) -> Callable[[str], T]:
    """A domain parser as an argparse type: its error becomes argparse's one-line usage error."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except DomainError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def whole(low: int, high: int) -> Callable[[str], int]:
    """An ASCII whole number in low..high."""

    def convert(text: str) -> int:
        if not (text.lstrip("-").isdigit() and text.isascii()):
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} must be {low}..{high}")
        return value

    convert.__name__ = "number"
    return convert


def seconds(low: float, high: float) -> Callable[[str], float]:
    """A finite number of seconds (or minutes) in low..high; low itself is excluded when 0."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
        if not math.isfinite(value) or not low <= value <= high or (low == 0 and value == 0):
            bound = f"more than 0 and at most {high:g}" if low == 0 else f"{low:g}..{high:g}"
            raise argparse.ArgumentTypeError(f"{text} must be {bound}")
        return value

    convert.__name__ = "seconds"
    return convert


def address(text: str) -> str:
    """HOST:PORT with a port 0..65535 ([v6]:PORT too), or unix:PATH."""
    if text.startswith("unix:") and len(text) > 5:
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isdigit() and port.isascii()) or int(port) > 65535:
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} is not an address: HOST:PORT with a port 0..65535, or unix:PATH"
        )
    return text


def addresses(text: str) -> tuple[str, ...]:
    """A comma-separated, non-empty list of HOST:PORT (several HQ replicas)."""
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise argparse.ArgumentTypeError("needs at least one HOST:PORT address")
    return tuple(address(item) for item in items)


# Exit codes by what went wrong, the same for every command line (documented in --help).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
EXIT_DENIED, EXIT_EXHAUSTED, EXIT_UNAVAILABLE = 4, 5, 6
_EXIT_BY_STATUS = {
    "INVALID_ARGUMENT": EXIT_USAGE,
    "OUT_OF_RANGE": EXIT_USAGE,
    "FAILED_PRECONDITION": EXIT_REFUSED,
    "ALREADY_EXISTS": EXIT_REFUSED,
    "NOT_FOUND": EXIT_REFUSED,
    "ABORTED": EXIT_REFUSED,
    "PERMISSION_DENIED": EXIT_DENIED,
    "UNAUTHENTICATED": EXIT_DENIED,
    "RESOURCE_EXHAUSTED": EXIT_EXHAUSTED,
    "UNAVAILABLE": EXIT_UNAVAILABLE,
    "DEADLINE_EXCEEDED": EXIT_UNAVAILABLE,
    "CANCELLED": EXIT_UNAVAILABLE,
}
EXIT_CODES_HELP = """exit codes:
  0  done
  1  a check failed (reconcile found violations, a deadline is overdue), or an internal error
  2  a bad argument, or a value the server refused as malformed (INVALID_ARGUMENT)
  3  refused by the rules in force (FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS)
  4  not allowed for this identity (PERMISSION_DENIED, UNAUTHENTICATED)
  5  a quota, a pool or a rate limit is exhausted (RESOURCE_EXHAUSTED)
  6  the server is unreachable or busy (UNAVAILABLE, DEADLINE_EXCEEDED)"""


def exit_code(status_name: str) -> int:
    """The exit code for a gRPC status, by its name (StatusCode.name)."""
    return _EXIT_BY_STATUS.get(status_name, EXIT_FAILED)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")
