"""Accounting: assigned = issued + blank + held, exactly and disjointly; E0402 blank ranges.

Random sequences of grants, issues, give-backs (re-used or skipped) are played through the real
allocator functions; the expected parts are computed with Python sets of (track, number).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import (
    AssignedRange,
    Ban,
    BranchUsage,
    BufferEmpty,
    Holding,
    InvoiceNumber,
    InvoiceType,
    NumberRange,
    Period,
    RangeSet,
    RangeStatus,
    Track,
    TrackRange,
    account,
    blank_ranges,
    by_track,
    free_runs,
    plan_grant,
    rewind_on_give_back,
    take,
)

TST = timezone(timedelta(hours=8))
PERIOD = Period(2026, 2)
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=TST)
GENERAL = InvoiceType.GENERAL
HEAD = Ban("22099131")
BRANCHES = (Ban("04595257"), Ban("12345675"), Ban("10458575"))
AA, AB = Track("AA"), Track("AB")


def pairs(sets) -> set[tuple[str, int]]:
    """{Track: RangeSet} -> {(code, number)}."""
    return {
        (track.code, n) for track, rs in sets.items() for r in rs for n in range(r.begin, r.end + 1)
    }


def numbers(rs: RangeSet) -> set[int]:
    return {n for r in rs for n in range(r.begin, r.end + 1)}


def to_sets(items: set[tuple[str, int]]) -> dict[Track, RangeSet]:
    out: dict[Track, list[NumberRange]] = {}
    for code, n in items:
        out.setdefault(Track(code), []).append(NumberRange(n, n))
    return {track: RangeSet.of(ranges) for track, ranges in out.items()}


# --- hand-computed examples ----------------------------------------------------------------------


def test_account_example():
    assigned = {AA: RangeSet.single(0, 99)}
    shop = BRANCHES[0]
    usage = {
        shop: BranchUsage(
            granted={AA: RangeSet.single(0, 49)},
            issued={AA: RangeSet.single(0, 9)},
            skipped={AA: RangeSet.single(12, 12)},
        )
    }
    open_ = account(assigned, usage, closed=False)
    assert open_.issued == {AA: RangeSet.single(0, 9)}
    assert open_.blank == {AA: RangeSet.single(12, 12)}
    assert open_.held == {AA: RangeSet((NumberRange(10, 11), NumberRange(13, 99)))}
    closed = account(assigned, usage, closed=True)
    assert closed.issued == {AA: RangeSet.single(0, 9)}
    assert closed.blank == {AA: RangeSet.single(10, 99)}
    assert closed.held == {AA: RangeSet()}
    assert blank_ranges(HEAD, assigned, usage) == {
        (shop, AA): RangeSet.single(10, 49),
        (HEAD, AA): RangeSet.single(50, 99),
    }


def test_blank_ranges_example_head_is_also_a_branch_and_full_use_is_left_out():
    assigned = {AA: RangeSet.single(0, 199), AB: RangeSet.single(0, 49)}
    usage = {
        HEAD: BranchUsage(granted={AA: RangeSet.single(0, 49)}, issued={AA: RangeSet.single(0, 4)}),
        BRANCHES[0]: BranchUsage(
            granted={AA: RangeSet.single(50, 99), AB: RangeSet.single(0, 49)},
            issued={AA: RangeSet.single(50, 99), AB: RangeSet.single(0, 49)},
        ),
    }
    assert blank_ranges(HEAD, assigned, usage) == {
        (HEAD, AA): RangeSet((NumberRange(5, 49), NumberRange(100, 199))),
    }


def test_numbers_outside_the_assignment_are_ignored():
    assigned = {AA: RangeSet.single(100, 199)}
    usage = {
        BRANCHES[0]: BranchUsage(
            granted={AA: RangeSet.single(50, 149), AB: RangeSet.single(0, 49)},
            issued={AA: RangeSet.single(90, 109), AB: RangeSet.single(0, 9)},
            skipped={AA: RangeSet.single(60, 60)},
        )
    }
    result = account(assigned, usage, closed=False)
    assert result.issued == {AA: RangeSet.single(100, 109)}
    assert result.blank == {AA: RangeSet()}
    assert set(result.held) == {AA}
    assert blank_ranges(HEAD, assigned, usage) == {
        (BRANCHES[0], AA): RangeSet.single(110, 149),
        (HEAD, AA): RangeSet.single(150, 199),
    }


# --- random sequences ----------------------------------------------------------------------------


@st.composite
def segments(draw):
    out = []
    for track in draw(st.lists(st.sampled_from([AA, AB]), min_size=1, max_size=2, unique=True)):
        booklet = draw(st.sampled_from([0, 1_999_980]))
        for gap, size, status in draw(
            st.lists(
                st.tuples(
                    st.integers(0, 2),
                    st.integers(1, 3),
                    st.sampled_from([RangeStatus.ENABLED] * 3 + [RangeStatus.PAUSED]),
                ),
                min_size=1,
                max_size=3,
            )
        ):
            booklet += gap
            out.append(
                AssignedRange(
                    TrackRange(track, NumberRange(booklet * 50, (booklet + size) * 50 - 1)), status
                )
            )
            booklet += size
    return out


def branch_ops(kind: str, arg: st.SearchStrategy[int]) -> st.SearchStrategy:
    return st.tuples(st.just(kind), st.integers(0, 3), arg)


ops = st.one_of(
    branch_ops("grant", st.integers(1, 3)),
    branch_ops("take", st.integers(1, 30)),
    branch_ops("take", st.integers(1, 5)),
    branch_ops("take", st.integers(1, 5)),
    branch_ops("give_back", st.integers(0, 10_000)),
    branch_ops("give_back_last", st.just(0)),
    branch_ops("give_back_last", st.just(0)),
)
# every branch starts with a grant or two, so that most sequences issue numbers
opening = st.lists(branch_ops("grant", st.integers(1, 2)), min_size=2, max_size=5)


@settings(deadline=None, max_examples=200)
@given(segments(), opening, st.lists(ops, min_size=10, max_size=50), st.booleans())
def test_assigned_is_issued_plus_blank_plus_held(pool, first, steps, head_is_branch):
    bans = [*BRANCHES, HEAD] if head_is_branch else [*BRANCHES, Ban("90000012")]
    grants: dict[int, list[TrackRange]] = {b: [] for b in range(4)}
    holdings: dict[int, list[Holding]] = {b: [] for b in range(4)}
    handed: dict[int, list[tuple[str, int]]] = {b: [] for b in range(4)}  # time order, no rewinds
    issued: dict[int, set[tuple[str, int]]] = {b: set() for b in range(4)}
    skipped: dict[int, set[tuple[str, int]]] = {b: set() for b in range(4)}
    grant_of: dict[tuple[str, int], str] = {}

    for kind, b, arg in first + steps:
        if kind == "grant":
            runs = free_runs(pool, [g for gs in grants.values() for g in gs])
            if not runs:
                continue
            grant = plan_grant(runs, grants[b][-1] if grants[b] else None, arg)
            grants[b].append(grant)
            gid = f"g{b}-{len(grants[b])}"
            holdings[b].append(Holding(gid, PERIOD, GENERAL, grant, grant.range.begin))
        elif kind == "take":
            expected = [
                (h.track_range.track.code, n, h.grant_id)
                for h in holdings[b]
                for n in range(h.next_number, h.track_range.range.end + 1)
            ][:arg]
            if len(expected) < arg:
                with pytest.raises(BufferEmpty):
                    take(holdings[b], arg, NOW, GENERAL)
                continue
            got, cursors = take(holdings[b], arg, NOW, GENERAL)
            assert [(i.number.track.code, i.number.number, i.grant_id) for i in got] == expected
            holdings[b] = [
                replace(h, next_number=cursors.get(h.grant_id, h.next_number)) for h in holdings[b]
            ]
            for code, n, gid in expected:
                handed[b].append((code, n))
                issued[b].add((code, n))
                grant_of[(code, n)] = gid
        else:
            if not issued[b]:
                continue
            if kind == "give_back_last" and handed[b][-1] in issued[b]:
                target = handed[b][-1]
            else:
                target = sorted(issued[b])[arg % len(issued[b])]
            index = next(i for i, h in enumerate(holdings[b]) if h.grant_id == grant_of[target])
            last = InvoiceNumber(Track(handed[b][-1][0]), handed[b][-1][1])
            result = rewind_on_give_back(holdings[b][index], target[1], last)
            issued[b].discard(target)
            if handed[b][-1] == target:  # nothing handed out after it: re-used
                assert result is not None and result.next_number == target[1]
                holdings[b][index] = result
                handed[b].pop()
            else:
                assert result is None
                skipped[b].add(target)

    assigned = by_track(a.track_range for a in pool)
    usage = {
        bans[b]: BranchUsage(
            granted=by_track(grants[b]), issued=to_sets(issued[b]), skipped=to_sets(skipped[b])
        )
        for b in range(4)
    }
    everything = pairs(assigned)
    all_issued = set().union(*issued.values()) & everything
    all_skipped = set().union(*skipped.values())
    granted = {b: pairs(by_track(grants[b])) for b in range(4)}

    for closed in (False, True):
        result = account(assigned, usage, closed)
        assert set(result.issued) == set(result.blank) == set(result.held) == set(assigned)
        got_issued, got_blank, got_held = (
            pairs(result.issued),
            pairs(result.blank),
            pairs(result.held),
        )
        sizes = sum(
            rs.count for part in (result.issued, result.blank, result.held) for rs in part.values()
        )
        assert sizes == len(everything)  # disjoint ...
        assert got_issued | got_blank | got_held == everything  # ... and exactly the assignment
        assert got_issued == all_issued
        if closed:
            assert got_blank == everything - all_issued and not got_held
        else:
            assert got_blank == all_skipped - all_issued
            assert got_held == everything - all_issued - got_blank

    blanks = blank_ranges(HEAD, assigned, usage)
    expected: dict[tuple[Ban, str], set[tuple[str, int]]] = {}
    for b in range(4):
        for code, n in granted[b] - issued[b]:
            expected.setdefault((bans[b], code), set()).add((code, n))
    never_granted = everything - set().union(*granted.values())
    for code, n in never_granted:
        expected.setdefault((HEAD, code), set()).add((code, n))
    assert {
        (ban, track.code): {(track.code, n) for n in numbers(rs)}
        for (ban, track), rs in blanks.items()
    } == expected
    assert all(rs for rs in blanks.values())
    union = set()
    for (_, track), rs in blanks.items():
        part = {(track.code, n) for n in numbers(rs)}
        assert not part & union  # keys never share a number
        union |= part
    assert union | all_issued == everything
    assert not union & all_issued
    assert union == pairs(account(assigned, usage, closed=True).blank)
    head_part = set().union(*(v for (ban, _), v in expected.items() if ban == HEAD), set())
    assert never_granted <= head_part
