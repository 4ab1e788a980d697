"""Deciding a batch of range requests at once: the period-start burst.

At 00:00 of a new period every store asks at once, and HQ decides many requests in one group
commit. The shell reads once what they need (a `BatchSnapshot`), `plan_grants` decides each
request in arrival order exactly as if it came alone (a later request sees the grants of the
earlier ones), and the shell writes the grants. Ids and grant times are the shell's: nothing
here reads a clock or makes an id; `now` only says whether a period has ended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from allocator.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    PeriodClosed,
    PeriodNotAssigned,
    PermissionDenied,
    branch_disabled,
)
from allocator.identity import Ban
from allocator.pool import PoolKey, Quota, TrackRange, booklets_allowed, plan_grant
from allocator.ranges import RangeSet


@dataclass(frozen=True, slots=True)
class BranchSnapshot:
    """A registered branch as the batch starts: may it get numbers, and how many."""

    enabled: bool
    quota: Quota


@dataclass(frozen=True, slots=True)
class BranchGrants:
    """What one branch holds in one pool: booklets granted so far and its latest grant."""

    booklets: int = 0
    latest: TrackRange | None = None


NOTHING_YET = BranchGrants()


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """One pool as the batch starts.

    `free` is `free_runs` of the pool (enabled ranges only, in order); `assigned` is every range
    the MOF assigned, with the shell's id for it (opaque here); `closed`: an operator closed
    the period.
    """

    free: tuple[TrackRange, ...]
    assigned: tuple[tuple[TrackRange, int], ...]
    held: Mapping[Ban, BranchGrants] = field(default_factory=dict)
    closed: bool = False

    def require_open(self, key: PoolKey, now: datetime) -> None:
        """Grants need a period that has not ended, that no operator closed, with ranges."""
        key.period.require_open(now)
        if self.closed:
            raise PeriodClosed(f"period {key.year_month} type {key.type_code} is closed")
        if not self.assigned:
            raise PeriodNotAssigned(
                f"period {key.year_month} type {key.type_code} has no assignment yet"
            )


@dataclass(frozen=True, slots=True)
class Ask:
    """One range request: a branch asks for booklets of one pool, under a request id."""

    request_id: str
    branch: Ban
    pool: PoolKey
    booklets: int


@dataclass(frozen=True, slots=True)
class Owner:
    """Whom a granted request id belongs to: a retry must come from it and ask the same pool."""

    branch: Ban
    pool: PoolKey

    def replay(self, ask: Ask) -> Replay:
        if self.branch != ask.branch:
            raise PermissionDenied(f"request id {ask.request_id!r} belongs to branch {self.branch}")
        if self.pool != ask.pool:
            raise InvalidInput(
                f"request id {ask.request_id!r} was already used for period {self.pool.year_month} "
                f"type {self.pool.type_code}; a retry must ask for the same (a new request needs "
                "a new id)"
            )
        return Replay(ask.request_id)


@dataclass(frozen=True, slots=True)
class BatchSnapshot:
    """Everything a batch is decided against: the branches and pools its requests name, and
    the request ids already granted (a retried id is answered with its grant)."""

    branches: Mapping[Ban, BranchSnapshot]
    pools: Mapping[PoolKey, PoolSnapshot]
    granted: Mapping[str, Owner] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Planned:
    """A grant to make: whole booklets of one assigned range (the shell's id for it)."""

    grant: TrackRange
    assignment_id: int

    @property
    def booklets(self) -> int:
        return self.grant.range.booklets


@dataclass(frozen=True, slots=True)
class Replay:
    """A retried request id: the answer is the grant it already stands for, not a new one."""

    request_id: str


Outcome = Planned | Replay | DomainError


def plan_grants(batch: BatchSnapshot, asks: Sequence[Ask], now: datetime) -> list[Outcome]:
    """Each request's outcome, in order; a refused request changes nothing for the later ones."""
    work = _Work(batch, now)
    outcomes: list[Outcome] = []
    for ask in asks:
        try:
            outcomes.append(work.decide(ask))
        except DomainError as error:
            outcomes.append(error)
    return outcomes


class _Work:
    """The batch's working copy: the grants planned so far taken out of the free runs.

    A private mutable copy rather than a new snapshot per request: a burst decides 10,000
    requests, and copying every branch's holding for each would be quadratic.
    """

    def __init__(self, batch: BatchSnapshot, now: datetime) -> None:
        self.branches = batch.branches
        self.granted = dict(batch.granted)
        self.pools = {key: _PoolWork(key, pool, now) for key, pool in batch.pools.items()}

    def decide(self, ask: Ask) -> Planned | Replay:
        owner = self.granted.get(ask.request_id)
        if owner is not None:
            return owner.replay(ask)
        branch = self.branches.get(ask.branch)
        if branch is None:
            raise NotFound(f"branch {ask.branch} is not registered at this HQ")
        if not branch.enabled:
            raise branch_disabled(ask.branch)
        planned = self.pools[ask.pool].grant(ask.branch, branch.quota, ask.booklets)
        self.granted[ask.request_id] = Owner(ask.branch, ask.pool)
        return planned


class _PoolWork:
    def __init__(self, key: PoolKey, pool: PoolSnapshot, now: datetime) -> None:
        self.problem: DomainError | None = None
        try:
            pool.require_open(key, now)
        except DomainError as error:
            self.problem = error  # refuses each of the pool's requests, in its turn
        self.runs = list(pool.free)
        self.assigned = pool.assigned
        self.held = dict(pool.held)

    def grant(self, branch: Ban, quota: Quota, requested: int) -> Planned:
        """Plan the branch's next grant and take it out of the free runs."""
        if self.problem is not None:
            # the same error for each of the pool's requests: without its last traceback, so
            # that a burst against a closed pool does not grow one traceback per request
            raise self.problem.with_traceback(None)
        held = self.held.get(branch, NOTHING_YET)
        booklets = booklets_allowed(requested, quota, held.booklets)
        grant = plan_grant(self.runs, held.latest, booklets)
        self.take(grant)
        self.held[branch] = BranchGrants(held.booklets + grant.range.booklets, grant)
        return Planned(grant, self.holder(grant))

    def take(self, grant: TrackRange) -> None:
        for index, run in enumerate(self.runs):
            if run.track == grant.track and grant.range.begin in run.range:
                rest = RangeSet((run.range,)) - RangeSet((grant.range,))
                self.runs[index : index + 1] = [TrackRange(run.track, r) for r in rest]
                return

    def holder(self, grant: TrackRange) -> int:
        """The id of the assigned range holding the grant (a free run never leaves one)."""
        return next(
            i for a, i in self.assigned if a.track == grant.track and grant.range.begin in a.range
        )
