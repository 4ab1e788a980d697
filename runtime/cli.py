"""What every command line shares: argument types that refuse bad values with one line (exit 2).

argparse turns only ValueError, TypeError and ArgumentTypeError from a type into a usage error;
a domain error would otherwise surface as a traceback. `arg` adapts the domain's own parsers, so
a command line applies exactly the rule the servers apply.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import shtab

from allocator import DomainError
from runtime import layers
from runtime.version import package_version

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


def listen_address(text: str) -> str:
    """`--metrics-listen`: PORT (loopback, 127.0.0.1:PORT) or HOST:PORT."""
    if text.isascii() and text.isdigit():
        text = f"127.0.0.1:{text}"
    if text.startswith("unix:"):
        raise argparse.ArgumentTypeError(f"{text[:60]!r}: metrics are served on HOST:PORT or PORT")
    return address(text)


# Exit codes by what went wrong, the same for einv-admin and einv-pos: (code, meaning, the gRPC
# statuses that end in it). A script tells "fix the input" from "not you" from "try again".
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
EXIT_DENIED, EXIT_EXHAUSTED, EXIT_UNAVAILABLE, EXIT_NOT_FOUND = 4, 5, 6, 7
EXIT_CLASSES = (
    (EXIT_OK, "done", ()),
    (EXIT_FAILED, "a check failed (reconcile, an overdue deadline), or an internal error", ()),
    (EXIT_USAGE, "a bad argument, or a value the server refused as malformed",
     ("INVALID_ARGUMENT", "OUT_OF_RANGE")),
    (EXIT_REFUSED, "refused by the rules in force", ("FAILED_PRECONDITION", "ALREADY_EXISTS")),
    (EXIT_DENIED, "not allowed for this identity", ("PERMISSION_DENIED", "UNAUTHENTICATED")),
    (EXIT_EXHAUSTED, "a quota, a pool or a rate limit is exhausted", ("RESOURCE_EXHAUSTED",)),
    (EXIT_UNAVAILABLE, "unreachable, busy or a conflict: try again",
     ("UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED", "CANCELLED")),
    (EXIT_NOT_FOUND, "no such thing (branch, range, alert, user...)", ("NOT_FOUND",)),
)  # fmt: skip
_EXIT_BY_STATUS = {status: code for code, _, statuses in EXIT_CLASSES for status in statuses}
EXIT_CODES_HELP = "exit codes:\n" + "\n".join(
    f"  {code}  {meaning}" + (f" ({', '.join(statuses)})" if statuses else "")
    for code, meaning, statuses in EXIT_CLASSES
)


def exit_code(status_name: str) -> int:
    """The exit code for a gRPC status, by its name (StatusCode.name)."""
    return _EXIT_BY_STATUS.get(status_name, EXIT_FAILED)


class _Version(argparse.Action):
    """--version: the program and this build's version (read only when asked)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **_: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(parser.prog.split()[0], package_version())  # on stdout, as argparse's --version
        parser.exit(0)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not the whole usage block; every
    command has --version; and with `env_prefix` its options may also come from environment
    variables and a --config TOML file (runtime.layers: option > variable > file > default)."""

    def __init__(self, *args: Any, env_prefix: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env_prefix = env_prefix
        if self.add_help:
            self.add_argument("--version", action=_Version)
        if env_prefix is not None:
            self.add_argument(
                f"--{layers.CONFIG}",
                metavar="FILE.toml",
                help=f"settings from a TOML file (or {env_prefix}CONFIG): a key per long option "
                f'without its dashes (--some-option X: some-option = "X"); each option is also '
                f"read from {env_prefix}SOME_OPTION. An option given wins over its variable, "
                "which wins over the file",
            )

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if kwargs.get("type") is Path:
            action.complete = shtab.FILE  # type: ignore[attr-defined]  # read by shtab
        return action

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.env_prefix is None:
            return super().parse_known_args(args, namespace)
        argv = list(sys.argv[1:] if args is None else args)
        found = layers.Layers.read(self, argv, self.env_prefix, os.environ)
        if found.errors:
            self.exit(EXIT_USAGE, "".join(f"{self.prog}: {line}\n" for line in found.errors))
        with found.as_defaults():
            parsed, extra = super().parse_known_args(argv, namespace)
        found.fill(parsed)
        return parsed, extra

    def error(self, message: str) -> NoReturn:
        if self.env_prefix is not None and message.startswith("the following arguments are"):
            message = layers.where_else(self, self.env_prefix, message)
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def add_completion(root: argparse.ArgumentParser) -> None:
    """--print-completion bash|zsh|tcsh (shtab), from the parser itself."""
    name = root.prog
    shtab.add_argument_to(
        root,
        ["--print-completion"],
        help=f"print a shell completion script, e.g. {name} --print-completion bash "
        f"> /etc/bash_completion.d/{name}",
    )
