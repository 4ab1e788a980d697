"""Use cases of the admin API that change state; each one writes its audit entry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from allocator import (
    AlreadyExists,
    Ban,
    BranchUsage,
    InvalidInput,
    NotFound,
    OverlappingRange,
    PoolKey,
    Quota,
    RangeStatus,
    RefillPolicy,
    Refused,
    TrackRange,
    account,
    by_track,
    first_overlap,
)
from hq_server import audit
from hq_server.records import (
    Assignment,
    Branch,
    assigned_ranges,
    assignment_of,
    branch_row,
    load_branch,
    pool_grants,
    track_range,
    usage_by_branch,
)
from hq_server.schema import assignments, branches, closed_periods, quota_schedule
from runtime.emails import valid_address


@dataclass(frozen=True, slots=True)
class NewAssignment:
    """A MOF range to record: where it came from (an E0501 file and element, or by hand)."""

    pool: PoolKey
    track_range: TrackRange
    source: str  # "manual" or "e0501:<file name>"
    where: str = ""  # the element of the file, for error messages

    @property
    def from_e0501(self) -> bool:
        return self.source.startswith("e0501:")


def add_assignments(
    conn: Connection, now: datetime, actor: str, items: Sequence[NewAssignment]
) -> tuple[list[Assignment], int]:
    """Record MOF ranges in one statement: (added rows, how many were already there).

    All or nothing: a range overlapping another (stored or in the same call) refuses them all,
    naming both. Re-importing the identical range from an E0501 changes nothing. Every branch's
    configuration version moves on once, so agents waiting after a refusal (period not
    assigned, pool exhausted) ask again at once.
    """
    periods = sorted({item.pool.year_month for item in items})
    stored = conn.execute(select(assignments).where(assignments.c.year_month.in_(periods))).all()
    known = {(r.year_month, r.invoice_type, track_range(r)): r for r in stored}
    new = []
    for item in items:
        item.track_range.range.require_booklets()
        twin = known.get((item.pool.year_month, item.pool.type_code, item.track_range))
        if not (twin is not None and item.from_e0501 and twin.source.startswith("e0501:")):
            new.append(item)
    check_overlaps(new, stored)
    if not new:
        return [], len(items)
    conn.execute(
        insert(assignments),
        [
            {
                "year_month": i.pool.year_month,
                "invoice_type": i.pool.type_code,
                "track": i.track_range.track.code,
                "begin": i.track_range.range.begin,
                "end": i.track_range.range.end,
                "status": RangeStatus.ENABLED.value,
                "source": i.source,
                "created_at": now,
                "granted_numbers": 0,
            }
            for i in new
        ],
    )
    rows = added_rows(conn, new)
    audit.append_many(
        conn,
        now,
        [
            (
                actor,
                "add_assignment",
                {
                    "assignment_id": r.id,
                    "year_month": r.year_month,
                    "invoice_type": r.invoice_type,
                    "range": str(track_range(r)),
                    "source": r.source,
                },
            )
            for r in rows
        ],
    )
    bump_all_config_versions(conn)
    return [assignment_of(r) for r in rows], len(items) - len(new)


def check_overlaps(new: Sequence[NewAssignment], stored: Sequence[Row[Any]]) -> None:
    """One rule (allocator.first_overlap) for ranges of a file, of a call and of the database."""
    for year_month in sorted({item.pool.year_month for item in new}):
        candidates = [
            (i.track_range, i.where or "the new range")
            for i in new
            if i.pool.year_month == year_month
        ]
        candidates += [
            (track_range(r), f"the assigned range {r.id}, {r.source}")
            for r in stored
            if r.year_month == year_month
        ]
        clash = first_overlap(candidates)
        if clash is not None:
            (a, where_a), (b, where_b) = clash
            raise OverlappingRange(
                f"period {year_month}: range {b} ({where_b}) overlaps range {a} ({where_a})"
            )


def added_rows(conn: Connection, new: Sequence[NewAssignment]) -> list[Row[Any]]:
    """The rows just inserted, by their unique key, in the order given."""
    periods = sorted({i.pool.year_month for i in new})
    rows = conn.execute(select(assignments).where(assignments.c.year_month.in_(periods))).all()
    by_key = {(r.year_month, r.invoice_type, track_range(r)): r for r in rows}
    return [by_key[(i.pool.year_month, i.pool.type_code, i.track_range)] for i in new]


def assignment_row(conn: Connection, assignment_id: int) -> Row[Any]:
    row = conn.execute(select(assignments).where(assignments.c.id == assignment_id)).first()
    if row is None:
        raise NotFound(f"assigned range {assignment_id} does not exist")
    return row


def set_range_status(
    conn: Connection, now: datetime, actor: str, assignment_id: int, status: RangeStatus
) -> Assignment:
    before = assignment_row(conn, assignment_id)
    conn.execute(
        update(assignments).where(assignments.c.id == assignment_id).values(status=status.value)
    )
    audit.append(
        conn,
        now,
        actor,
        "set_range_status",
        assignment_id=assignment_id,
        range=str(track_range(before)),
        before=before.status,
        after=status.value,
    )
    bump_all_config_versions(conn)
    return assignment_of(assignment_row(conn, assignment_id))


@dataclass(frozen=True, slots=True)
class BranchSettings:
    name: str
    quota: Quota
    refill: RefillPolicy
    emails: tuple[str, ...] = ()


def add_branch(
    conn: Connection, now: datetime, actor: str, ban: Ban, settings: BranchSettings
) -> Branch:
    if conn.execute(select(branches.c.ban).where(branches.c.ban == ban.value)).first():
        raise AlreadyExists(f"branch {ban} is already registered")
    for email in settings.emails:
        if not valid_address(email):
            raise InvalidInput(f"e-mail address {email[:80]!r} is not a valid address")
    conn.execute(
        insert(branches).values(
            ban=ban.value,
            name=settings.name,
            enabled=True,
            emails=json.dumps(settings.emails),
            config_version=1,
            created_at=now,
            **quota_values(settings.quota),
            **refill_values(settings.refill),
        )
    )
    audit.append(
        conn,
        now,
        actor,
        "add_branch",
        ban=ban.value,
        name=settings.name,
        quota=quota_values(settings.quota),
        refill=refill_values(settings.refill),
    )
    return load_branch(conn, ban)


def quota_values(quota: Quota) -> dict[str, int]:
    return {
        "booklets_per_request": quota.booklets_per_request,
        "booklets_per_period": quota.booklets_per_period,
    }


def refill_values(refill: RefillPolicy) -> dict[str, Any]:
    return {
        "low_water_count": refill.low_water_count,
        "low_water_minutes": refill.low_water_minutes,
        "min_booklets": refill.min_booklets,
        "max_booklets": refill.max_booklets,
    }


def disable_branch(conn: Connection, now: datetime, actor: str, ban: Ban) -> Branch:
    return set_enabled(conn, now, actor, ban, False)


def enable_branch(conn: Connection, now: datetime, actor: str, ban: Ban) -> Branch:
    return set_enabled(conn, now, actor, ban, True)


def set_enabled(conn: Connection, now: datetime, actor: str, ban: Ban, enabled: bool) -> Branch:
    branch_row(conn, ban)
    conn.execute(
        update(branches)
        .where(branches.c.ban == ban.value)
        .values(enabled=enabled, config_version=branches.c.config_version + 1)
    )
    audit.append(conn, now, actor, "enable_branch" if enabled else "disable_branch", ban=ban.value)
    return load_branch(conn, ban)


def set_quota(
    conn: Connection,
    now: datetime,
    actor: str,
    ban: Ban,
    quota: Quota,
    refill: RefillPolicy | None,
    effective_from: datetime | None,
) -> Branch:
    """Set a quota at once, or schedule it; refill settings always apply at once."""
    branch_row(conn, ban)
    values: dict[str, Any] = refill_values(refill) if refill else {}
    if effective_from is None or effective_from <= now:
        values |= quota_values(quota)
    else:
        conn.execute(
            insert(quota_schedule).values(
                ban=ban.value, effective_from=effective_from, applied=False, **quota_values(quota)
            )
        )
    conn.execute(
        update(branches)
        .where(branches.c.ban == ban.value)
        .values(config_version=branches.c.config_version + 1, **values)
    )
    audit.append(
        conn,
        now,
        actor,
        "set_quota",
        ban=ban.value,
        quota=quota_values(quota),
        refill=refill_values(refill) if refill else None,
        effective_from=effective_from.isoformat() if effective_from else None,
    )
    return load_branch(conn, ban)


def apply_due_quotas(conn: Connection, now: datetime, actor: str) -> list[str]:
    """Apply scheduled quotas whose time has come; returns the branches changed."""
    due = conn.execute(
        select(quota_schedule)
        .where(quota_schedule.c.applied.is_(False))
        .where(quota_schedule.c.effective_from <= now)
        .order_by(quota_schedule.c.effective_from, quota_schedule.c.id)
    ).all()
    for row in due:
        conn.execute(
            update(branches)
            .where(branches.c.ban == row.ban)
            .values(
                booklets_per_request=row.booklets_per_request,
                booklets_per_period=row.booklets_per_period,
                config_version=branches.c.config_version + 1,
            )
        )
        conn.execute(
            update(quota_schedule).where(quota_schedule.c.id == row.id).values(applied=True)
        )
        audit.append(
            conn,
            now,
            actor,
            "apply_quota",
            ban=row.ban,
            schedule_id=row.id,
            booklets_per_request=row.booklets_per_request,
            booklets_per_period=row.booklets_per_period,
        )
    return sorted({row.ban for row in due})


def bump_all_config_versions(conn: Connection) -> None:
    conn.execute(update(branches).values(config_version=branches.c.config_version + 1))


@dataclass(frozen=True, slots=True)
class CloseResult:
    assigned: int
    issued: int
    blank: int
    not_final: list[str]


def close_period(conn: Connection, now: datetime, actor: str, pool: PoolKey) -> CloseResult:
    """Close a period: from now on everything not issued is blank (E0402)."""
    if not assigned_ranges(conn, pool):
        raise Refused(
            f"period {pool.year_month} type {pool.type_code} has nothing assigned: "
            "there is nothing to close"
        )
    pool.period.require_ended(now, "closing it")
    exists = conn.execute(
        select(closed_periods.c.closed_at)
        .where(closed_periods.c.year_month == pool.year_month)
        .where(closed_periods.c.invoice_type == pool.type_code)
    ).first()
    if exists is None:
        conn.execute(
            insert(closed_periods).values(
                year_month=pool.year_month,
                invoice_type=pool.type_code,
                closed_at=now,
                closed_by=actor,
            )
        )
    result = period_accounting(conn, pool, closed=True)
    audit.append(
        conn,
        now,
        actor,
        "close_period",
        year_month=pool.year_month,
        invoice_type=pool.type_code,
        assigned=result.assigned,
        issued=result.issued,
        blank=result.blank,
        not_final=result.not_final,
    )
    return result


def period_accounting(conn: Connection, pool: PoolKey, closed: bool) -> CloseResult:
    assigned_sets = by_track(item.track_range for _, item in assigned_ranges(conn, pool))
    rows = pool_grants(conn, pool)
    usage: dict[Ban, BranchUsage] = usage_by_branch(conn, rows)
    parts = account(assigned_sets, usage, closed)
    return CloseResult(
        assigned=sum(s.count for s in assigned_sets.values()),
        issued=sum(s.count for s in parts.issued.values()),
        blank=sum(s.count for s in parts.blank.values()),
        not_final=sorted({r.branch_ban for r in rows if not r.final}),
    )
