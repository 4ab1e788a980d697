"""ERP export (回拋ERP): a period's grants, usage or E0402 blank ranges, as lines in a stable order.

A read, page after page of branches in BAN order: each page is its own short read transaction
(like ListBranches' pages), so an export of 10,000 branches neither holds one transaction open
for long nor the whole period in memory; a branch's lines all come from one transaction. The
blanks come from the E0402 computation itself (`reports.blank_set`), never from a second rule.

Not written to the audit log: the log holds changes to what HQ keeps (DESIGN §4), and like
every other listing an export changes nothing; it needs no leader (a follower serves it) and a
nightly ERP job does not grow the chain. It is logged, with the caller, for the operator.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from allocator import (
    Ban,
    InvoiceType,
    NumberRange,
    Period,
    PeriodNotAssigned,
    PoolKey,
    Track,
    account,
)
from hq_server import queries
from hq_server.app import Hq
from hq_server.records import Branch, GrantEntry
from hq_server.reports import blank_set

log = logging.getLogger("einv.hq.export")
BRANCH_PAGE = 500  # branches per read transaction
MAX_PAGES = 100_000  # bounded: 500 a page covers any chain


class ExportKind(enum.Enum):
    GRANTS = "grants"
    USAGE = "usage"
    BLANKS = "blanks"


@dataclass(frozen=True, slots=True)
class ExportRequest:
    period: Period
    kind: ExportKind
    invoice_type: InvoiceType | None = None  # None: every type of the period


@dataclass(frozen=True, slots=True)
class GrantLine:
    """One grant; sorted by (BAN, invoice type, track, begin)."""

    branch: Branch
    grant: GrantEntry

    @property
    def status(self) -> str:
        return "final" if self.grant.final else "held"

    def key(self) -> tuple[str, str, str, int]:
        g, numbers = self.grant, self.grant.track_range
        return (g.branch_ban.value, g.pool.type_code, numbers.track.code, numbers.range.begin)


@dataclass(frozen=True, slots=True)
class UsageLine:
    """A branch's part of one pool: granted = issued + blank + remaining; by (BAN, type)."""

    branch: Branch
    pool: PoolKey
    granted: int
    issued: int
    blank: int
    remaining: int

    def key(self) -> tuple[str, str]:
        return (self.branch.ban.value, self.pool.type_code)


@dataclass(frozen=True, slots=True)
class BlankLine:
    """One blank range of an E0402 (HeadBan, BranchBan, type, period, track); sorted like
    the documents' items: (BranchBan, type, track, begin)."""

    head_ban: Ban
    branch_ban: Ban
    pool: PoolKey
    track: Track
    numbers: NumberRange

    def key(self) -> tuple[str, str, str, int]:
        return (self.branch_ban.value, self.pool.type_code, self.track.code, self.numbers.begin)


Line = GrantLine | UsageLine | BlankLine


@dataclass(frozen=True, slots=True)
class Page:
    lines: Sequence[Line]
    held: list[str] = field(default_factory=list)  # blanks: branches held back from the E0402


def export_pools(conn: Connection, request: ExportRequest) -> list[PoolKey]:
    """The pools of the period (of one type, if asked); refused when nothing is assigned."""
    year_month = request.period.to_year_month()
    wanted = request.invoice_type
    pools = [k for k in queries.pool_keys(conn, year_month) if wanted in (None, k.invoice_type)]
    if not pools:
        of_type = f" of invoice type {wanted.value}" if wanted is not None else ""
        raise PeriodNotAssigned(
            f"nothing of period {year_month}{of_type} is assigned at this HQ: nothing to export"
        )
    return pools


def branch_page(
    conn: Connection, kind: ExportKind, pools: Sequence[PoolKey], after: str
) -> tuple[list[Line], str | None]:
    """The lines of the next BRANCH_PAGE branches after `after`, and where the next page starts."""
    page = queries.list_branches(conn, after, BRANCH_PAGE)
    by_ban = {b.ban: b for b in page}
    lines: list[Line] = []
    for pool in pools:
        found = queries.branches_grants(conn, pool, [b.ban.value for b in page])
        if kind is ExportKind.GRANTS:
            lines += [GrantLine(by_ban[g.branch_ban], g) for g in found.entries]
            continue
        closed = queries.is_closed(conn, pool)
        for ban, usage in found.usage.items():
            parts = account(usage.granted, {ban: usage}, closed)  # the one accounting rule
            issued, blank, held = (
                sum(s.count for s in p.values()) for p in (parts.issued, parts.blank, parts.held)
            )
            granted = sum(s.count for s in usage.granted.values())
            lines.append(UsageLine(by_ban[ban], pool, granted, issued, blank, held))
    lines.sort(key=lambda line: line.key())
    more = len(page) == BRANCH_PAGE
    return lines, page[-1].ban.value if more else None


def blank_page(conn: Connection, head_ban: Ban, pools: Sequence[PoolKey]) -> Page:
    """What the period's E0402 set holds now, every pool of it, and who is held back."""
    lines: list[Line] = []
    held: set[str] = set()
    for pool in pools:
        found = blank_set(conn, head_ban, pool)
        held.update(found.held)
        lines += [
            BlankLine(head_ban, branch, pool, track, numbers)
            for (branch, track), ranges in found.blanks.items()
            for numbers in ranges
        ]
    lines.sort(key=lambda line: line.key())
    return Page(lines, sorted(held))


async def export(hq: Hq, request: ExportRequest, actor: str) -> AsyncIterator[Page]:
    """The export's lines, a page at a time, in the documented order."""
    pools = await hq.read(lambda conn: export_pools(conn, request))
    count = 0
    if request.kind is ExportKind.BLANKS:
        request.period.require_ended(hq.now(), "the export of its blank ranges (E0402)")
        page = await hq.read(lambda conn: blank_page(conn, Ban(hq.head_ban), pools))
        count = len(page.lines)
        yield page
    else:
        after: str | None = ""
        for _ in range(MAX_PAGES):
            work = functools.partial(branch_page, kind=request.kind, pools=pools, after=after or "")
            lines, after = await hq.read(work)
            count += len(lines)
            if lines:
                yield Page(lines)
            if after is None:
                break
    log.info(
        "%s exported the %s of %s: %d rows",
        actor,
        request.kind.value,
        request.period.to_year_month(),
        count,
    )
