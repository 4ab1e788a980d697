"""The ledger file: one branch, one running agent, and the database's own guard on duplicates."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from branch_agent.errors import LedgerLocked, LedgerMismatch
from branch_agent.ledger.store import LEDGER_FILE, Ledger, Tx
from tests.branch_agent.conftest import BAN, Pos, StartAgent, ready
from tests.conftest import BRANCH_BANS


def test_a_data_dir_serves_one_branch_and_one_agent_at_a_time(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path, BAN)
    with pytest.raises(LedgerLocked):
        Ledger.open(tmp_path, BAN)
    ledger.close()
    with pytest.raises(LedgerMismatch, match=BAN):
        Ledger.open(tmp_path, BRANCH_BANS[0])
    Ledger.open(tmp_path, BAN).close()  # the refused open left no lock behind


async def test_the_database_refuses_a_number_twice(
    start_agent: StartAgent, pos_for: Callable[..., Pos]
) -> None:
    agent = await start_agent()
    await ready(agent)
    (number,) = await pos_for(agent).next()
    with sqlite3.connect(agent.settings.data_dir / LEDGER_FILE) as conn:
        row = conn.execute("SELECT * FROM issued").fetchone()
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute("INSERT INTO issued VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (None, *row[1:]))
    assert number.endswith(f"{row[4]:08d}")


async def test_a_failed_commit_issues_nothing_and_the_next_call_recovers(
    start_agent: StartAgent, pos_for: Callable[..., Pos], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await start_agent()
    await ready(agent)
    pos = pos_for(agent)
    (first,) = await pos.next()
    ledger = agent.parts.ledger
    real_transaction = ledger.transaction

    @contextmanager
    def disk_full() -> Iterator[Tx]:
        with real_transaction() as tx:
            yield tx
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ledger, "transaction", disk_full)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pos.next()
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "disk is full" in (caught.value.details() or "")
    monkeypatch.setattr(ledger, "transaction", real_transaction)
    (second,) = await pos.next()
    assert int(second[2:]) == int(first[2:]) + 1  # the failed batch's number comes again
    assert ledger.issued_numbers() == [first, second]
