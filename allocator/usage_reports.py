"""The decision on usage reports queued together, from what HQ knows: no I/O.

Reports are decided in arrival order: each one sees the states the earlier ones of its batch
left, and a refused report (an unknown branch, a grant not its own, a state no correct agent
reports, a change after the period's E0402 went to the MOF) changes nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from allocator.errors import BlanksReported, DomainError, NotFound, PermissionDenied
from allocator.identity import Ban
from allocator.period import Period
from allocator.pool import TrackRange
from allocator.ranges import NumberRange, RangeSet
from allocator.usage import UsageState, merge_report

BlanksKey = tuple[str, str, str]  # (year_month, invoice type code, branch BAN) of an E0402


@dataclass(frozen=True, slots=True)
class GrantProgress:
    """One GrantUsage of a report: the agent's state of one grant (its skips: at least the
    new ones)."""

    grant_id: str
    next_number: int
    skipped: Sequence[NumberRange]
    final: bool


@dataclass(frozen=True, slots=True)
class UsageReport:
    branch: Ban
    agent_time: datetime | None
    grants: Sequence[GrantProgress]


@dataclass(frozen=True, slots=True)
class HeldGrant:
    """A stored grant as the decision needs it: whose it is, its period and numbers."""

    id: str
    branch_ban: str
    year_month: str
    invoice_type: str
    numbers: TrackRange

    @property
    def blanks_key(self) -> BlanksKey:
        """Which E0402 reports this grant's blanks."""
        return (self.year_month, self.invoice_type, self.branch_ban)


def ended_periods(grants: Iterable[HeldGrant], now: datetime) -> frozenset[str]:
    """The YearMonths of these grants whose period has ended at `now` (each parsed once: a
    batch's grants share one or two periods)."""
    year_months = {grant.year_month for grant in grants}
    return frozenset(ym for ym in year_months if Period.from_year_month(ym).has_ended(now))


@dataclass(frozen=True, slots=True)
class Known:
    """What HQ holds when the batch is decided: the registered branches among the reporters,
    the grants named (with their stored states), and the E0402 already handed to the MOF for
    the grants whose period has ended (by BlanksKey: the document's name)."""

    branches: frozenset[str]
    grants: Mapping[str, HeldGrant]
    states: Mapping[str, UsageState]
    blanks_sent: Mapping[BlanksKey, str]
    now: datetime


@dataclass(frozen=True, slots=True)
class BranchReported:
    """What a branch's accepted reports of the batch say about it: its latest agent time and
    how many numbers more it issued."""

    agent_time: datetime | None
    issued_added: int


@dataclass(frozen=True, slots=True)
class Decisions:
    outcomes: tuple[int | DomainError, ...]  # per report: the grants it moved, or its refusal
    states: Mapping[str, UsageState]  # every grant named by a known report, as it ends up
    branches: Mapping[str, BranchReported]  # every branch with an accepted report


def decide_reports(reports: Sequence[UsageReport], known: Known) -> Decisions:
    """Keep the furthest state of each grant (merge_report): order-free and idempotent."""
    current = dict(known.states)
    ended = ended_periods(known.grants.values(), known.now)
    branches: dict[str, BranchReported] = {}
    outcomes: list[int | DomainError] = []
    for report in reports:
        try:
            moved, added, states = decide_report(report, known, ended, current)
        except DomainError as error:
            outcomes.append(error)
            continue
        current.update(states)
        ban = report.branch.value
        before = branches.get(ban, BranchReported(None, 0)).issued_added
        branches[ban] = BranchReported(report.agent_time, before + added)
        outcomes.append(moved)
    return Decisions(tuple(outcomes), current, branches)


def decide_report(
    report: UsageReport, known: Known, ended: frozenset[str], current: Mapping[str, UsageState]
) -> tuple[int, int, dict[str, UsageState]]:
    """(grants moved, numbers added to the issued total, the new states) of one report, or
    the DomainError that refuses it whole."""
    if report.branch.value not in known.branches:
        raise NotFound(f"branch {report.branch} is not registered at this HQ")
    states: dict[str, UsageState] = {}
    moved = added = 0
    for item in report.grants:
        grant = known.grants.get(item.grant_id)
        if grant is None or grant.branch_ban != report.branch.value:
            raise PermissionDenied(f"grant {item.grant_id!r} is not held by branch {report.branch}")
        before = states.get(grant.id) or current[grant.id]
        said = UsageState(item.next_number, RangeSet.of(item.skipped), item.final)
        merged = merge_report(grant.numbers, before, said)
        if merged.moved and grant.year_month in ended:
            require_blanks_not_reported(grant, known.blanks_sent)
        states[grant.id] = merged.state
        moved += merged.moved
        added += merged.issued_added(before)
    return moved, added, states


def require_blanks_not_reported(grant: HeldGrant, blanks_sent: Mapping[BlanksKey, str]) -> None:
    """Once a branch's E0402 of a period went to the MOF, its usage there no longer moves."""
    sent = blanks_sent.get(grant.blanks_key)
    if sent is not None:
        raise BlanksReported(
            f"grant {grant.id} of period {grant.year_month}: this change came after the "
            f"period's E0402 ({sent}) was handed to the MOF, so HQ keeps what was reported; if "
            f"the numbers really changed, an operator sends a correction (einv-admin reports "
            f"E0402 --period {grant.year_month} --correction)",
            grant.id,
        )
