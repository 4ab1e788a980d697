"""Granting ranges to many branches in one transaction: the period-start burst.

At 00:00 of a new period every store asks at once. Each request is decided by the allocator
(`booklets_allowed`, `plan_grant`) exactly as alone, in arrival order, but the state they need
(free runs, quotas, request ids) is read once for all the requests queued together in the
store's group commit (`Hq.write_together`), and their grants are written together.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from allocator import (
    Ban,
    DomainError,
    InvalidInput,
    NotFound,
    OverlappingRange,
    PeriodClosed,
    PeriodNotAssigned,
    PermissionDenied,
    PoolKey,
    RangeSet,
    TrackRange,
    booklets_allowed,
    branch_disabled,
    plan_grant,
)
from hq_server import audit
from hq_server.records import pool_free_runs, quota_of, track_range
from hq_server.schema import assignments, branches, closed_periods, grants

CHUNK = 500  # bound on the size of an IN (...) list


@dataclass(frozen=True, slots=True)
class RangeRequest:
    request_id: str
    branch: Ban
    pool: PoolKey
    booklets: int
    actor: str  # who asks, for the audit log: the authenticated branch


def require_open(conn: Connection, pool: PoolKey, now: datetime) -> None:
    pool.period.require_open(now)
    closed = conn.execute(
        select(closed_periods.c.closed_at)
        .where(closed_periods.c.year_month == pool.year_month)
        .where(closed_periods.c.invoice_type == pool.type_code)
    ).first()
    if closed is not None:
        raise PeriodClosed(f"period {pool.year_month} type {pool.type_code} is closed")


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


@dataclass
class PoolPlan:
    """One pool's free runs while a batch is decided; grants are taken out as they are made."""

    key: PoolKey
    runs: list[TrackRange]
    assignment_ids: dict[TrackRange, int]
    problem: DomainError | None = None
    branch_state: dict[str, tuple[int, TrackRange | None]] = field(default_factory=dict)

    def take(self, grant: TrackRange) -> int:
        """Remove the grant from its run; the id of the assigned range holding it."""
        for index, run in enumerate(self.runs):
            if run.track == grant.track and grant.range.begin in run.range:
                rest = RangeSet((run.range,)) - RangeSet((grant.range,))
                self.runs[index : index + 1] = [TrackRange(run.track, r) for r in rest]
                break
        return next(
            i
            for a, i in self.assignment_ids.items()
            if a.track == grant.track and grant.range.begin in a.range
        )


def request_ranges(
    conn: Connection, now: datetime, token: int, requests: Sequence[RangeRequest]
) -> list[GrantRecord | DomainError]:
    """Each request's grant (or the original one for a retried id), or why it was refused."""
    known = rows_by(conn, grants, grants.c.request_id, [r.request_id for r in requests])
    branch_rows = rows_by(conn, branches, branches.c.ban, [r.branch.value for r in requests])
    plans: dict[PoolKey, PoolPlan] = {}
    outcomes: list[GrantRecord | DomainError] = []
    made: list[GrantRecord] = []
    for req in requests:
        try:
            if req.request_id in known:
                outcomes.append(original(known[req.request_id], req))
                continue
            if req.pool not in plans:
                plans[req.pool] = load_plan(conn, now, req.pool, requests)
            record = decide(req, branch_rows, plans[req.pool], now, token)
        except DomainError as error:
            outcomes.append(error)
            continue
        known[req.request_id] = record
        made.append(record)
        outcomes.append(record)
    actors = {r.request_id: r.actor for r in requests}
    write(conn, now, made, actors)
    return outcomes


def rows_by(conn: Connection, table: Any, column: Any, values: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    unique = sorted(set(values))
    for start in range(0, len(unique), CHUNK):
        query = select(table).where(column.in_(unique[start : start + CHUNK]))
        found.update({getattr(row, column.name): row for row in conn.execute(query)})
    return found


def original(row: Any, req: RangeRequest) -> GrantRecord:
    """The grant a retried request id stands for; a retry must ask for the same pool."""
    if row.branch_ban != req.branch.value:
        raise PermissionDenied(f"request id {req.request_id!r} belongs to branch {row.branch_ban}")
    if (row.year_month, row.invoice_type) != (req.pool.year_month, req.pool.type_code):
        raise InvalidInput(
            f"request id {req.request_id!r} was already used for period {row.year_month} type "
            f"{row.invoice_type}; a retry must ask for the same (a new request needs a new id)"
        )
    return GrantRecord.stored(row)


def load_plan(
    conn: Connection, now: datetime, pool: PoolKey, requests: Sequence[RangeRequest]
) -> PoolPlan:
    rows = conn.execute(
        select(assignments.c.id, assignments.c.track, assignments.c.begin, assignments.c.end)
        .where(assignments.c.year_month == pool.year_month)
        .where(assignments.c.invoice_type == pool.type_code)
    ).all()
    plan = PoolPlan(pool, pool_free_runs(conn, pool), {track_range(r): r.id for r in rows})
    try:
        require_open(conn, pool, now)
        if not rows:
            raise PeriodNotAssigned(
                f"period {pool.year_month} type {pool.type_code} has no assignment yet"
            )
    except DomainError as error:
        plan.problem = error
    bans = sorted({r.branch.value for r in requests if r.pool == pool})
    plan.branch_state = branch_states(conn, pool, bans)
    return plan


def branch_states(
    conn: Connection, pool: PoolKey, bans: list[str]
) -> dict[str, tuple[int, TrackRange | None]]:
    """Per branch: booklets granted in the pool, and its latest grant."""
    states: dict[str, tuple[int, TrackRange | None]] = {}
    for start in range(0, len(bans), CHUNK):
        rows = conn.execute(
            select(
                grants.c.branch_ban, grants.c.booklets, grants.c.track, grants.c.begin, grants.c.end
            )
            .where(grants.c.year_month == pool.year_month)
            .where(grants.c.invoice_type == pool.type_code)
            .where(grants.c.branch_ban.in_(bans[start : start + CHUNK]))
            .order_by(grants.c.granted_at, grants.c.track, grants.c.begin)
        )
        for row in rows:
            booklets, _ = states.get(row.branch_ban, (0, None))
            states[row.branch_ban] = (booklets + row.booklets, track_range(row))
    return states


def decide(
    req: RangeRequest, branch_rows: dict[str, Any], plan: PoolPlan, now: datetime, token: int
) -> GrantRecord:
    """The allocator's decision for one request against the batch's current state."""
    branch = branch_rows.get(req.branch.value)
    if branch is None:
        raise NotFound(f"branch {req.branch} is not registered at this HQ")
    if not branch.enabled:
        raise branch_disabled(req.branch)
    if plan.problem is not None:
        raise plan.problem
    granted, current = plan.branch_state.get(req.branch.value, (0, None))
    booklets = booklets_allowed(req.booklets, quota_of(branch), granted)
    grant = plan_grant(plan.runs, current, booklets)
    assignment_id = plan.take(grant)
    plan.branch_state[req.branch.value] = (granted + grant.range.booklets, grant)
    return GrantRecord(
        id=str(uuid.uuid4()),
        request_id=req.request_id,
        branch_ban=req.branch.value,
        assignment_id=assignment_id,
        year_month=req.pool.year_month,
        invoice_type=req.pool.type_code,
        track=grant.track.code,
        begin=grant.range.begin,
        end=grant.range.end,
        booklets=grant.range.booklets,
        granted_at=now,
        fencing_token=token,
        next_number=grant.range.begin,
    )


def write(conn: Connection, now: datetime, made: list[GrantRecord], actors: dict[str, str]) -> None:
    """Store the batch's grants, after checking none overlaps a stored one."""
    if not made:
        return
    check_no_overlap(conn, made)
    conn.execute(insert(grants), [record_values(r) for r in made])
    for assignment_id, items in group_by_assignment(made).items():
        high = max(r.end for r in items)
        conn.execute(
            update(assignments)
            .where(assignments.c.id == assignment_id)
            .values(
                granted_numbers=assignments.c.granted_numbers
                + sum(r.end - r.begin + 1 for r in items),
                granted_high=greatest(conn, func.coalesce(assignments.c.granted_high, -1), high),
            )
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


def greatest(conn: Connection, a: Any, b: Any) -> Any:
    return func.max(a, b) if conn.dialect.name == "sqlite" else func.greatest(a, b)


def check_no_overlap(conn: Connection, made: list[GrantRecord]) -> None:
    """The database-side guard, one query per pool and track the batch touched.

    (PostgreSQL also enforces it with an exclusion constraint; SQLite relies on this check.)
    """
    spans: dict[tuple[str, str], list[GrantRecord]] = {}
    for r in made:
        spans.setdefault((r.year_month, r.track), []).append(r)
    for (year_month, track), items in spans.items():
        low, high = min(r.begin for r in items), max(r.end for r in items)
        stored = conn.execute(
            select(grants.c.id, grants.c.branch_ban, grants.c.begin, grants.c.end)
            .where(grants.c.year_month == year_month)
            .where(grants.c.track == track)
            .where(grants.c.begin <= high)
            .where(grants.c.end >= low)
        ).all()
        everything = sorted(
            [(s.begin, s.end, s.id) for s in stored] + [(r.begin, r.end, r.id) for r in items]
        )
        for (b1, e1, id1), (b2, e2, id2) in itertools.pairwise(everything):
            if b2 <= e1:
                raise OverlappingRange(
                    f"grant {track}{b2:08d}-{track}{e2:08d} ({id2}) overlaps "
                    f"{track}{b1:08d}-{track}{e1:08d} ({id1})"
                )
