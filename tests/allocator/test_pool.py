"""The pool and the allocation policy, checked against sets of (track, number) pairs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import (
    AssignedRange,
    InvalidQuota,
    MisalignedRange,
    NumberRange,
    OverlappingRange,
    PoolExhausted,
    Quota,
    QuotaReached,
    RangeNotEnabled,
    RangeSet,
    RangeStatus,
    Track,
    TrackRange,
    booklets_allowed,
    by_track,
    check_new_assignment,
    free_runs,
    plan_grant,
    require_enabled,
)

AA, AB, ZZ = Track("AA"), Track("AB"), Track("ZZ")
ENABLED, PAUSED, DISABLED = RangeStatus.ENABLED, RangeStatus.PAUSED, RangeStatus.DISABLED


def tr(track: Track, begin: int, end: int) -> TrackRange:
    return TrackRange(track, NumberRange(begin, end))


def ar(track: Track, begin: int, end: int, status: RangeStatus = ENABLED) -> AssignedRange:
    return AssignedRange(tr(track, begin, end), status)


# --- Quota and booklets_allowed ------------------------------------------------------------------


@pytest.mark.parametrize("per_request", [0, -1, 10_001, 2**32 - 1])
def test_quota_per_request_must_be_positive_and_bounded(per_request):
    with pytest.raises(InvalidQuota) as info:
        Quota(per_request, 10)
    assert f"booklets per request {per_request}" in str(info.value)
    assert "must be 1..10,000" in str(info.value)


@pytest.mark.parametrize("per_period", [-3, 2_000_001, 2**32 - 1])
def test_quota_per_period_must_fit_a_track(per_period):
    with pytest.raises(InvalidQuota) as info:
        Quota(1, per_period)
    assert str(per_period) in str(info.value) and "0..2,000,000" in str(info.value)
    assert Quota(1, 0).booklets_per_period == 0
    assert Quota(10_000, 2_000_000).booklets_per_period == 2_000_000


@pytest.mark.parametrize("requested", [0, -2])
def test_request_must_ask_for_a_booklet(requested):
    with pytest.raises(InvalidQuota) as info:
        booklets_allowed(requested, Quota(5, 10), 0)
    assert str(requested) in str(info.value) and "at least 1" in str(info.value)


@pytest.mark.parametrize(("per_period", "granted"), [(10, 10), (10, 13), (0, 0)])
def test_quota_reached(per_period, granted):
    with pytest.raises(QuotaReached) as info:
        booklets_allowed(1, Quota(5, per_period), granted)
    message = str(info.value)
    assert f"{granted} of {per_period}" in message and "quota reached" in message


@given(st.integers(1, 30), st.integers(1, 10), st.integers(0, 30), st.integers(0, 30))
def test_booklets_allowed_matches_one_at_a_time_oracle(requested, per_request, per_period, granted):
    quota = Quota(per_request, per_period)
    allowed = 0
    while allowed < requested and allowed < per_request and granted + allowed < per_period:
        allowed += 1
    if allowed == 0:
        with pytest.raises(QuotaReached):
            booklets_allowed(requested, quota, granted)
    else:
        assert booklets_allowed(requested, quota, granted) == allowed


# --- assignments ---------------------------------------------------------------------------------


def test_check_new_assignment():
    existing = [tr(AA, 0, 499), tr(AB, 1000, 1499)]
    new = tr(AA, 500, 999)
    assert check_new_assignment(new, existing) is new  # adjacent is fine
    assert check_new_assignment(tr(AB, 0, 499), existing)  # same numbers, other track
    with pytest.raises(OverlappingRange) as info:
        check_new_assignment(tr(AA, 450, 549), existing)
    assert "AA00000450-AA00000549" in str(info.value)
    assert "AA00000000-AA00000499" in str(info.value)
    assert "overlaps" in str(info.value)
    with pytest.raises(MisalignedRange) as misaligned:
        check_new_assignment(tr(AA, 500, 998), existing)
    assert "00000500-00000998" in str(misaligned.value)


def test_by_track_coalesces_per_track():
    grouped = by_track([tr(AA, 50, 99), tr(AB, 0, 49), tr(AA, 0, 49), tr(AA, 200, 249)])
    assert grouped == {
        AA: RangeSet((NumberRange(0, 99), NumberRange(200, 249))),
        AB: RangeSet((NumberRange(0, 49),)),
    }


def test_track_range_str():
    assert str(tr(AB, 0, 49)) == "AB00000000-AB00000049"


# --- free runs, plan_grant, require_enabled ------------------------------------------------------


def test_free_runs_skip_paused_and_disabled_and_stay_inside_one_range():
    pool = [
        ar(AB, 0, 99),
        ar(AA, 100, 199),
        ar(AA, 0, 99),  # adjacent to the one above: runs must not merge across ranges
        ar(AA, 200, 299, PAUSED),
        ar(AA, 300, 399, DISABLED),
    ]
    runs = free_runs(pool, [tr(AA, 50, 99), tr(AB, 0, 49)])
    assert runs == [tr(AA, 0, 49), tr(AA, 100, 199), tr(AB, 50, 99)]


@pytest.mark.parametrize(
    "pool",
    [[], [ar(AA, 0, 99, PAUSED)], [ar(AA, 0, 99, DISABLED)], [ar(AA, 0, 99)]],
    ids=["empty", "paused", "disabled", "all-granted"],
)
def test_plan_grant_on_exhausted_pool(pool):
    runs = free_runs(pool, [tr(AA, 0, 99)])
    assert runs == []
    with pytest.raises(PoolExhausted) as info:
        plan_grant(runs, None, 1)
    assert "pool exhausted" in str(info.value) and "enabled" in str(info.value)


def test_plan_grant_extends_the_current_range_else_takes_the_lowest():
    pool = [ar(AA, 0, 999), ar(AB, 0, 999)]
    current = tr(AB, 100, 199)
    runs = free_runs(pool, [tr(AA, 0, 49), current])
    assert plan_grant(runs, current, 2) == tr(AB, 200, 299)
    assert plan_grant(runs, None, 2) == tr(AA, 50, 149)
    assert plan_grant(runs, tr(AA, 0, 49), 30) == tr(AA, 50, 999)  # capped at the free run
    # the booklet after the current range is taken: lowest free instead
    runs = free_runs(pool, [tr(AA, 0, 49), current, tr(AB, 200, 249)])
    assert plan_grant(runs, current, 1) == tr(AA, 50, 99)
    # the booklet after the current range is paused: lowest free instead
    pool = [ar(AA, 0, 999), ar(AB, 0, 199), ar(AB, 200, 999, PAUSED)]
    runs = free_runs(pool, [tr(AA, 0, 49), current])
    assert plan_grant(runs, current, 1) == tr(AA, 50, 99)


def test_require_enabled():
    pool = [ar(AA, 0, 99), ar(AA, 100, 199, PAUSED), ar(AA, 200, 299, DISABLED)]
    assert require_enabled(pool, tr(AA, 50, 99)) == pool[0]
    with pytest.raises(RangeNotEnabled) as info:
        require_enabled(pool, tr(AA, 100, 149))
    assert "AA00000100-AA00000199" in str(info.value) and "paused" in str(info.value)
    with pytest.raises(RangeNotEnabled) as info:
        require_enabled(pool, tr(AA, 250, 299))
    assert "disabled" in str(info.value)
    with pytest.raises(RangeNotEnabled) as info:
        require_enabled(pool, tr(AB, 0, 49))
    assert "AB00000000-AB00000049" in str(info.value) and "not inside" in str(info.value)
    # a target reaching from the enabled range into the paused one is not held by either
    with pytest.raises(RangeNotEnabled):
        require_enabled(pool, tr(AA, 50, 149))
    with pytest.raises(RangeNotEnabled):
        require_enabled([ar(AA, 0, 99)], tr(AA, 50, 149))


# --- the allocation policy under random sequences ------------------------------------------------

TRACKS = (AA, AB, ZZ)
STATUSES = (ENABLED, ENABLED, ENABLED, PAUSED, DISABLED)


@st.composite
def pools(draw):
    """Per track, booklet-aligned ranges laid out with gaps (0 = adjacent), sometimes at the top."""
    segments = []
    for track in draw(st.lists(st.sampled_from(TRACKS), min_size=1, max_size=3, unique=True)):
        booklet = draw(st.sampled_from([0, 7, 1_999_900]))
        for gap, size, status in draw(
            st.lists(
                st.tuples(st.integers(0, 2), st.integers(1, 4), st.sampled_from(STATUSES)),
                min_size=1,
                max_size=4,
            )
        ):
            booklet += gap
            segments.append([track, booklet * 50, (booklet + size) * 50 - 1, status])
            booklet += size
    return segments


requests = st.tuples(st.just("request"), st.integers(0, 3), st.integers(1, 6))
operations = st.one_of(
    requests,
    requests,
    requests,
    st.tuples(st.just("status"), st.integers(0, 11), st.sampled_from(STATUSES)),
)


@settings(deadline=None, max_examples=300)
@given(
    pools(),
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 12)), min_size=4, max_size=4),
    st.lists(operations, min_size=1, max_size=25),
    st.booleans(),
)
def test_grants_are_whole_disjoint_enabled_booklets_with_extension_preference(
    segments, quotas, ops, reverse
):
    quotas = [Quota(per_request, per_period) for per_request, per_period in quotas]
    granted: set[tuple[str, int]] = set()
    grants: list[TrackRange] = []
    current: dict[int, TrackRange] = {}
    booklets_of = [0, 0, 0, 0]
    for op in ops:
        if op[0] == "status":
            segments[op[1] % len(segments)][3] = op[2]
            continue
        _, branch, requested = op
        pool = [ar(track, begin, end, status) for track, begin, end, status in segments]
        if reverse:
            pool.reverse()
        free = {
            (track.code, n)
            for track, begin, end, status in segments
            if status is ENABLED
            for n in range(begin, end + 1)
        } - granted

        quota = quotas[branch]
        try:
            allowed = booklets_allowed(requested, quota, booklets_of[branch])
        except QuotaReached:
            assert booklets_of[branch] >= quota.booklets_per_period
            continue
        assert 1 <= allowed <= min(requested, quota.booklets_per_request)
        assert booklets_of[branch] + allowed <= quota.booklets_per_period

        runs = free_runs(pool, grants)
        assert {(r.track.code, n) for r in runs for n in range(r.range.begin, r.range.end + 1)} == (
            free
        )
        if not free:
            with pytest.raises(PoolExhausted):
                plan_grant(runs, current.get(branch), allowed)
            continue
        grant = plan_grant(runs, current.get(branch), allowed)
        code, begin, end = grant.track.code, grant.range.begin, grant.range.end
        numbers = {(code, n) for n in range(begin, end + 1)}

        # whole booklets, free (so never overlapping an earlier grant), in one enabled range
        assert begin % 50 == 0 and (end + 1) % 50 == 0
        assert numbers <= free
        holders = [s for s in segments if s[0] == grant.track and s[1] <= begin and end <= s[2]]
        assert len(holders) == 1 and holders[0][3] is ENABLED
        assert require_enabled(pool, grant).range == NumberRange(holders[0][1], holders[0][2])

        # where it starts: right after the branch's current grant if free, else the lowest free
        previous = current.get(branch)
        if previous is not None and (previous.track.code, previous.range.end + 1) in free:
            assert (code, begin) == (previous.track.code, previous.range.end + 1)
        else:
            assert (code, begin) == min(free)

        # how long: as many booklets as allowed, cut at the end of the free run in that range
        run_end = begin
        while run_end + 1 <= holders[0][2] and (code, run_end + 1) in free:
            run_end += 1
        assert end - begin + 1 == min(allowed * 50, run_end - begin + 1)

        granted |= numbers
        grants.append(grant)
        current[branch] = grant
        booklets_of[branch] += (end - begin + 1) // 50

    total = sum(g.range.count for g in grants)
    assert total == len(granted)  # pairwise disjoint
    for branch, quota in enumerate(quotas):
        assert booklets_of[branch] <= quota.booklets_per_period
