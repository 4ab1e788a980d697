"""Floors measured on this machine in this run: what the disk and a database can do bare.

- `fsync_loop`: write one 4 KiB page and fsync, in the directory under test, cycling over a
  preallocated file the way SQLite reuses its WAL (so no file growth is timed).
- `sqlite_commit_loop`: one-row transactions on a given SQLite file, WAL, synchronous=FULL:
  the commit rate a service gets without group commit.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from time import perf_counter

PAGE = 4096
PAGES = 256  # a 1 MiB file, like a small WAL


def fsync_loop(directory: Path, count: int) -> list[float]:
    """Seconds per write+fsync, `count` times, in `directory` (same disk as the data)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bench-fsync.tmp"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\0" * PAGE * PAGES)
        os.fsync(fd)
        page = os.urandom(PAGE)
        latencies: list[float] = []
        for index in range(count):
            start = perf_counter()
            os.pwrite(fd, page, (index % PAGES) * PAGE)
            os.fsync(fd)
            latencies.append(perf_counter() - start)
        return latencies
    finally:
        os.close(fd)
        path.unlink()


def sqlite_commit_loop(database: Path, count: int) -> list[float]:
    """Seconds per single-row commit on `database` (a scratch table, dropped afterwards)."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (id INTEGER PRIMARY KEY, at REAL)")
        latencies: list[float] = []
        for _ in range(count):
            start = perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_commit (at) VALUES (?)", (start,))
            conn.execute("COMMIT")
            latencies.append(perf_counter() - start)
        return latencies
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("DROP TABLE IF EXISTS bench_commit")
        conn.close()
