"""An HQ database ready for a benchmark: the MOF ranges and the branches, before HQ starts.

Seeding runs in this process before the HQ starts (setup is not what is measured): the MOF
range through `admin_ops.add_assignments`, the branches in bulk with the rows
`admin_ops.add_branch` writes (one by one it takes about a millisecond each: 11 s for 10,000)
and one audit entry for them all. `seed_history` adds the periods before the current one, as
HQ keeps them once they are over, in bulk the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert, update

from allocator import (
    BOOKLET_SIZE,
    TAIPEI,
    Ban,
    InvoiceType,
    NumberRange,
    Period,
    PoolKey,
    Quota,
    RefillPolicy,
    Track,
    TrackRange,
)
from hq_server import audit
from hq_server.admin_ops import (
    BranchSettings,
    NewAssignment,
    add_assignments,
    quota_values,
    refill_values,
)
from hq_server.grant_batch import GrantRecord, record_values
from hq_server.records import Assignment
from hq_server.schema import assignments, branches, closed_periods, grants, skipped
from hq_server.store import Store
from mof_sync.documents import DocumentKey, MigDocument
from mof_sync.mig import DEFAULT_VERSION, MessageType
from mof_sync.store import document_row, documents
from mof_sync.tracking import DocState

TRACK = Track("AB")
POOL_RANGE = NumberRange(0, 9_999_999)  # 200,000 booklets: far more than any run takes
BRANCHES_PER_TRANSACTION = 1000
SEED_CACHE_KIB = 512 * 1024
HISTORY_INDEXES = (*grants.indexes, *documents.indexes)
HISTORY_PERIODS = 30  # five years of two-month periods
# A confirmed E0402 is never sent again, so its stored bytes are never read: a stand-in body
# keeps a history of millions of documents small on disk.
STAND_IN_XML = b"<BranchTrackBlank/>"


@dataclass(frozen=True, slots=True)
class BranchPlan:
    """The quota and refill settings every seeded branch gets."""

    per_request: int
    per_period: int
    low_water_count: int = 100
    min_booklets: int = 1

    def settings(self, ban: str) -> BranchSettings:
        refill = RefillPolicy(self.low_water_count, 1.0, self.min_booklets, self.per_request)
        return BranchSettings(f"bench {ban}", Quota(self.per_request, self.per_period), refill)


def current_period() -> Period:
    return Period.containing(datetime.now(TAIPEI))


def seed_hq(db_url: str, bans: Sequence[str], plan: BranchPlan) -> Period:
    """Migrate `db_url`, assign this period's (and the next's) pool, add the branches."""
    store = Store(db_url)
    try:
        now = datetime.now(UTC)
        token = store.take_office("bench-seed", now)
        period = current_period()
        whole = TrackRange(TRACK, POOL_RANGE)
        # The next period too: near a period's end the agents prefetch it.
        for when in (period, period.next()):
            pool = PoolKey(when, InvoiceType.GENERAL)
            store.write_sync(
                token,
                lambda c, p=pool: add_assignments(
                    c, now, "bench", [NewAssignment(p, whole, "bench")]
                ),
            )
        for start in range(0, len(bans), BRANCHES_PER_TRANSACTION):
            chunk = bans[start : start + BRANCHES_PER_TRANSACTION]
            store.write_sync(token, lambda c, chunk=chunk: _add_branches(c, now, chunk, plan))
        return period
    finally:
        store.close()


def _add_branches(conn: Connection, now: datetime, bans: Sequence[str], plan: BranchPlan) -> None:
    rows = [_branch_row(Ban.parse(ban), plan.settings(ban), now) for ban in bans]
    conn.execute(insert(branches), rows)
    audit.append(conn, now, "bench", "add_branches", count=len(rows), first=bans[0])


def _branch_row(ban: Ban, settings: BranchSettings, now: datetime) -> dict[str, object]:
    return {
        "ban": ban.value,
        "name": settings.name,
        "enabled": True,
        "emails": "[]",
        "config_version": 1,
        "created_at": now,
        **quota_values(settings.quota),
        **refill_values(settings.refill),
    }


@dataclass(frozen=True, slots=True)
class History:
    """What `seed_history` wrote, over every past period."""

    periods: int
    grants: int
    skipped: int
    documents: int


def seed_history(
    db_url: str, bans: Sequence[str], head_ban: str, periods: int = HISTORY_PERIODS
) -> History:
    """The `periods` periods before the current one (after `seed_hq`), each as HQ keeps it once
    over: one MOF range, a final grant of one booklet per branch used up to a point (every tenth
    with a skipped number), the period closed, and each branch's E0402 handed to the MOF and
    confirmed. One transaction per period, one audit entry for it."""
    store = Store(db_url)
    try:
        now = datetime.now(UTC)
        token = store.take_office("bench-seed", now)
        past = _periods_before(current_period(), periods)
        whole = TrackRange(TRACK, NumberRange(0, len(bans) * BOOKLET_SIZE - 1))
        new = [NewAssignment(PoolKey(p, InvoiceType.GENERAL), whole, "bench") for p in past]
        added, _ = store.write_sync(token, lambda c: add_assignments(c, now, "bench", new))
        # Built once at the end, sorted, instead of one random insertion per row and index.
        store.write_sync(token, lambda c: [index.drop(c) for index in HISTORY_INDEXES])
        made = [
            store.write_sync(token, lambda c, a=a: _past_period(c, now, token, a, bans, head_ban))
            for a in added
        ]
        store.write_sync(token, lambda c: [index.create(c) for index in HISTORY_INDEXES])
        return History(periods, *(sum(kind) for kind in zip(*made, strict=True)))
    finally:
        store.close()


def _periods_before(period: Period, count: int) -> list[Period]:
    past = []
    for _ in range(count):
        period = period.previous()
        past.append(period)
    return past


def _past_period(
    conn: Connection,
    now: datetime,
    token: int,
    assignment: Assignment,
    bans: Sequence[str],
    head_ban: str,
) -> tuple[int, int, int]:
    """Rows as HQ writes them: grants as grant_batch stores them, the closed_periods row of
    admin_ops.close_period (without its accounting, which reads every grant of the period: about
    0.5 s per 1,000 branches, minutes for 50,000 x 30), E0402s as the tracker keeps them."""
    if conn.dialect.name == "sqlite":  # the indexes of millions of rows: far past the 2 MB default
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SEED_CACHE_KIB}")
    pool = assignment.pool
    records = [_past_grant(assignment, i, ban, token) for i, ban in enumerate(bans)]
    skips = [{"grant_id": r.id, "begin": r.begin + 1, "end": r.begin + 1} for r in records[::10]]
    key = DocumentKey(
        MessageType.E0402, Ban(head_ban), Ban(bans[0]), pool.invoice_type, pool.period, TRACK
    )
    sent = document_row(MigDocument(key, DEFAULT_VERSION, 1, 1, 0, 1, STAND_IN_XML), now)
    sent["state"] = DocState.CONFIRMED.value
    first = f"_{bans[0]}_"  # each branch's name and key: the first one's with its own BAN
    bulk_insert(conn, grants, [record_values(r) for r in records])
    bulk_insert(conn, skipped, skips)
    bulk_insert(
        conn,
        documents,
        [
            sent
            | {
                "branch_ban": b,
                "name": sent["name"].replace(first, f"_{b}_"),
                "key": sent["key"].replace(first, f"_{b}_"),
            }
            for b in bans
        ],
    )
    conn.execute(
        update(assignments)
        .where(assignments.c.id == assignment.id)
        .values(granted_numbers=len(records) * BOOKLET_SIZE, granted_high=records[-1].end)
    )
    closed = {"closed_at": now, "closed_by": "bench"}
    conn.execute(
        insert(closed_periods).values(
            year_month=pool.year_month, invoice_type=pool.type_code, **closed
        )
    )
    audit.append(
        conn, now, "bench", "seed_history", year_month=pool.year_month, grants=len(records)
    )
    return len(records), len(skips), len(bans)


def _past_grant(assignment: Assignment, index: int, ban: str, token: int) -> GrantRecord:
    pool = assignment.pool
    begin = assignment.track_range.range.begin + index * BOOKLET_SIZE
    grant_id = f"bench-{pool.year_month}-{index:06d}"  # ascending: appended to the id index
    return GrantRecord(
        id=grant_id,
        request_id=grant_id,
        branch_ban=ban,
        assignment_id=assignment.id,
        year_month=pool.year_month,
        invoice_type=pool.type_code,
        track=assignment.track_range.track.code,
        begin=begin,
        end=begin + BOOKLET_SIZE - 1,
        booklets=1,
        granted_at=pool.period.start(),
        fencing_token=token,
        next_number=begin + BOOKLET_SIZE - index % 20,  # the last few numbers left blank
        final=True,
    )


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """`insert(table)` of `rows` as one executemany of the driver, each value bound as
    SQLAlchemy binds its column's type, once per distinct value (the values of a bulk load
    repeat): SQLAlchemy's own executemany binds every value of every row, and took as long as
    SQLite's inserts. Drivers with positional parameters only (SQLite's `?`)."""
    if not rows:
        return
    dialect = conn.dialect
    statement = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    if not statement.positional or statement.positiontup is None:
        raise ValueError(f"bulk_insert needs positional parameters, not {dialect.paramstyle}")
    names = statement.positiontup
    columns = list(zip(*map(itemgetter(*names), rows), strict=True))
    for i, name in enumerate(names):
        if process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect):
            columns[i] = tuple(map(_Binder(process), columns[i]))
    conn.exec_driver_sql(str(statement), list(zip(*columns, strict=True)))


class _Binder:
    """A column's bind processor, remembered per value."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        self._process = process
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        if value not in self._seen:
            self._seen[value] = self._process(value)
        return self._seen[value]
