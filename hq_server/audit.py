"""The append-only, hash-chained audit log: written in the same transaction as the change."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from hq_server.schema import audit
from runtime.driver_sql import DriverStatement

GENESIS = "0" * 64


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, details: str
) -> str:
    stamp = at.astimezone(UTC).isoformat()
    body = json.dumps([prev_hash, seq, stamp, actor, action, details], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def append(conn: Connection, at: datetime, actor: str, action: str, **details: Any) -> int:
    """Add one entry after the last; callers hold the write lock (the fenced transaction)."""
    return append_many(conn, at, [(actor, action, details)])


def append_many(
    conn: Connection, at: datetime, entries: Sequence[tuple[str, str, dict[str, Any]]]
) -> int:
    """Add entries in order, chained after the last one, in one statement; returns the last seq."""
    last = LAST_ENTRY.first(conn)
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    rows = []
    for actor, action, details in entries:
        seq += 1
        who = actor or "unknown"
        text = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
        digest = entry_hash(prev, seq, at, who, action, text)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": who,
                "action": action,
                "details_json": text,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    ADD_ENTRIES.execute_many(conn, rows)
    return seq


# Every grant appends: run on the driver (runtime.driver_sql).
LAST_ENTRY = DriverStatement(
    select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)
)
ADD_ENTRIES = DriverStatement.insert(
    audit, ["seq", "at", "actor", "action", "details_json", "prev_hash", "hash"]
)


def chain_ok(rows: Sequence[Row[Any]]) -> bool:
    """Each entry's hash is right and links to the one before it."""
    for before, row in itertools.pairwise([None, *rows]):
        if before is not None and row.prev_hash != before.hash:
            return False
        expected = entry_hash(
            row.prev_hash, row.seq, row.at, row.actor, row.action, row.details_json
        )
        if row.hash != expected:
            return False
    return True
