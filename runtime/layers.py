"""Settings beside the command line, as etcd takes them: a TOML file and environment variables.

Precedence: an option on the command line, then its environment variable, then the file, then
the option's default. Both layers are derived from the parser's own options, so there is no
second list of settings to keep in step: `--head-ban` is `EINV_HEAD_BAN` (the program's prefix,
upper case, `-` as `_`) and `head-ban` in the file (the long option without its dashes, as
etcd's config file spells its flags). Every value goes through the option's own argparse type
and choices, so a rule lives once, and every bad key or value is one line naming where it came
from (the file and key, or the variable) and the rule.
"""

from __future__ import annotations

import argparse
import difflib
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG = "config"  # the option naming the file (--config), and its variable (EINV_CONFIG)
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
# Given before anything is read, these print and exit: a bad setting must not hide the help.
_PRINT_AND_EXIT = {"-h", "--help", "--version", "--print-completion"}


_VALUES = (
    argparse._StoreAction,
    argparse._StoreTrueAction,
    argparse._StoreFalseAction,
    argparse._AppendAction,
)


class Invalid(ValueError):
    """One bad value, in the words the option's type (or its choices) used."""


def settable(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The options a file or a variable may set, by long name without the dashes."""
    found = {}
    for action in parser._actions:
        long = next((o for o in action.option_strings if o.startswith("--")), None)
        # Values and switches only: not --help, --version, --print-completion, positionals.
        if long is not None and long != f"--{CONFIG}" and isinstance(action, _VALUES):
            found[long[2:]] = action
    return found


def env_name(prefix: str, key: str) -> str:
    return prefix + key.upper().replace("-", "_")


def where_else(parser: argparse.ArgumentParser, prefix: str, message: str) -> str:
    """argparse's "the following arguments are required: --a, --b", with where else each of
    them may be given."""
    head, _, names = message.partition(": ")
    options = settable(parser)
    hints = [
        f"{name} (or {env_name(prefix, name[2:])}, or {name[2:]} in --{CONFIG})"
        if name[2:] in options
        else name
        for name in names.split(", ")
    ]
    return f"{head}: {', '.join(hints)}"


def _one(action: argparse.Action, text: str) -> Any:
    """What the command line would make of `text`: the option's type, then its choices."""
    convert = action.type if callable(action.type) else str
    try:
        value = convert(text)
    except argparse.ArgumentTypeError as error:
        raise Invalid(str(error)) from None
    except (TypeError, ValueError):
        name = getattr(convert, "__name__", "value")
        raise Invalid(f"invalid {name} value: {text[:60]!r}") from None
    if action.choices is not None and value not in action.choices:
        raise Invalid(f"{value!r} is not one of {', '.join(map(str, action.choices))}")
    return value


def _flag(action: argparse.Action, value: object) -> Any:
    """A switch (--insecure): true or false, in TOML or as 1/0, true/false, yes/no, on/off."""
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        value = value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise Invalid(f"{value!r} must be true or false")
    return action.const if value else action.default


def convert(action: argparse.Action, value: object, from_env: bool) -> Any:
    """A value from the file (TOML types) or the environment (text) as the option's value."""
    if action.nargs == 0:
        return _flag(action, value)
    if isinstance(action, argparse._AppendAction):  # repeatable: a TOML list, or a,b in a variable
        items = value.split(",") if from_env and isinstance(value, str) else value
        if not isinstance(items, list):
            raise Invalid(f'{value!r} must be a list, e.g. ["a", "b"]')
        return [_one(action, _text(item)) for item in items]
    return _one(action, _text(value))


def _text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{value!r} must be a string or a number")
    return str(value).strip()


@dataclass
class Layers:
    """The values the environment and the file give, checked; `errors` has one line per bad key."""

    values: dict[str, tuple[argparse.Action, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def read(
        cls,
        parser: argparse.ArgumentParser,
        argv: list[str],
        prefix: str,
        environ: Mapping[str, str],
    ) -> Layers:
        layers = cls()
        if _PRINT_AND_EXIT & set(argv):
            return layers
        options = settable(parser)
        path = config_path(argv) or environ.get(env_name(prefix, CONFIG)) or None
        if path:
            for key, value in layers._file(Path(path), options):
                layers._set(options[key], key, value, f"{path}: {key}", from_env=False)
        for key, action in options.items():  # after the file: a variable wins over it
            name = env_name(prefix, key)
            if environ.get(name, "").strip():  # empty is unset, as in a systemd EnvironmentFile
                layers._set(action, key, environ[name], name, from_env=True)
        return layers

    def _file(self, path: Path, options: dict[str, argparse.Action]) -> list[tuple[str, Any]]:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            self.errors.append(f"--{CONFIG} {path}: {error.strerror or error}")
            return []
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            self.errors.append(f"{path}: not a TOML file: {error}")
            return []
        known = []
        for key, value in data.items():
            if key in options:
                known.append((key, value))
                continue
            near = difflib.get_close_matches(key.replace("_", "-"), options, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            self.errors.append(f"{path}: unknown key {key!r} (keys are the long options{hint})")
        return known

    def _set(
        self, action: argparse.Action, key: str, value: Any, where: str, from_env: bool
    ) -> None:
        try:
            self.values[key] = (action, convert(action, value, from_env))
        except Invalid as error:
            self.values.pop(key, None)  # a bad variable does not fall back to the file's value
            self.errors.append(f"{where}: {error}")

    @contextmanager
    def as_defaults(self) -> Iterator[None]:
        """The layered values stand in for the defaults while the command line is parsed (and
        satisfy required=True); `fill` then puts them where no option was given."""
        saved = [(action, action.default, action.required) for action, _ in self.values.values()]
        for action, value in self.values.values():
            action.required = False
            action.default = None if isinstance(action, argparse._AppendAction) else _From(value)
        try:
            yield
        finally:
            for action, default, required in saved:
                action.default, action.required = default, required

    def fill(self, namespace: argparse.Namespace) -> None:
        for action, value in self.values.values():
            current = getattr(namespace, action.dest, None)
            if current is None or isinstance(current, _From):  # no option on the command line
                setattr(namespace, action.dest, value)


@dataclass(frozen=True, slots=True)
class _From:
    """A value from the environment or the file, standing in for a default: still there after
    the parse means no option replaced it."""

    value: Any


def config_path(argv: list[str]) -> str | None:
    """--config FILE or --config=FILE, read before the rest so the file can fill in the rest."""
    found = None
    for i, word in enumerate(argv):
        if word == f"--{CONFIG}" and i + 1 < len(argv):
            found = argv[i + 1]
        elif word.startswith(f"--{CONFIG}="):
            found = word.split("=", 1)[1]
    return found
