"""Every command a mail, an error message or a hint names exists, with the options it names.

An operator told to run `einv-admin assignment add` (which never existed) is stuck; this reads
every string of the product's code for `einv-admin|einv-agent|einv-hq|einv-pos ...` and checks
the subcommands and the --options against the real command lines.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from admin_cli.main import parser as admin_parser
from branch_agent.cli import build_parser as agent_parser
from branch_agent.pos.cli import build_parser as pos_parser
from hq_server.cli import parser as hq_parser

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "admin_cli",
    "allocator",
    "branch_agent",
    "hq_server",
    "mof_sync",
    "notifier",
    "runtime",
)
PARSERS = {
    "einv-admin": admin_parser,
    "einv-agent": agent_parser,
    "einv-hq": hq_parser,
    "einv-pos": pos_parser,
}
MENTION = re.compile(r"\b(einv-admin|einv-agent|einv-hq|einv-pos)((?: [-a-zA-Z0-9_.=/{}:]+)*)")


def strings() -> list[tuple[str, str]]:
    """(where, text) of every string a user may read: constants and f-string parts, not
    docstrings (those are for developers)."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "_pb2" in path.name:
                continue
            tree = ast.parse(path.read_text())
            docstrings = {id(doc) for doc in docstring_nodes(tree)}
            for node in ast.walk(tree):
                text = isinstance(node, ast.Constant) and isinstance(node.value, str)
                if text and id(node) not in docstrings:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    return found


def docstring_nodes(tree: ast.AST) -> list[ast.AST]:
    holders = [tree, *(n for n in ast.walk(tree) if isinstance(n, DEFINITIONS))]
    return [
        body[0].value
        for body in (getattr(h, "body", []) for h in holders)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    ]


DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def mentions() -> list[tuple[str, str, list[str]]]:
    out = []
    for where, text in strings():
        for match in MENTION.finditer(text):
            out.append((where, match.group(1), match.group(2).split()))
    return out


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def check(program: str, words: list[str]) -> str | None:
    """None if the words name real subcommands and options of `program`, else why not."""
    parser = PARSERS[program]()
    for word in words:
        if word.startswith("--"):
            if word.split("=")[0] not in options(parser):
                return f"{program} has no option {word} here"
            continue
        choices = subparsers(parser)
        if not choices:
            return None  # positional arguments and values from here on
        if word not in choices:
            if word.isupper() or (not word.isalpha() and "-" not in word):
                return None  # a placeholder (TOKEN, BAN) or a value
            return f"{program} has no command {word!r} (it has {sorted(choices)})"
        parser = choices[word]
    return None


def test_the_scan_finds_the_mail_texts() -> None:
    found = {(program, " ".join(words[:2])) for _, program, words in mentions()}
    assert ("einv-admin", "import-e0501 E0501.xml") in found
    assert ("einv-agent", "enroll --hq") in found


@pytest.mark.parametrize(("where", "program", "words"), mentions())
def test_every_named_command_exists(where: str, program: str, words: list[str]) -> None:
    problem = check(program, words)
    assert problem is None, f"{where}: {program} {' '.join(words)}: {problem}"
