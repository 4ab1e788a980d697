"""Granting ranges to many branches in one transaction: the period-start burst.

At 00:00 of a new period every store asks at once. The state the requests queued together in
the store's group commit (`Hq.write_together`) need (branches, free runs, holdings, request ids)
is read once, the allocator decides them all in arrival order (`plan_grants`), and their grants
are written together. This module only reads, writes and names the grants.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select, update

from allocator import (
    Ask,
    Ban,
    BatchSnapshot,
    BranchGrants,
    BranchSnapshot,
    DomainError,
    Outcome,
    OverlappingRange,
    Owner,
    Planned,
    PoolKey,
    PoolSnapshot,
    Replay,
    plan_grants,
)
from hq_server import audit
from hq_server.queries import is_closed
from hq_server.records import assignment_rows, pool_free_runs, pool_of, quota_of, track_range
from hq_server.schema import assignments, branches, grants
from runtime.driver_sql import DriverStatement
from runtime.in_lists import in_batches


@dataclass(frozen=True, slots=True)
class RangeRequest:
    request_id: str
    branch: Ban
    pool: PoolKey
    booklets: int
    actor: str  # who asks, for the audit log: the authenticated branch

    @property
    def ask(self) -> Ask:
        return Ask(self.request_id, self.branch, self.pool, self.booklets)


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A grant as stored: what the branch API answers with."""

    id: str
    request_id: str
    branch_ban: str
    assignment_id: int
    year_month: str
    invoice_type: str
    track: str
    begin: int
    end: int
    booklets: int
    granted_at: datetime
    fencing_token: int
    next_number: int
    final: bool = False
    replayed: bool = False  # the answer to a retried request id (not stored)

    @classmethod
    def stored(cls, row: Any) -> GrantRecord:
        return cls(**{name: getattr(row, name) for name in STORED}, replayed=True)


STORED = [name for name in GrantRecord.__dataclass_fields__ if name != "replayed"]


def request_ranges(
    conn: Connection, now: datetime, token: int, requests: Sequence[RangeRequest]
) -> list[GrantRecord | DomainError]:
    """Each request's grant (or the original one for a retried id), or why it was refused."""
    stored = rows_by(conn, GRANTS_BY_REQUEST, "request_id", [r.request_id for r in requests])
    planned = plan_grants(load_batch(conn, requests, stored), [r.ask for r in requests], now)
    outcomes = as_records(requests, planned, stored, now, token)
    made = [o for o in outcomes if isinstance(o, GrantRecord) and not o.replayed]
    write(conn, now, made, {r.request_id: r.actor for r in requests})
    return outcomes


def as_records(
    requests: Sequence[RangeRequest],
    planned: list[Outcome],
    stored: dict[str, Any],
    now: datetime,
    token: int,
) -> list[GrantRecord | DomainError]:
    """The planner's outcomes as records: a new grant gets its id and time here."""
    known = dict(stored)
    outcomes: list[GrantRecord | DomainError] = []
    for req, outcome in zip(requests, planned, strict=True):
        if isinstance(outcome, Planned):
            known[req.request_id] = record = new_record(req, outcome, now, token)
            outcomes.append(record)
        elif isinstance(outcome, Replay):
            outcomes.append(GrantRecord.stored(known[outcome.request_id]))
        else:
            outcomes.append(outcome)
    return outcomes


def rows_by(
    conn: Connection, statement: DriverStatement, key: str, values: list[str]
) -> dict[str, Any]:
    """The rows `statement` finds for `values` (its expanding `keys`), by their column `key`."""
    found: dict[str, Any] = {}
    for part in in_batches(sorted(set(values))):
        found.update({getattr(row, key): row for row in statement.rows(conn, {"keys": part})})
    return found


def load_batch(
    conn: Connection, requests: Sequence[RangeRequest], stored: dict[str, Any]
) -> BatchSnapshot:
    """What the planner needs, read once: the branches, the pools of new requests, retried ids."""
    rows = rows_by(conn, BRANCHES_ASKING, "ban", [r.branch.value for r in requests])
    registered = {r.branch: rows[r.branch.value] for r in requests if r.branch.value in rows}
    asking: dict[PoolKey, set[str]] = {}
    for r in requests:
        if r.request_id not in stored:
            asking.setdefault(r.pool, set()).add(r.branch.value)
    return BatchSnapshot(
        branches={b: BranchSnapshot(row.enabled, quota_of(row)) for b, row in registered.items()},
        pools={pool: load_pool(conn, pool, sorted(bans)) for pool, bans in asking.items()},
        granted={rid: Owner(Ban(row.branch_ban), pool_of(row)) for rid, row in stored.items()},
    )


def load_pool(conn: Connection, pool: PoolKey, bans: list[str]) -> PoolSnapshot:
    rows = assignment_rows(conn, pool)
    return PoolSnapshot(
        free=tuple(pool_free_runs(conn, rows)),
        assigned=tuple((track_range(r), r.id) for r in rows),
        held=branch_grants(conn, pool, bans),
        closed=is_closed(conn, pool),
    )


def branch_grants(conn: Connection, pool: PoolKey, bans: list[str]) -> dict[Ban, BranchGrants]:
    """Per branch: booklets granted in the pool, and its latest grant."""
    held: dict[Ban, BranchGrants] = {}
    for part in in_batches(bans):
        rows = HELD_IN_POOL.rows(
            conn, {"year_month": pool.year_month, "type": pool.type_code, "bans": part}
        )
        for row in rows:
            ban = Ban(row.branch_ban)
            booklets = held.get(ban, BranchGrants()).booklets
            held[ban] = BranchGrants(booklets + row.booklets, track_range(row))
    return held


def new_record(req: RangeRequest, planned: Planned, now: datetime, token: int) -> GrantRecord:
    grant = planned.grant
    return GrantRecord(
        id=str(uuid.uuid4()),
        request_id=req.request_id,
        branch_ban=req.branch.value,
        assignment_id=planned.assignment_id,
        year_month=req.pool.year_month,
        invoice_type=req.pool.type_code,
        track=grant.track.code,
        begin=grant.range.begin,
        end=grant.range.end,
        booklets=planned.booklets,
        granted_at=now,
        fencing_token=token,
        next_number=grant.range.begin,
    )


def write(conn: Connection, now: datetime, made: list[GrantRecord], actors: dict[str, str]) -> None:
    """Store the batch's grants, after checking none overlaps a stored one."""
    if not made:
        return
    check_no_overlap(conn, made)
    ADD_GRANTS.execute_many(conn, [record_values(r) for r in made])
    GRANTED_FROM.execute_many(
        conn,
        [
            {
                "assignment": assignment_id,
                "added": sum(r.end - r.begin + 1 for r in items),
                "high": max(r.end for r in items),
            }
            for assignment_id, items in group_by_assignment(made).items()
        ],
    )
    audit.append_many(
        conn,
        now,
        [
            (
                actors[r.request_id],
                "grant",
                {
                    "grant_id": r.id,
                    "request_id": r.request_id,
                    "year_month": r.year_month,
                    "invoice_type": r.invoice_type,
                    "range": str(track_range(r)),
                    "booklets": r.booklets,
                    "fencing_token": r.fencing_token,
                },
            )
            for r in made
        ],
    )


def record_values(record: GrantRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in STORED}


def group_by_assignment(made: list[GrantRecord]) -> dict[int, list[GrantRecord]]:
    groups: dict[int, list[GrantRecord]] = {}
    for record in made:
        groups.setdefault(record.assignment_id, []).append(record)
    return groups


def check_no_overlap(conn: Connection, made: list[GrantRecord]) -> None:
    """The database-side guard, one query per pool and track the batch touched.

    (PostgreSQL also enforces it with an exclusion constraint; SQLite relies on this check.)
    """
    spans: dict[tuple[str, str], list[GrantRecord]] = {}
    for r in made:
        spans.setdefault((r.year_month, r.track), []).append(r)
    for (year_month, track), items in spans.items():
        low, high = min(r.begin for r in items), max(r.end for r in items)
        stored = OVERLAPPING.rows(
            conn, {"year_month": year_month, "track": track, "low": low, "high": high}
        )
        everything = sorted(
            [(s.begin, s.end, s.id) for s in stored] + [(r.begin, r.end, r.id) for r in items]
        )
        for (b1, e1, id1), (b2, e2, id2) in itertools.pairwise(everything):
            if b2 <= e1:
                raise OverlappingRange(
                    f"grant {track}{b2:08d}-{track}{e2:08d} ({id2}) overlaps "
                    f"{track}{b1:08d}-{track}{e1:08d} ({id1})"
                )


# The statements of the grant path, built once and run on the driver (runtime.driver_sql).
GRANTS_BY_REQUEST = DriverStatement(
    select(grants).where(grants.c.request_id.in_(bindparam("keys", expanding=True)))
)
BRANCHES_ASKING = DriverStatement(
    select(
        branches.c.ban,
        branches.c.enabled,
        branches.c.booklets_per_request,
        branches.c.booklets_per_period,
    ).where(branches.c.ban.in_(bindparam("keys", expanding=True)))
)
HELD_IN_POOL = DriverStatement(
    select(grants.c.branch_ban, grants.c.booklets, grants.c.track, grants.c.begin, grants.c.end)
    .where(grants.c.year_month == bindparam("year_month"))
    .where(grants.c.invoice_type == bindparam("type"))
    .where(grants.c.branch_ban.in_(bindparam("bans", expanding=True)))
    .order_by(grants.c.granted_at, grants.c.track, grants.c.begin)
)
OVERLAPPING = DriverStatement(
    select(grants.c.id, grants.c.branch_ban, grants.c.begin, grants.c.end)
    .where(grants.c.year_month == bindparam("year_month"))
    .where(grants.c.track == bindparam("track"))
    .where(grants.c.begin <= bindparam("high"))
    .where(grants.c.end >= bindparam("low"))
)
ADD_GRANTS = DriverStatement.insert(grants, STORED)
_HIGH = func.coalesce(assignments.c.granted_high, -1)
GRANTED_FROM = DriverStatement(  # an assigned range's count and highest number of its grants
    update(assignments)
    .where(assignments.c.id == bindparam("assignment"))
    .values(
        granted_numbers=assignments.c.granted_numbers + bindparam("added"),
        # greatest() on PostgreSQL is max() on SQLite: a CASE is the same on both
        granted_high=case((bindparam("high") < _HIGH, _HIGH), else_=bindparam("high")),
    )
)
