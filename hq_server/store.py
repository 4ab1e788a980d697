"""Storage behind one port: SQLAlchemy engines and the fenced unit of work.

Writes run one transaction at a time in a worker thread. Each write transaction first reads the
stored fencing token (locking its row on PostgreSQL, taking SQLite's write lock with BEGIN
IMMEDIATE) and refuses to go on unless it is this replica's own: a deposed leader cannot commit.

Concurrent async writes share one transaction (runtime.group_commit): at a period-start burst
thousands of branches ask at once, and one fsync per batch instead of one per grant is what
keeps up. Each use case runs in its own SAVEPOINT, so one refused request rolls back alone.

The schema comes from the Alembic migrations (hq_server/migrate.py), run when the Store opens.
On PostgreSQL (cluster mode) the exclusion constraint on grants is the last guard against an
overlap; its violation, like a lost connection, is turned into a domain error here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, PendingRollbackError

from allocator import OverlappingRange, Refused
from hq_server import migrate
from hq_server.schema import GRANTS_NO_OVERLAP, hq_settings, leadership
from runtime.driver_sql import DriverStatement
from runtime.errors import Fenced, NotLeader, Unavailable
from runtime.group_commit import GroupCommit, Together
from runtime.metrics import BatchObserver

T = TypeVar("T")
log = logging.getLogger("einv.hq.store")
LEADERSHIP_ROW = 1
HEAD_BAN_KEY = "head_ban"
EXCLUSION_VIOLATION = "23P01"  # PostgreSQL's SQLSTATE for an exclusion constraint
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE: lock_timeout ran out
OFFICE_LOCK_WAIT_MS = 3000
# The writers' sessions: a fence check (SELECT ... FOR UPDATE) or an update of the row takes
# these modes on the table; readers (health probes, followers) only take AccessShareLock.
STALE_WRITERS = text(
    "SELECT DISTINCT l.pid, pg_terminate_backend(l.pid) FROM pg_locks l "
    "JOIN pg_class c ON c.oid = l.relation "
    "WHERE c.relname = 'leadership' AND l.granted "
    "AND l.mode IN ('RowShareLock', 'RowExclusiveLock') AND l.pid <> pg_backend_pid()"
)
# psycopg prepares a statement run 5 times, and PostgreSQL would then keep one generic plan for
# it, made for the tables as they were: at a new HQ's first period-start burst the grants table
# is empty, and a sequential scan planned then served every later batch (its IN list of
# branches searched row by row: 400 ms a batch at 20,000 grants). Each run is planned instead.
PG_OPTIONS = "-c plan_cache_mode=force_custom_plan"
# A write transaction left open by a paused (SIGSTOP, VM freeze) ex-leader holds the fence row
# lock; PostgreSQL ends it after this idle time so the new leader can take office and write.
PG_WRITE_OPTIONS = f"{PG_OPTIONS} -c idle_in_transaction_session_timeout=5000 -c lock_timeout=10000"


class ForeignDatabase(Refused):
    """The database belongs to another HQ (another HeadBan)."""

    reason = "FOREIGN_DATABASE"


class StoreUnavailable(Unavailable):
    """The database could not be reached or dropped the transaction: retry later (UNAVAILABLE)."""


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

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # On the driver (runtime.driver_sql): every write transaction runs it.
        conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

    return engine


def make_engines(url: str) -> tuple[Engine, Engine]:
    """(write engine, read engine) for a database URL."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False)
    write = create_engine(url, pool_pre_ping=True, connect_args={"options": PG_WRITE_OPTIONS})
    return write, create_engine(url, pool_pre_ping=True, connect_args={"options": PG_OPTIONS})


class Store:
    """The HQ database: fenced writes, plain reads, both off the event loop."""

    def __init__(self, url: str, migrate_schema: bool = True) -> None:
        self.url = url
        # For logs and messages: the password never appears in a log line.
        self.safe_url = make_url(url).render_as_string(hide_password=True)
        self.write_engine, self.read_engine = make_engines(url)
        if migrate_schema:
            migrate.upgrade(self.write_engine)
        else:
            migrate.require_current(self.write_engine)
        self._write_lock = threading.Lock()
        self._transactions = StoreTransactions(self._write_lock, self.write_engine)
        self._batches = GroupCommit(
            self._transactions, lambda: StoreUnavailable("the HQ is shutting down")
        )

    def close(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()

    def observe_commits(self, observer: BatchObserver) -> None:
        """Metrics: each shared write transaction's size and seconds (hq_server.metrics)."""
        self._batches.observer = observer

    def write_sync(self, token: int, work: Callable[[Connection], T]) -> T:
        try:
            with self._transactions.begin(token) as conn:
                return work(conn)
        except DBAPIError as error:
            raise translate(error) from error

    def read_sync(self, work: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as conn:
            return work(conn)

    async def write(self, token: int, work: Callable[[Connection], T]) -> T:
        """Run `work` in a fenced transaction shared with the other writes queued meanwhile."""
        return await self._batches.submit(work, token)  # type: ignore[no-any-return]

    async def write_together(
        self,
        token: int,
        kind: Hashable,
        item: Any,
        work: Callable[[Connection, list[Any]], list[Any]],
    ) -> Any:
        """Like `write`, but `item` is decided with the other items of its `kind` queued beside
        it, by one call of `work` that reads their shared state once (runtime.group_commit)."""
        return await self._batches.submit(Together(kind, item, work), token)

    async def read(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self.read_sync, work)

    def claim_head_ban(self, head_ban: str) -> None:
        """The first start stores the HQ's BAN; a later start with another one is refused."""
        for _ in range(2):  # two replicas' first starts may race: the loser reads the winner's
            try:
                with self._write_lock, self.write_engine.begin() as conn:
                    row = conn.execute(
                        select(hq_settings.c.value).where(hq_settings.c.key == HEAD_BAN_KEY)
                    ).first()
                    if row is None:
                        conn.execute(insert(hq_settings).values(key=HEAD_BAN_KEY, value=head_ban))
                        return
            except IntegrityError:
                continue
            if row.value != head_ban:
                raise ForeignDatabase(
                    f"database {self.safe_url} belongs to HQ {row.value}, not {head_ban}: "
                    f"start with --head-ban {row.value}, or give this HQ a database of its own"
                )
            return

    def take_office(self, holder: str, now: datetime, token: int | None = None) -> int:
        """Store a new fencing token (the next one, or the coordinator's) and return it.

        On PostgreSQL, a fence row still locked after OFFICE_LOCK_WAIT belongs to a deposed
        writer (the caller won the election): its transaction is ended, never to commit, and
        the new term begins. PostgreSQL's idle timeout does that too, but only for a session
        that is idle; one a paused process left in the middle of a statement held the lock
        until that process woke up, and no replica could lead meanwhile.
        """
        try:
            return self._store_token(holder, now, token)
        except OperationalError as error:
            if sqlstate(error) != LOCK_NOT_AVAILABLE:
                raise
        ended = self._end_stale_writers()
        log.warning("took office past %d stale writer session(s), ended: %s", len(ended), ended)
        return self._store_token(holder, now, token)

    def _end_stale_writers(self) -> list[int]:
        """Backends holding a write lock on the fence row's table, terminated (same role)."""
        with self.write_engine.connect() as conn:
            found = conn.execute(STALE_WRITERS).all()
        return [pid for pid, _ in found]

    def _store_token(self, holder: str, now: datetime, token: int | None) -> int:
        with self._write_lock, self.write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL lock_timeout = {OFFICE_LOCK_WAIT_MS}"))
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


class StoreTransactions:
    """The HQ database as group commit's storage: fenced transactions, one token each."""

    def __init__(self, lock: threading.Lock, engine: Engine) -> None:
        self._lock = lock
        self._engine = engine

    @contextlib.contextmanager
    def begin(self, key: Hashable) -> Iterator[Connection]:
        """`key` is the fencing token the transaction writes under."""
        with self._lock, self._engine.begin() as conn:
            check_fence(conn, int(key))  # type: ignore[call-overload]
            yield conn

    def savepoint(self, tx: Connection) -> contextlib.AbstractContextManager[object]:
        return tx.begin_nested()

    def refusal(self, error: Exception) -> Exception | None:
        refused = translate(error)
        # A lost connection loses the transaction: the whole batch fails, none is committed.
        return None if isinstance(refused, StoreUnavailable) else refused

    def lost(self, error: Exception) -> Exception:
        return translate(error)


def translate(error: Exception) -> Exception:
    """Database errors as the domain's: an overlap the constraint refused, or retry later."""
    if isinstance(error, IntegrityError) and sqlstate(error) == EXCLUSION_VIOLATION:
        return OverlappingRange(f"the database refused an overlapping grant ({GRANTS_NO_OVERLAP})")
    if isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        return StoreUnavailable(f"the HQ database is unavailable: {error.orig}")
    if isinstance(error, PendingRollbackError):  # a connection lost earlier in this transaction
        return StoreUnavailable(f"the HQ database is unavailable: {error}")
    return error


def sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


# Built once: every write transaction runs it, and building a statement costs more than this one.
FENCE = DriverStatement(
    select(leadership.c.fencing_token, leadership.c.holder)
    .where(leadership.c.id == LEADERSHIP_ROW)
    .with_for_update()
)


def check_fence(conn: Connection, token: int) -> None:
    """Inside the transaction: the stored token must still be ours, or nothing is written."""
    row = FENCE.first(conn)
    if row is None or row.fencing_token != token:
        holder = row.holder if row else None
        raise Fenced(
            f"fenced: this replica's token {token} is not the stored one "
            f"({row.fencing_token if row else 'none'}); another HQ leads",
            leader=holder,
        )
