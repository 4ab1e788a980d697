"""Taking office on PostgreSQL past a deposed writer whose session still holds the fence row."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import psycopg
import pytest

from hq_server.store import Store
from runtime.errors import Fenced

pytestmark = pytest.mark.cluster
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_new_leader_ends_the_session_that_holds_the_fence_row(pg_url: str) -> None:
    store = Store(pg_url)
    try:
        old = store.take_office("old", NOW)
        # A deposed leader's write transaction, frozen with the fence row locked; no idle
        # timeout on this session (as when PostgreSQL sees it busy in a statement).
        stale = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
        stale.execute("SELECT fencing_token FROM leadership WHERE id = 1 FOR UPDATE")
        done: list[int] = []
        taking = threading.Thread(target=lambda: done.append(store.take_office("new", NOW)))
        taking.start()
        taking.join(timeout=60)
        assert done == [old + 1]  # in office, without waiting for the stale session to wake
        with pytest.raises(psycopg.OperationalError):
            stale.execute("SELECT 1")  # its transaction was ended: it never commits
        with pytest.raises(Fenced):
            store.write_sync(old, lambda conn: None)
        store.write_sync(old + 1, lambda conn: None)
    finally:
        store.close()
