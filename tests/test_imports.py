"""The import graph of the packages (every import, also those inside functions): the domain
core imports only the standard library, nothing shared imports a shell, clients do not import
servers, and no two packages import each other, however indirectly."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "allocator",
    "runtime",
    "protos",
    "mof_sync",
    "notifier",
    "hq_server",
    "branch_agent",
    "admin_cli",
    "demo",
    "bench",
)
SHELLS = {"mof_sync", "notifier", "hq_server", "branch_agent", "admin_cli", "demo", "bench"}
# What may use what, beyond the standard library and third-party libraries.
MAY_IMPORT = {
    "allocator": set(),
    "runtime": {"allocator", "protos"},
    "protos": set(),
    "branch_agent": {"allocator", "runtime", "protos"},  # a client of HQ, not a part of it
    "admin_cli": {"allocator", "runtime", "protos"},  # likewise
    "mof_sync": {"allocator", "runtime"},  # MIG files and Turnkey, for whoever holds the data
    "notifier": {"allocator", "runtime"},  # the HQ only through notifier.ports
}


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """Absolute imports of one file: (top-level name, line)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def package_imports() -> dict[str, dict[str, list[str]]]:
    """package -> imported first-party package -> where ('file:line')."""
    graph: dict[str, dict[str, list[str]]] = {p: {} for p in PACKAGES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name, line in imports(path):
                if name in PACKAGES and name != package:
                    where = f"{path.relative_to(ROOT)}:{line}"
                    graph[package].setdefault(name, []).append(where)
    return graph


GRAPH = package_imports()


def test_the_domain_core_imports_only_the_standard_library() -> None:
    found = sorted(
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in (ROOT / "allocator").rglob("*.py")
        for name, line in imports(path)
        if name not in sys.stdlib_module_names and name != "allocator"
    )
    assert found == []


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_what_it_may(package: str) -> None:
    wrong = {
        name: where for name, where in GRAPH[package].items() if name not in MAY_IMPORT[package]
    }
    assert wrong == {}


def test_nothing_shared_imports_a_shell() -> None:
    for shared in ("allocator", "runtime", "protos"):
        assert SHELLS.isdisjoint(GRAPH[shared]), (shared, GRAPH[shared])


def test_no_two_packages_import_each_other() -> None:
    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for name in GRAPH[todo.pop()]:
                if name not in seen:
                    seen.add(name)
                    todo.append(name)
        return seen

    cycles = sorted(p for p in PACKAGES if p in reaches(p))
    assert cycles == [], {p: sorted(GRAPH[p]) for p in cycles}


def test_the_graph_is_read_at_all() -> None:
    """The checks above mean something: the HQ does import the core, the runtime, MOF sync."""
    assert {"allocator", "runtime", "mof_sync", "notifier"} <= set(GRAPH["hq_server"])
