"""The domain core does no I/O: importing it opens no data file, no socket, starts no thread."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import allocator

PACKAGE = Path(allocator.__file__).resolve().parent
ROOT = PACKAGE.parent

PROBE = r"""
import json, sys
sys.path.insert(0, ROOT)
seen = []

def hook(event, args):
    if event == "open":
        path = str(args[0])
        if not path.endswith((".py", ".pyc", ".so")):
            seen.append([event, path])
    elif event.startswith(("socket.", "subprocess.", "os.fork", "os.exec", "os.posix_spawn",
                           "os.system", "_thread.", "sqlite3.")):
        seen.append([event, repr(args)[:200]])

sys.addaudithook(hook)
import threading
before = threading.active_count()
import allocator
assert allocator.__file__.startswith(ROOT), allocator.__file__
after = threading.active_count()
modules = sorted(m for m in sys.modules if m.split(".")[0] in ("socket", "ssl", "sqlite3",
                                                               "asyncio", "grpc", "sqlalchemy"))
print(json.dumps({"seen": seen, "threads": [before, after], "modules": modules}))
"""


def run_probe(extra: str = "") -> dict:
    code = f"ROOT = {str(ROOT)!r}\n" + PROBE + extra
    done = subprocess.run(
        [sys.executable, "-I", "-B", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_opens_no_file_no_socket_and_starts_no_thread():
    report = run_probe()
    assert report["seen"] == []
    assert report["threads"] == [1, 1]
    assert report["modules"] == []


def test_the_probe_sees_a_data_file_read():
    # the same probe, after the first use of the Taipei zone, does see the tzdata read: so the
    # empty report above means "nothing was opened", not "the hook saw nothing"
    extra = (
        "\nfrom datetime import datetime, timezone\n"
        "allocator.Period.containing(datetime(2026, 1, 1, tzinfo=timezone.utc))\n"
        "print(json.dumps({'seen': seen}))\n"
    )
    report = run_probe(extra)
    assert any(event == "open" for event, _ in report["seen"])


FORBIDDEN_MODULES = {
    "asyncio",
    "io",
    "logging",
    "os",
    "pathlib",
    "random",
    "secrets",
    "shutil",
    "socket",
    "sqlite3",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "urllib",
    "uuid",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "open", "sleep", "getenv"}


def test_no_module_imports_io_or_reads_a_clock():
    problems = []
    for source in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in FORBIDDEN_CALLS:
                    problems.append(f"{source.name}:{node.lineno} calls {name}()")
                continue
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"{source.name}:{node.lineno} imports {name}")
    assert problems == []
