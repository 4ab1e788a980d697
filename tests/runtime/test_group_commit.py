"""runtime.group_commit over a real SQLite file: shared commits, savepoints, keys, groups."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path

import pytest

from runtime.group_commit import GroupCommit, Limits, Together


class Refused(Exception):
    pass


class SqliteTransactions:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("CREATE TABLE IF NOT EXISTS t (key TEXT, value INTEGER UNIQUE)")
        self.begun: list[Hashable] = []
        self.savepoints = 0
        self.fail_commit = False

    @contextlib.contextmanager
    def begin(self, key: Hashable) -> Iterator[sqlite3.Connection]:
        self.begun.append(key)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            if self.fail_commit:
                raise OSError("disk full")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextlib.contextmanager
    def savepoint(self, tx: sqlite3.Connection) -> Iterator[None]:
        self.savepoints += 1
        tx.execute("SAVEPOINT one")
        try:
            yield
        except BaseException:
            tx.execute("ROLLBACK TO one")
            tx.execute("RELEASE one")
            raise
        tx.execute("RELEASE one")

    def refusal(self, error: Exception) -> Exception | None:
        if isinstance(error, sqlite3.IntegrityError):
            return Refused(f"value taken: {error}")
        return error if isinstance(error, Refused) else None

    def lost(self, error: Exception) -> Exception:
        return RuntimeError(f"lost: {error}")

    def rows(self) -> list[tuple[str, int]]:
        return self.conn.execute("SELECT key, value FROM t ORDER BY value").fetchall()


def insert(key: str, value: int) -> Callable[[sqlite3.Connection], int]:
    def change(tx: sqlite3.Connection) -> int:
        tx.execute("INSERT INTO t VALUES (?, ?)", (key, value))
        return value

    return change


@pytest.fixture
def storage(tmp_path: Path) -> SqliteTransactions:
    return SqliteTransactions(tmp_path / "t.db")


def commit_of(storage: SqliteTransactions, limits: Limits | None = None) -> GroupCommit:
    return GroupCommit(storage, lambda: RuntimeError("closed"), limits or Limits())


async def test_concurrent_changes_share_one_transaction(storage: SqliteTransactions) -> None:
    group = commit_of(storage)
    results = await asyncio.gather(*(group.submit(insert("a", v)) for v in range(50)))
    assert results == list(range(50)) and len(storage.rows()) == 50
    assert group.commits == 1 and group.changes == 50


async def test_a_refused_change_rolls_back_alone(storage: SqliteTransactions) -> None:
    group = commit_of(storage)
    outcomes = await asyncio.gather(
        group.submit(insert("a", 1)),
        group.submit(insert("a", 1)),  # the UNIQUE value: refused, in its savepoint
        group.submit(insert("a", 2)),
        return_exceptions=True,
    )
    assert outcomes[0] == 1 and outcomes[2] == 2
    assert isinstance(outcomes[1], Refused) and "value taken" in str(outcomes[1])
    assert storage.rows() == [("a", 1), ("a", 2)] and group.commits == 1


async def test_a_lone_run_needs_no_savepoint_and_a_refused_one_leaves_nothing(
    storage: SqliteTransactions,
) -> None:
    group = commit_of(storage)

    def write_then_refuse(tx: sqlite3.Connection, items: list[int]) -> list[object]:
        for v in items:
            tx.execute("INSERT INTO t VALUES ('g', ?)", (v,))
        raise Refused("refused after writing")

    assert await group.submit(insert("a", 1)) == 1
    outcomes = await asyncio.gather(
        group.submit(Together("g", 2, write_then_refuse)),
        group.submit(Together("g", 3, write_then_refuse)),
        return_exceptions=True,
    )
    assert all(isinstance(o, Refused) and "after writing" in str(o) for o in outcomes)
    assert storage.rows() == [("a", 1)] and storage.savepoints == 0
    assert group.commits == 1  # the refused run's transaction was rolled back, not committed
    assert await group.submit(insert("a", 4)) == 4  # and the storage is usable after it


async def test_a_lost_transaction_fails_every_change_and_writes_nothing(
    storage: SqliteTransactions,
) -> None:
    group = commit_of(storage)
    storage.fail_commit = True
    outcomes = await asyncio.gather(
        *(group.submit(insert("a", v)) for v in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, RuntimeError) and "disk full" in str(o) for o in outcomes)
    assert storage.rows() == [] and group.commits == 0
    storage.fail_commit = False
    assert await group.submit(insert("a", 7)) == 7


async def test_an_unexpected_error_loses_the_whole_batch(storage: SqliteTransactions) -> None:
    group = commit_of(storage)

    def broken(tx: sqlite3.Connection) -> None:
        raise KeyError("bug")

    outcomes = await asyncio.gather(
        group.submit(insert("a", 1)), group.submit(broken), return_exceptions=True
    )
    assert all(isinstance(o, RuntimeError) and "bug" in str(o) for o in outcomes)
    assert storage.rows() == []


async def test_keys_never_share_a_transaction_and_keep_their_order(
    storage: SqliteTransactions,
) -> None:
    group = commit_of(storage)
    keys = ["t1", "t2", "t1", "t2", "t1"]
    await asyncio.gather(*(group.submit(insert(k, v), key=k) for v, k in enumerate(keys)))
    assert storage.begun == ["t1", "t2"]
    assert [v for k, v in storage.rows() if k == "t1"] == [0, 2, 4]


async def test_a_batch_holds_at_most_max_batch(storage: SqliteTransactions) -> None:
    group = commit_of(storage, Limits(max_batch=4))
    await asyncio.gather(*(group.submit(insert("a", v)) for v in range(10)))
    assert group.commits == 3 and len(storage.rows()) == 10


async def test_together_changes_are_decided_by_one_call(storage: SqliteTransactions) -> None:
    group = commit_of(storage)
    calls: list[list[int]] = []

    def decide_all(tx: sqlite3.Connection, items: list[int]) -> list[object]:
        calls.append(list(items))
        results: list[object] = []
        for v in items:
            if v < 0:
                results.append(Refused(f"{v} is negative"))
            else:
                tx.execute("INSERT INTO t VALUES ('g', ?)", (v,))
                results.append(v * 10)
        return results

    outcomes = await asyncio.gather(
        group.submit(Together("grant", 1, decide_all)),
        group.submit(Together("grant", -2, decide_all)),
        group.submit(Together("grant", 3, decide_all)),
        group.submit(insert("plain", 4)),
        group.submit(Together("grant", 5, decide_all)),
        return_exceptions=True,
    )
    assert outcomes[0] == 10 and outcomes[2] == 30 and outcomes[3] == 4 and outcomes[4] == 50
    assert isinstance(outcomes[1], Refused)
    assert calls == [[1, -2, 3], [5]]  # neighbours of one kind only, in order
    assert [v for _, v in storage.rows()] == [1, 3, 4, 5] and group.commits == 1


async def test_a_cancelled_caller_does_not_undo_its_change(storage: SqliteTransactions) -> None:
    group = commit_of(storage)
    task = asyncio.create_task(group.submit(insert("a", 1)))
    await asyncio.sleep(0)
    task.cancel()
    assert await group.submit(insert("a", 2)) == 2
    assert storage.rows() == [("a", 1), ("a", 2)]


async def test_close_finishes_what_is_queued_then_refuses(storage: SqliteTransactions) -> None:
    group = commit_of(storage)
    pending = [asyncio.create_task(group.submit(insert("a", v))) for v in range(5)]
    await asyncio.sleep(0)
    await group.close()
    assert [await p for p in pending] == list(range(5))
    with pytest.raises(RuntimeError, match="closed"):
        await group.submit(insert("a", 9))


async def test_after_commit_runs_once_per_batch(storage: SqliteTransactions) -> None:
    group = commit_of(storage)
    seen: list[int] = []
    group.after_commit(lambda: seen.append(len(storage.rows())))
    await asyncio.gather(*(group.submit(insert("a", v)) for v in range(3)))
    await group.submit(insert("a", 3))
    assert seen == [3, 4]


async def test_a_lone_change_on_fast_storage_runs_inline(storage: SqliteTransactions) -> None:
    group = commit_of(storage, Limits(inline_below_seconds=10.0))
    threads: list[bool] = []

    def where(tx: sqlite3.Connection) -> None:
        threads.append(threading.current_thread() is threading.main_thread())

    await group.submit(where)
    assert threads == [True]
    await asyncio.gather(group.submit(where), group.submit(where))
    assert threads[1:] == [False, False]  # a batch of two goes to the worker thread
