"""An HQ database ready for a benchmark: the MOF ranges and the branches, before HQ starts.

Seeding runs in this process before the HQ starts (setup is not what is measured): the MOF
range through `admin_ops.add_assignments`, the branches in bulk with the rows
`admin_ops.add_branch` writes (one by one it takes about a millisecond each: 11 s for 10,000)
and one audit entry for them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert

from allocator import (
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
from hq_server.schema import branches
from hq_server.store import Store

TRACK = Track("AB")
POOL_RANGE = NumberRange(0, 9_999_999)  # 200,000 booklets: far more than any run takes
BRANCHES_PER_TRANSACTION = 1000


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
