"""The MOF documents of the HQ: E0501 import, E0401/E0402 hand-off to Turnkey, deadlines.

The shell around mof_sync: rows become allocator values (records.py), allocator decides what is
blank, mof_sync writes, validates and tracks the documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from allocator import Ban, PoolKey, Refused, Track, TrackRange, blank_ranges, by_track
from hq_server import admin_ops
from hq_server.records import assigned_ranges, pool_grants, track_range, usage_by_branch
from hq_server.schema import assignments
from mof_sync import (
    MessageType,
    MigDocument,
    MigVersion,
    TurnkeyFolders,
    TurnkeyOutbox,
    blank_reports_due,
    build_e0401_set,
    build_e0402_set,
    expected_e0402_keys,
    read_e0501,
)


class TurnkeyNotConfigured(Refused):
    """No Turnkey data root was given to this HQ (einv-hq serve --turnkey-root)."""


@dataclass(frozen=True)
class ReportSettings:
    """Where documents go and when a missing final usage report stops being waited for."""

    turnkey_root: Path | None = None
    test_data: bool = False
    poll_seconds: float = 30.0  # how often the leader follows Turnkey's folders and results
    # Where Turnkey's Pack leaves <file>_<from>_<to>_<message id>_<n>: what ties a document to
    # the message id its result names (besides the UpCast BAK and ERR folders).
    pack_dirs: tuple[Path, ...] = ()
    outboxes: dict[str, TurnkeyOutbox] = field(default_factory=dict, compare=False)

    def outbox(self, engine: Engine) -> TurnkeyOutbox:
        if self.turnkey_root is None:
            raise TurnkeyNotConfigured("no Turnkey data root is configured (--turnkey-root)")
        key = str(self.turnkey_root)
        if key not in self.outboxes:
            folders = TurnkeyFolders(self.turnkey_root, pack_dirs=self.pack_dirs)
            self.outboxes[key] = TurnkeyOutbox(engine, folders)
        return self.outboxes[key]


def parse_e0501(
    head_ban: Ban, files: Sequence[tuple[str, bytes]], test_data: bool
) -> list[admin_ops.NewAssignment]:
    """Read and check every file first, outside any transaction: a bad one imports nothing."""
    return [
        admin_ops.NewAssignment(
            PoolKey(item.period, item.invoice_type),
            item.track_range,
            f"e0501:{name}",
            f"{name}: {item.path}",
        )
        for name, data in files
        for item in read_e0501(data, head_ban=head_ban, source=name, test_data=test_data)
    ]


@dataclass(frozen=True, slots=True)
class BlankSet:
    """What an ended period's E0402 set holds, and who is held back from it."""

    blanks: dict[tuple[Ban, Track], Any]
    held: list[str]


def close_for_blanks(
    conn: Connection, now: datetime, actor: str, head_ban: Ban, pool: PoolKey
) -> BlankSet:
    """Close an ended period (everything not issued is now blank) and compute its E0402 set."""
    pool.period.require_ended(now, "its E0402")
    admin_ops.close_period(conn, now, actor, pool)
    return blank_set(conn, head_ban, pool)


def blank_set(conn: Connection, head_ban: Ban, pool: PoolKey) -> BlankSet:
    """Blank ranges per (branch, track) of an ended period, without branches not yet final.

    A branch whose final usage report is missing is held back, never guessed.
    """
    rows = pool_grants(conn, pool)
    held = sorted({r.branch_ban for r in rows if not r.final})
    assigned = by_track(a.track_range for _, a in assigned_ranges(conn, pool))
    usage = usage_by_branch(conn, rows)
    blanks = blank_ranges(head_ban, assigned, usage)
    return BlankSet({k: v for k, v in blanks.items() if k[0].value not in held}, held)


def e0401_inputs(
    conn: Connection, pool: PoolKey
) -> tuple[list[TrackRange], dict[Ban, list[TrackRange]]]:
    rows = conn.execute(
        select(assignments)
        .where(assignments.c.year_month == pool.year_month)
        .where(assignments.c.invoice_type == pool.type_code)
    ).all()
    grants: dict[Ban, list[TrackRange]] = {}
    for row in pool_grants(conn, pool):
        grants.setdefault(Ban(row.branch_ban), []).append(track_range(row))
    return [track_range(r) for r in rows], grants


def build_documents(
    kind: MessageType,
    head_ban: Ban,
    pool: PoolKey,
    inputs: Any,
    version: MigVersion,
    revision: int,
    test_data: bool,
) -> list[MigDocument]:
    if kind is MessageType.E0401:
        assigned, grants = inputs
        return build_e0401_set(
            head_ban,
            pool.invoice_type,
            pool.period,
            assigned,
            grants,
            version=version,
            revision=revision,
            test_data=test_data,
        )
    return build_e0402_set(
        head_ban,
        pool.invoice_type,
        pool.period,
        inputs.blanks,
        version=version,
        revision=revision,
        test_data=test_data,
    )


def next_revision(outbox: TurnkeyOutbox, documents: Sequence[MigDocument]) -> int:
    return max((outbox.next_revision(d.key) for d in documents), default=0)


def deadlines(
    outbox: TurnkeyOutbox, head_ban: Ban, sets: Sequence[tuple[PoolKey, BlankSet]], now: datetime
) -> list[Any]:
    expected = [
        key
        for pool, blank in sets
        for key in expected_e0402_keys(head_ban, pool.invoice_type, pool.period, blank.blanks)
    ]
    return blank_reports_due(expected, outbox.documents(), now)
