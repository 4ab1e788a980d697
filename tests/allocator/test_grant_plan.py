"""The batch planner against a model that stores each grant and reads the state afresh."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import (
    Ask,
    AssignedRange,
    Ban,
    BatchSnapshot,
    BranchDisabled,
    BranchGrants,
    BranchSnapshot,
    DomainError,
    InvalidInput,
    InvalidQuota,
    InvoiceType,
    NotFound,
    NumberRange,
    Outcome,
    Owner,
    Period,
    PeriodClosed,
    PeriodNotAssigned,
    PermissionDenied,
    Planned,
    PoolExhausted,
    PoolKey,
    PoolSnapshot,
    Quota,
    QuotaReached,
    RangeSet,
    RangeStatus,
    Replay,
    Track,
    TrackRange,
    free_runs,
    plan_grants,
)

NOW = datetime(2026, 1, 15, 4, 0, tzinfo=UTC)
OPEN = PoolKey(Period(2026, 2), InvoiceType.GENERAL)
SPECIAL = PoolKey(Period(2026, 2), InvoiceType.SPECIAL)
ENDED = PoolKey(Period(2025, 12), InvoiceType.GENERAL)
# each pool its own tracks, as the MOF assigns them: grants of two pools never share a number
TRACKS = {OPEN: (Track("AA"), Track("AB")), SPECIAL: (Track("CC"),), ENDED: (Track("DD"),)}
BANS = [Ban(digit * 8) for digit in "1234"]
IDS = [f"r{n}" for n in range(8)]


def tr(track: str, begin: int, end: int) -> TrackRange:
    return TrackRange(Track(track), NumberRange(begin, end))


@dataclass
class World:
    """What the database holds: the shell reads a snapshot of it for every batch."""

    branches: dict[Ban, BranchSnapshot]
    assigned: dict[PoolKey, list[tuple[AssignedRange, int]]]
    closed: frozenset[PoolKey] = frozenset()
    grants: list[tuple[str, Ban, PoolKey, TrackRange]] = field(default_factory=list)

    def snapshot(self) -> BatchSnapshot:
        return BatchSnapshot(
            branches=dict(self.branches),
            pools={key: self.pool(key) for key in TRACKS},
            granted={rid: Owner(ban, pool) for rid, ban, pool, _ in self.grants},
        )

    def pool(self, key: PoolKey) -> PoolSnapshot:
        assigned = self.assigned.get(key, [])
        made = [(ban, grant) for _, ban, pool, grant in self.grants if pool == key]
        held: dict[Ban, BranchGrants] = {}
        for ban, grant in made:
            booklets = held.get(ban, BranchGrants()).booklets
            held[ban] = BranchGrants(booklets + grant.range.booklets, grant)
        return PoolSnapshot(
            free=tuple(free_runs([a for a, _ in assigned], [grant for _, grant in made])),
            assigned=tuple((a.track_range, i) for a, i in assigned),
            held=held,
            closed=key in self.closed,
        )

    def one_by_one(self, asks: list[Ask]) -> list[Outcome]:
        """Each request alone in its batch, its grant stored before the next is read."""
        outcomes = []
        for ask in asks:
            [outcome] = plan_grants(self.snapshot(), [ask], NOW)
            if isinstance(outcome, Planned):
                self.grants.append((ask.request_id, ask.branch, ask.pool, outcome.grant))
            outcomes.append(outcome)
        return outcomes


quotas = st.builds(Quota, st.integers(1, 5), st.integers(0, 14))
branch = st.builds(BranchSnapshot, st.sampled_from([True, True, True, False]), quotas)
statuses = st.sampled_from([RangeStatus.ENABLED] * 3 + [RangeStatus.PAUSED, RangeStatus.DISABLED])
asks = st.builds(
    Ask,
    st.sampled_from(IDS),
    st.sampled_from(BANS),
    st.sampled_from([OPEN, OPEN, OPEN, SPECIAL, ENDED]),
    st.integers(0, 6),
)


@st.composite
def pool_ranges(draw: st.DrawFn, key: PoolKey, first_id: int) -> list[tuple[AssignedRange, int]]:
    """Disjoint ranges of whole booklets per track, some paused or disabled."""
    ranges = []
    for track in TRACKS[key]:
        cuts = sorted(draw(st.sets(st.integers(0, 24), max_size=6)))
        for begin, end in zip(cuts[::2], cuts[1::2], strict=False):
            track_range = TrackRange(track, NumberRange(begin * 50, end * 50 - 1))
            ranges.append(AssignedRange(track_range, draw(statuses)))
    return [(a, first_id + n) for n, a in enumerate(ranges)]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A database after some history of grants, each made under the policy."""
    registered = draw(st.lists(st.one_of(st.none(), branch), min_size=4, max_size=4))
    world = World(
        branches={ban: b for ban, b in zip(BANS, registered, strict=True) if b is not None},
        assigned={key: draw(pool_ranges(key, 100 * n)) for n, key in enumerate(TRACKS)},
        closed=draw(st.sets(st.sampled_from([SPECIAL]))),
    )
    world.one_by_one(draw(st.lists(asks, max_size=8)))
    return world


def seen(outcomes: list[Outcome]) -> list[object]:
    """Outcomes comparable with ==: an error by its kind and message."""
    return [(type(o), str(o)) if isinstance(o, DomainError) else o for o in outcomes]


@given(worlds(), st.lists(asks, max_size=20))
@settings(max_examples=300, deadline=None)
def test_a_batch_decides_as_its_requests_one_by_one(world, batch):
    at_once = plan_grants(world.snapshot(), batch, NOW)
    assert seen(at_once) == seen(copy.deepcopy(world).one_by_one(batch))


@given(worlds(), st.lists(asks, max_size=20))
@settings(max_examples=300, deadline=None)
def test_grants_never_overlap_and_stay_in_the_free_runs(world, batch):
    snapshot = world.snapshot()
    planned = [
        (ask, o)
        for ask, o in zip(batch, plan_grants(snapshot, batch, NOW), strict=True)
        if isinstance(o, Planned)
    ]
    for track in {o.grant.track for _, o in planned}:
        mine = [o.grant.range for _, o in planned if o.grant.track == track]
        assert RangeSet.of(mine).count == sum(r.count for r in mine)  # pairwise disjoint
    for ask, o in planned:
        free = RangeSet.of(
            r.range for r in snapshot.pools[ask.pool].free if r.track == o.grant.track
        )
        assert RangeSet((o.grant.range,)) - free == RangeSet()
        holder = dict((i, a) for a, i in snapshot.pools[ask.pool].assigned)[o.assignment_id]
        assert holder.track == o.grant.track
        assert holder.range.begin <= o.grant.range.begin <= o.grant.range.end <= holder.range.end


@given(worlds(), st.lists(asks, max_size=20))
@settings(max_examples=300, deadline=None)
def test_no_branch_exceeds_its_quota(world, batch):
    snapshot = world.snapshot()
    totals: dict[tuple[Ban, PoolKey], int] = {}
    for ask, o in zip(batch, plan_grants(snapshot, batch, NOW), strict=True):
        if isinstance(o, Planned):
            quota = world.branches[ask.branch].quota
            assert 1 <= o.booklets <= min(ask.booklets, quota.booklets_per_request)
            held = snapshot.pools[ask.pool].held.get(ask.branch, BranchGrants()).booklets
            totals[ask.branch, ask.pool] = totals.get((ask.branch, ask.pool), held) + o.booklets
            assert totals[ask.branch, ask.pool] <= quota.booklets_per_period


@given(worlds(), st.lists(asks, max_size=20))
@settings(max_examples=300, deadline=None)
def test_refusals_leave_the_state_unchanged(world, batch):
    snapshot = world.snapshot()
    before = copy.deepcopy(snapshot)
    outcomes = plan_grants(snapshot, batch, NOW)
    assert snapshot == before  # the input is read, never changed
    kept = [
        (ask, o) for ask, o in zip(batch, outcomes, strict=True) if not isinstance(o, DomainError)
    ]
    again = plan_grants(snapshot, [ask for ask, _ in kept], NOW)
    assert again == [o for _, o in kept]


# --- examples: each refusal, its message, and which check comes first ----------------------------

AA0 = tr("AA", 0, 499)


def example(pools: dict[PoolKey, PoolSnapshot] | None = None) -> BatchSnapshot:
    return BatchSnapshot(
        branches={
            BANS[0]: BranchSnapshot(True, Quota(4, 5)),
            BANS[1]: BranchSnapshot(True, Quota(4, 6)),
            BANS[2]: BranchSnapshot(False, Quota(4, 6)),
        },
        pools={
            OPEN: PoolSnapshot((AA0,), ((AA0, 7),)),
            SPECIAL: PoolSnapshot((tr("CC", 0, 99),), ((tr("CC", 0, 99), 8),), closed=True),
            ENDED: PoolSnapshot((tr("DD", 0, 99),), ((tr("DD", 0, 99), 9),)),
            **(pools or {}),
        },
        granted={"old": Owner(BANS[0], OPEN)},
    )


def one(batch: BatchSnapshot, ask: Ask) -> Outcome:
    [outcome] = plan_grants(batch, [ask], NOW)
    return outcome


def test_a_later_request_sees_the_earlier_grants():
    outcomes = plan_grants(
        example(),
        [
            Ask("a", BANS[0], OPEN, 2),
            Ask("b", BANS[1], OPEN, 9),  # capped by the per-request quota: 4
            Ask("c", BANS[0], OPEN, 1),  # the booklets after its range are b's: the lowest free
            Ask("a", BANS[0], OPEN, 2),  # a retry within the batch
            Ask("d", BANS[0], OPEN, 5),  # extends its range by the 2 booklets its quota leaves
            Ask("e", BANS[0], OPEN, 1),
            Ask("f", BANS[1], OPEN, 4),  # 2 left in its quota, 1 in the pool
            Ask("g", BANS[1], OPEN, 1),
        ],
        NOW,
    )
    assert seen(outcomes) == [
        Planned(tr("AA", 0, 99), 7),
        Planned(tr("AA", 100, 299), 7),
        Planned(tr("AA", 300, 349), 7),
        Replay("a"),
        Planned(tr("AA", 350, 449), 7),
        (QuotaReached, "quota reached: 5 of 5 booklets for this period already granted"),
        Planned(tr("AA", 450, 499), 7),
        (PoolExhausted, "pool exhausted: no free booklet is left in an enabled range"),
    ]


@pytest.mark.parametrize(
    ("ask", "kind", "message"),
    [
        (Ask("x", BANS[3], ENDED, 0), NotFound, "branch 44444444 is not registered at this HQ"),
        (Ask("x", BANS[2], ENDED, 0), BranchDisabled, "branch 33333333 is disabled: HQ grants"),
        (Ask("x", BANS[0], ENDED, 0), PeriodClosed, "period 11412 ended at 2026-01-01T00:00:00+08"),
        (Ask("x", BANS[0], SPECIAL, 0), PeriodClosed, "period 11502 type 08 is closed"),
        (Ask("x", BANS[0], OPEN, 0), InvalidQuota, "a request must ask for at least 1 booklet"),
        (Ask("old", BANS[3], ENDED, 0), PermissionDenied, "request id 'old' belongs to branch"),
        (Ask("old", BANS[0], SPECIAL, 1), InvalidInput, "already used for period 11502 type 07"),
    ],
)
def test_each_refusal_in_the_order_of_its_checks(ask, kind, message):
    outcome = one(example(), ask)
    assert isinstance(outcome, kind)
    assert message in str(outcome)


def test_a_pool_without_ranges_is_not_assigned_and_a_retry_is_answered_before_any_check():
    batch = example({OPEN: PoolSnapshot((), ())})
    outcome = one(batch, Ask("new", BANS[0], OPEN, 1))
    assert isinstance(outcome, PeriodNotAssigned)
    assert str(outcome) == "period 11502 type 07 has no assignment yet"
    assert one(batch, Ask("old", BANS[0], OPEN, 1)) == Replay("old")


def test_a_closed_pool_refuses_each_request_without_growing_one_traceback():
    outcomes = plan_grants(example(), [Ask(f"n{n}", BANS[0], SPECIAL, 1) for n in range(50)], NOW)
    assert set(seen(outcomes)) == {(PeriodClosed, "period 11502 type 08 is closed")}
    depth, frame = 0, outcomes[-1].__traceback__
    while frame is not None:
        depth, frame = depth + 1, frame.tb_next
    assert depth <= 3  # plan_grants, decide, grant: not 50 of them
