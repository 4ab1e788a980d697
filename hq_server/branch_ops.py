"""Use cases of the branch API besides granting (grant_batch): usage reports and burn rates.

Each function runs inside one fenced transaction (`conn`) and takes `now` from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from allocator import Ban, DomainError, NumberRange, RangeSet, UsageState
from allocator.usage_reports import (
    BlanksKey,
    BranchReported,
    GrantProgress,
    HeldGrant,
    Known,
    UsageReport,
    decide_reports,
    ended_periods,
)
from hq_server.records import track_range
from hq_server.schema import (
    branches,
    grants,
    skipped,
    usage_samples,
)
from mof_sync.store import documents
from runtime.driver_sql import DriverStatement
from runtime.in_lists import in_batches

SAMPLE_WINDOW = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class StoredGrant:
    """A grant as a usage report needs it, read with its skipped ranges in one query."""

    held: HeldGrant
    state: UsageState
    skip_rows: tuple[NumberRange, ...]  # as stored: one row per range


def report_usage(
    conn: Connection,
    now: datetime,
    branch: Ban,
    agent_time: datetime | None,
    progress: Sequence[GrantProgress],
) -> int:
    """One report on its own (tests, tools): grants moved, or the refusal raised."""
    (outcome,) = report_usages(conn, now, [UsageReport(branch, agent_time, progress)])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def report_usages(
    conn: Connection, now: datetime, reports: Sequence[UsageReport]
) -> list[int | DomainError]:
    """Keep the furthest state of each grant (allocator.decide_reports): order-free and
    idempotent. The reports queued together are decided in arrival order from one read of
    their branches and grants, and written with one statement per table; each gets the grants
    it moved, or why it was refused (a refused report changes nothing)."""
    stored = stored_grants(conn, sorted({g.grant_id for r in reports for g in r.grants}))
    held = {grant_id: grant.held for grant_id, grant in stored.items()}
    ended = ended_periods(held.values(), now)
    known = Known(
        registered(conn, {r.branch.value for r in reports}, stored),
        held,
        {grant_id: grant.state for grant_id, grant in stored.items()},
        blanks_sent(conn, [g for g in held.values() if g.year_month in ended]),
        now,
    )
    decided = decide_reports(reports, known)
    write_grants(conn, [(stored[gid], state) for gid, state in decided.states.items()])
    write_branches(conn, now, decided.branches)
    return list(decided.outcomes)


# The statements of the hot path, built once and run on the driver's cursor (runtime.driver_sql):
# SQLAlchemy's execution layer cost more than the statements themselves.
REGISTERED = DriverStatement(
    select(branches.c.ban).where(branches.c.ban.in_(bindparam("bans", expanding=True)))
)
GRANTS_WITH_SKIPS = DriverStatement(
    select(
        grants.c.id,
        grants.c.branch_ban,
        grants.c.year_month,
        grants.c.invoice_type,
        grants.c.track,
        grants.c.begin,
        grants.c.end,
        grants.c.next_number,
        grants.c.final,
        skipped.c.begin.label("skip_begin"),
        skipped.c.end.label("skip_end"),
    )
    .select_from(grants.outerjoin(skipped, skipped.c.grant_id == grants.c.id))
    .where(grants.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(grants.c.id, skipped.c.begin)
)
MOVE_GRANT = DriverStatement(
    update(grants)
    .where(grants.c.id == bindparam("grant"))
    .values(next_number=bindparam("cursor"), final=bindparam("closed"))
)
DROP_SKIP_ROW = DriverStatement(
    skipped.delete()
    .where(skipped.c.grant_id == bindparam("grant"))
    .where(skipped.c.begin == bindparam("first"))
)
ADD_SKIP_ROW = DriverStatement(
    insert(skipped).values(
        grant_id=bindparam("grant_id"), begin=bindparam("begin"), end=bindparam("end")
    )
)
BRANCH_REPORTED = DriverStatement(
    update(branches)
    .where(branches.c.ban == bindparam("branch"))
    .values(
        last_report_at=bindparam("at"),
        last_agent_time=bindparam("agent_time"),
        issued_total=branches.c.issued_total + bindparam("added"),
    )
)
ADD_SAMPLES = DriverStatement(
    insert(usage_samples).from_select(
        ["ban", "at", "issued_total"],
        select(
            branches.c.ban, bindparam("at", type_=usage_samples.c.at.type), branches.c.issued_total
        ).where(branches.c.ban.in_(bindparam("bans", expanding=True))),
    )
)
PRUNE_SAMPLES = usage_samples.delete().where(usage_samples.c.at < bindparam("before"))
E0402_SENT = (
    select(
        documents.c.year_month, documents.c.invoice_type, documents.c.branch_ban, documents.c.name
    )
    .where(documents.c.message_type == "E0402")
    .where(documents.c.branch_ban.in_(bindparam("bans", expanding=True)))
    .where(documents.c.year_month.in_(bindparam("periods", expanding=True)))
    .order_by(documents.c.name)
)


def registered(conn: Connection, bans: set[str], stored: dict[str, StoredGrant]) -> frozenset[str]:
    """Which of `bans` are registered: a branch holding a grant is (a foreign key says so), the
    others are looked up (an unknown branch, or a report naming no grant of its own)."""
    known = {grant.held.branch_ban for grant in stored.values()} & bans
    for part in in_batches(sorted(bans - known)):
        known.update(row.ban for row in REGISTERED.rows(conn, {"bans": part}))
    return frozenset(known)


def stored_grants(conn: Connection, ids: list[str]) -> dict[str, StoredGrant]:
    """The grants named, each with its skipped ranges: one query (a grant, then its ranges)."""
    rows: dict[str, list[Any]] = {}
    for part in in_batches(ids):
        for row in GRANTS_WITH_SKIPS.rows(conn, {"ids": part}):
            rows.setdefault(row.id, []).append(row)
    return {grant_id: stored_grant(found) for grant_id, found in rows.items()}


def stored_grant(rows: list[Any]) -> StoredGrant:
    first = rows[0]
    skip_rows = tuple(
        NumberRange(r.skip_begin, r.skip_end) for r in rows if r.skip_begin is not None
    )
    held = HeldGrant(
        first.id, first.branch_ban, first.year_month, first.invoice_type, track_range(first)
    )
    return StoredGrant(
        held, UsageState(first.next_number, RangeSet.of(skip_rows), first.final), skip_rows
    )


def write_grants(conn: Connection, changed: list[tuple[StoredGrant, UsageState]]) -> None:
    """Cursors and final flags that moved; skip sets as ranges: a range that grew or joined
    another replaces the rows it covers (what changed is written, not the grant's history)."""
    cursors = [
        {"grant": g.held.id, "cursor": s.next_number, "closed": s.final}
        for g, s in changed
        if (s.next_number, s.final) != (g.state.next_number, g.state.final)
    ]
    gone = [
        {"grant": g.held.id, "first": r.begin}
        for g, s in changed
        for r in g.skip_rows
        if r not in s.skipped.ranges
    ]
    new = [
        {"grant_id": g.held.id, "begin": r.begin, "end": r.end}
        for g, s in changed
        for r in s.skipped
        if r not in g.skip_rows
    ]
    MOVE_GRANT.execute_many(conn, cursors)
    DROP_SKIP_ROW.execute_many(conn, gone)
    ADD_SKIP_ROW.execute_many(conn, new)


def write_branches(conn: Connection, now: datetime, touched: Mapping[str, BranchReported]) -> None:
    """Each reporting branch: when it reported, its running issued total, and a sample of it
    for the burn rate (prune_samples drops the old ones)."""
    if not touched:
        return
    BRANCH_REPORTED.execute_many(
        conn,
        [
            {"branch": ban, "at": now, "agent_time": told.agent_time, "added": told.issued_added}
            for ban, told in touched.items()
        ],
    )
    for part in in_batches(sorted(touched)):
        ADD_SAMPLES.execute(conn, {"at": now, "bans": part})


def prune_samples(conn: Connection, now: datetime) -> None:
    """Burn rates look back SAMPLE_WINDOW: older samples go (once a second, not per report)."""
    conn.execute(PRUNE_SAMPLES, {"before": now - SAMPLE_WINDOW})


def blanks_sent(conn: Connection, ended: Sequence[HeldGrant]) -> dict[BlanksKey, str]:
    """The E0402 already handed to the MOF for these grants (of ended periods): one query per
    chunk of branches, none when every grant is of an open period (the usual report)."""
    wanted = {grant.blanks_key for grant in ended}
    sent: dict[BlanksKey, str] = {}
    for part in in_batches(sorted({ban for _, _, ban in wanted})):
        rows = conn.execute(
            E0402_SENT, {"bans": part, "periods": sorted({ym for ym, _, _ in wanted})}
        )
        for row in rows:
            key = (row.year_month, row.invoice_type, row.branch_ban)
            if key in wanted:
                sent.setdefault(key, row.name)
    return sent
