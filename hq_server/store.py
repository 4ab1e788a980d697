"""Storage behind one port: SQLAlchemy engines and the fenced unit of work.

Writes run one transaction at a time in a worker thread. Each write transaction first reads the
stored fencing token (locking its row on PostgreSQL, taking SQLite's write lock with BEGIN
IMMEDIATE) and refuses to go on unless it is this replica's own: a deposed leader cannot commit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, update
from sqlalchemy.engine import make_url

from allocator import NotLeader
from hq_server.schema import leadership, metadata

T = TypeVar("T")
LEADERSHIP_ROW = 1


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a grant is on disk before the reply
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engines(url: str) -> tuple[Engine, Engine]:
    """(write engine, read engine) for a database URL."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False)
    engine = create_engine(url, pool_pre_ping=True)
    return engine, engine


class Store:
    """The HQ database: fenced writes, plain reads, both off the event loop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.write_engine, self.read_engine = make_engines(url)
        metadata.create_all(self.write_engine)
        self._write_lock = threading.Lock()

    def close(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()

    def write_sync(self, token: int, work: Callable[[Connection], T]) -> T:
        with self._write_lock, self.write_engine.begin() as conn:
            check_fence(conn, token)
            return work(conn)

    def read_sync(self, work: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as conn:
            return work(conn)

    async def write(self, token: int, work: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self.write_sync, token, work)

    async def read(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self.read_sync, work)

    def take_office(self, holder: str, now: datetime, token: int | None = None) -> int:
        """Store a new fencing token (the next one, or the coordinator's) and return it."""
        with self._write_lock, self.write_engine.begin() as conn:
            row = conn.execute(
                select(leadership.c.fencing_token)
                .where(leadership.c.id == LEADERSHIP_ROW)
                .with_for_update()
            ).first()
            current = row.fencing_token if row else 0
            new = current + 1 if token is None else token
            if new <= current:
                raise NotLeader(f"fencing token {new} is not newer than the stored {current}")
            values = {"fencing_token": new, "holder": holder, "since": now}
            if row is None:
                conn.execute(insert(leadership).values(id=LEADERSHIP_ROW, **values))
            else:
                conn.execute(
                    update(leadership).where(leadership.c.id == LEADERSHIP_ROW).values(**values)
                )
            return new


def check_fence(conn: Connection, token: int) -> None:
    """Inside the transaction: the stored token must still be ours, or nothing is written."""
    row = conn.execute(
        select(leadership.c.fencing_token, leadership.c.holder)
        .where(leadership.c.id == LEADERSHIP_ROW)
        .with_for_update()
    ).first()
    if row is None or row.fencing_token != token:
        holder = row.holder if row else None
        raise NotLeader(
            f"fenced: this replica's token {token} is not the stored one "
            f"({row.fencing_token if row else 'none'}); another HQ leads",
            leader=holder,
        )
