"""The agent's durable ledger: stdlib sqlite3, WAL, synchronous=FULL, one file in the data dir.

Everything the agent must not forget is here: the grants it holds, every number it handed to a
POS (durable before the reply), skipped numbers, range requests not yet answered (written before
the RPC goes out), POS request ids for idempotent retries, and HQ's last configuration.

One connection, guarded by a lock: the writer task commits its batches through it from a worker
thread and the refill/report tasks make small transactions of their own.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from allocator import (
    Holding,
    InvoiceNumber,
    InvoiceType,
    NumberRange,
    Period,
    RangeSet,
    Track,
    TrackRange,
)
from branch_agent.errors import LedgerLocked, LedgerMismatch
from branch_agent.ledger.schema import (
    ISSUED_NUMBERS_SQL,
    LEDGER_FILE,
    LOCK_FILE,
    SCHEMA,
    SCHEMA_VERSION,
    iso,
)
from branch_agent.ledger.tx import IssuedRow, PosRequestRow, Tx, load_config
from branch_agent.model import AgentConfig, GrantUsageRow, HeldGrant, PendingRequest

__all__ = [
    "LEDGER_FILE",
    "IssuedRow",
    "Ledger",
    "LedgerSnapshot",
    "PosRequestRow",
    "Tx",
    "issued_numbers",
]


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """What the in-memory buffer is rebuilt from at start-up (and after a failed commit)."""

    grants: tuple[HeldGrant, ...]
    last_issued: dict[InvoiceType, InvoiceNumber]
    config: AgentConfig
    issued_total: int


class Ledger:
    """The ledger file of one branch. Methods block: call them from a worker thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection, owner: TextIO) -> None:
        self.path = path
        self._conn = conn
        self._owner = owner
        self._lock = threading.RLock()
        self.commits = 0

    @classmethod
    def open(cls, data_dir: Path, branch_ban: str) -> Ledger:
        """Open (or create) the ledger; a data dir belongs to one branch for good.

        Two agents on one ledger would hand out the same numbers, so the data dir is locked
        (flock, released by the OS even after kill -9) for as long as the ledger is open.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        owner = _lock_dir(data_dir)
        path = data_dir / LEDGER_FILE
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        ledger = cls(path, conn, owner)
        try:
            ledger._claim(branch_ban)
        except LedgerMismatch:
            ledger.close()
            raise
        return ledger

    def _claim(self, branch_ban: str) -> None:
        with self.transaction() as tx:
            tx.conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('branch_ban', ?), ('schema_version', ?)",
                (branch_ban, SCHEMA_VERSION),
            )
            (owner,) = tx.conn.execute("SELECT value FROM meta WHERE key='branch_ban'").fetchone()
        if owner != branch_ban:
            raise LedgerMismatch(
                f"ledger {self.path} belongs to branch {owner}, not {branch_ban}: "
                "use another --data directory"
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self._owner.close()  # releases the data dir's lock

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One durable transaction: committed (fsync) on exit, rolled back on an exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self.commits += 1

    def load(self) -> LedgerSnapshot:
        with self._lock:
            rows = self._conn.execute(
                "SELECT grant_id, seq, year_month, invoice_type, track, begin_no, end_no, "
                "next_number, high_water, final FROM grants ORDER BY seq"
            ).fetchall()
            grants = tuple(_held_grant(row) for row in rows)
            last = {t: n for t in InvoiceType if (n := Tx(self._conn).last_issued(t)) is not None}
            (total,) = self._conn.execute("SELECT count(*) FROM issued").fetchone()
            config = load_config(self._conn)
        return LedgerSnapshot(grants, last, config, total)

    # --- range requests: written before the RPC, removed with the grant ---

    def pending_request(self, period: Period, invoice_type: InvoiceType) -> PendingRequest | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT request_id, booklets, created_at FROM pending_requests "
                "WHERE year_month=? AND invoice_type=?",
                (period.to_year_month(), invoice_type.value),
            ).fetchone()
        if row is None:
            return None
        created = datetime.fromisoformat(row[2])
        return PendingRequest(row[0], period, invoice_type, row[1], created)

    def pending_requests(self) -> list[PendingRequest]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT request_id, year_month, invoice_type, booklets, created_at "
                "FROM pending_requests ORDER BY created_at"
            ).fetchall()
        return [
            PendingRequest(
                rid, Period.from_year_month(ym), InvoiceType.parse(t), n, datetime.fromisoformat(at)
            )
            for rid, ym, t, n, at in rows
        ]

    def add_pending_request(self, pending: PendingRequest) -> None:
        with self.transaction() as tx:
            tx.conn.execute(
                "INSERT INTO pending_requests VALUES (?, ?, ?, ?, ?)",
                (
                    pending.request_id,
                    pending.period.to_year_month(),
                    pending.invoice_type.value,
                    pending.booklets,
                    iso(pending.created_at),
                ),
            )

    def drop_pending_request(self, request_id: str) -> None:
        with self.transaction() as tx:
            tx.conn.execute("DELETE FROM pending_requests WHERE request_id=?", (request_id,))

    # --- the usage-report outbox ---

    def unreported(self, limit: int = 500, after_seq: int = 0) -> list[GrantUsageRow]:
        """Grants whose state changed since HQ last acknowledged it, in grant order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT grant_id, high_water, final, version, seq FROM grants "
                "WHERE version > reported_version AND seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
            return [
                GrantUsageRow(gid, high, self._skipped_spans(gid), bool(final), version, seq)
                for gid, high, final, version, seq in rows
            ]

    def _skipped_spans(self, grant_id: str) -> tuple[tuple[int, int], ...]:
        numbers = self._conn.execute(
            "SELECT number FROM skipped WHERE grant_id=? ORDER BY number", (grant_id,)
        ).fetchall()
        spans = RangeSet.of(NumberRange(n, n) for (n,) in numbers)
        return tuple((span.begin, span.end) for span in spans)

    def mark_reported(self, acked: Sequence[tuple[str, int]]) -> None:
        """HQ acknowledged these versions; a later change (higher version) stays pending."""
        with self.transaction() as tx:
            tx.conn.executemany(
                "UPDATE grants SET reported_version = max(reported_version, ?) WHERE grant_id=?",
                [(version, gid) for gid, version in acked],
            )

    def reports_pending(self) -> int:
        with self._lock:
            (count,) = self._conn.execute(
                "SELECT count(*) FROM grants WHERE version > reported_version"
            ).fetchone()
        return int(count)

    def prune_pos_requests(self, before: datetime) -> int:
        """Idempotency keys only matter for retries: forget the old ones."""
        with self.transaction() as tx:
            cursor = tx.conn.execute(
                "DELETE FROM pos_requests WHERE created_at < ?", (iso(before),)
            )
            return cursor.rowcount

    def issued_numbers(self) -> list[str]:
        """Every number handed out and not given back, in issue order (for checks and tests)."""
        with self._lock:
            return [row[2] for row in self._conn.execute(ISSUED_NUMBERS_SQL)]


def _lock_dir(data_dir: Path) -> TextIO:
    owner = open(data_dir / LOCK_FILE, "a+")  # noqa: SIM115 (held open while the ledger is)
    try:
        fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner.close()
        raise LedgerLocked(
            f"{data_dir} is in use by another agent: one data dir, one running agent"
        ) from None
    return owner


def _held_grant(row: tuple) -> HeldGrant:
    gid, seq, ym, itype, track, begin, end, next_number, high_water, final = row
    tr = TrackRange(Track(track), NumberRange(begin, end))
    holding = Holding(gid, Period.from_year_month(ym), InvoiceType.parse(itype), tr, next_number)
    return HeldGrant(holding, seq, high_water, bool(final))


def issued_numbers(data_dir: Path) -> list[tuple[str, str, str]]:
    """(year_month, invoice_type, invoice_number) of every number in a branch's ledger.

    Opens the file directly (WAL lets this run while the agent serves); for duplicate checks
    across branches, union the lists of every agent's data dir.
    """
    conn = sqlite3.connect(data_dir / LEDGER_FILE)
    try:
        return [tuple(row) for row in conn.execute(ISSUED_NUMBERS_SQL)]
    finally:
        conn.close()
