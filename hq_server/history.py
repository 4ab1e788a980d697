"""Numbers over time: every interval HQ samples each pool of the current period and each
branch's part of it (issued, held, free), for the back office's charts and the seasonal shape
of the forecast. The leader samples (a fenced write); followers' attempts are refused.

Set-wise queries only: at 10,000 branches one sample is a few aggregate queries and one bulk
insert, not a query per branch. Branches are sampled every BRANCH_EVERY-th time only and kept
BRANCH_KEEP (hourly pool samples: 10,000 branches every 6 hours for 70 days are 2.8 million
rows); pool rows, a handful per sample, are kept POOL_KEEP.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select

from allocator import DomainError, Period
from allocator.forecast import Sample
from hq_server.queries import list_pools
from hq_server.schema import branch_history, grants, pool_history, skipped

log = logging.getLogger("einv.hq.history")
DEFAULT_INTERVAL = timedelta(hours=1)
BRANCH_KEEP = timedelta(days=70)  # this period and the end of the previous one
BRANCH_EVERY = 6  # branch rows with every sixth pool sample
POOL_KEEP = timedelta(days=400)  # a year and a period: the same season last year


@dataclass(frozen=True, slots=True)
class Part:
    """A branch's part of one pool: numbers issued and numbers it still holds."""

    issued: int
    held: int


def branch_parts(conn: Connection, year_month: str) -> dict[tuple[str, str], Part]:
    """(ban, invoice type) -> its issued and held numbers in the period, in two aggregates.

    Below a grant's next_number every number was issued or skipped; above it, the grant still
    holds its numbers unless the agent reported it final.
    """
    held = case((grants.c.final, 0), else_=grants.c.end - grants.c.next_number + 1)
    touched = conn.execute(
        select(
            grants.c.branch_ban,
            grants.c.invoice_type,
            func.sum(grants.c.next_number - grants.c.begin),
            func.sum(held),
        )
        .where(grants.c.year_month == year_month)
        .group_by(grants.c.branch_ban, grants.c.invoice_type)
    ).all()
    blanks = {
        (r[0], r[1]): int(r[2] or 0)
        for r in conn.execute(
            select(
                grants.c.branch_ban,
                grants.c.invoice_type,
                func.sum(skipped.c.end - skipped.c.begin + 1),
            )
            .select_from(skipped.join(grants, skipped.c.grant_id == grants.c.id))
            .where(grants.c.year_month == year_month)
            .group_by(grants.c.branch_ban, grants.c.invoice_type)
        )
    }
    return {
        (ban, kind): Part(int(used or 0) - blanks.get((ban, kind), 0), int(holding or 0))
        for ban, kind, used, holding in touched
    }


def sample(conn: Connection, now: datetime, with_branches: bool = True) -> int:
    """One sample of the current period's pools (and branches); returns the rows written."""
    year_month = Period.containing(now).to_year_month()
    parts = branch_parts(conn, year_month)
    rows = [
        {"ban": ban, "year_month": year_month, "invoice_type": kind, "at": now}
        | {"issued": p.issued, "held": p.held}
        for (ban, kind), p in sorted(parts.items())
        if with_branches
    ]
    pools = [
        {
            "year_month": year_month,
            "invoice_type": view.key.type_code,
            "at": now,
            "issued": sum(p.issued for (_, kind), p in parts.items() if kind == view.key.type_code),
            "granted": view.granted,
            "free": view.free,
        }
        for view in list_pools(conn, year_month)
    ]
    if rows:
        conn.execute(insert(branch_history), rows)
    if pools:
        conn.execute(insert(pool_history), pools)
    conn.execute(delete(branch_history).where(branch_history.c.at < now - BRANCH_KEEP))
    conn.execute(delete(pool_history).where(pool_history.c.at < now - POOL_KEEP))
    return len(rows) + len(pools)


Write = Callable[[Callable[[Connection, datetime], Any]], Any]


async def run_sampler(write: Write, interval: timedelta = DEFAULT_INTERVAL) -> None:
    """Sample now and every `interval` after (branches too now and every BRANCH_EVERY-th
    time), for as long as it runs (cancel it to stop)."""
    for count in itertools.count():
        branches = count % BRANCH_EVERY == 0
        try:
            await write(lambda conn, now, b=branches: sample(conn, now, b))
        except DomainError:  # a follower, or the database away: next time
            pass
        except Exception:  # a sample lost is no reason to stop sampling
            log.exception("history sample failed")
        await asyncio.sleep(interval.total_seconds())


def pool_points(conn: Connection, year_month: str, type_code: str) -> list[Any]:
    return list(
        conn.execute(
            select(pool_history)
            .where(pool_history.c.year_month == year_month)
            .where(pool_history.c.invoice_type == type_code)
            .order_by(pool_history.c.at)
        ).all()
    )


def branch_points(conn: Connection, ban: str, year_month: str, type_code: str) -> list[Any]:
    return list(
        conn.execute(
            select(branch_history)
            .where(branch_history.c.ban == ban)
            .where(branch_history.c.year_month == year_month)
            .where(branch_history.c.invoice_type == type_code)
            .order_by(branch_history.c.at)
        ).all()
    )


def pool_burn_series(conn: Connection, type_code: str, since: datetime) -> list[Sample]:
    """A pool type's numbers issued since `since`, as one running total across periods (each
    period's count starts again from zero; the series carries on from the last one)."""
    rows = conn.execute(
        select(pool_history.c.year_month, pool_history.c.at, pool_history.c.issued)
        .where(pool_history.c.invoice_type == type_code)
        .where(pool_history.c.at >= since)
        .order_by(pool_history.c.at)
    ).all()
    return running_total([(r.year_month, r.at, int(r.issued)) for r in rows])


def running_total(points: Sequence[tuple[str, datetime, int]]) -> list[Sample]:
    series: list[Sample] = []
    offset, last_period, last_value = 0, None, 0
    for year_month, at, issued in points:
        if last_period is not None and year_month != last_period:
            offset += last_value
        last_period, last_value = year_month, issued
        series.append((at, offset + issued))
    return series
