"""A branch's buffer: take, period end, invoice type, give-backs, refill policy."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import (
    BufferEmpty,
    Holding,
    InvalidQuota,
    InvoiceNumber,
    InvoiceType,
    NumberRange,
    Period,
    RefillPolicy,
    Track,
    TrackRange,
    rewind_on_give_back,
    skipped_at_close,
    take,
    usable,
)

TST = timezone(timedelta(hours=8))
GENERAL, SPECIAL = InvoiceType.GENERAL, InvoiceType.SPECIAL
P11412, P11502 = Period(2025, 12), Period(2026, 2)
MID_11502 = datetime(2026, 1, 20, 10, 0, tzinfo=TST)
AB, AC = Track("AB"), Track("AC")


def holding(
    gid: str,
    begin: int,
    end: int,
    next_number: int | None = None,
    period: Period = P11502,
    kind: InvoiceType = GENERAL,
    track: Track = AB,
) -> Holding:
    cursor = begin if next_number is None else next_number
    return Holding(gid, period, kind, TrackRange(track, NumberRange(begin, end)), cursor)


def as_text(issued) -> list[str]:
    return [str(i.number) for i in issued]


# --- take ----------------------------------------------------------------------------------------


def test_take_is_ascending_within_each_grant_in_grant_order():
    holdings = [holding("g1", 100, 149, 110), holding("g2", 0, 49)]
    issued, cursors = take(holdings, 45, MID_11502, GENERAL)
    expected = [f"AB{n:08d}" for n in [*range(110, 150), *range(0, 5)]]
    assert as_text(issued) == expected
    assert [i.grant_id for i in issued] == ["g1"] * 40 + ["g2"] * 5
    assert all(i.period == P11502 and i.invoice_type is GENERAL for i in issued)
    assert cursors == {"g1": 150, "g2": 5}
    # the input is not changed: take is pure, the caller stores the cursors
    assert holdings[0].next_number == 110


def test_take_skips_used_up_grants():
    holdings = [holding("g1", 0, 49, 50), holding("g2", 50, 99, 98)]
    assert holdings[0].remaining == 0 and holdings[1].remaining == 2
    issued, cursors = take(holdings, 2, MID_11502, GENERAL)
    assert as_text(issued) == ["AB00000098", "AB00000099"]
    assert cursors == {"g2": 100}


def test_take_beyond_the_buffer():
    holdings = [holding("g1", 0, 49, 47), holding("g2", 50, 99, 99)]
    with pytest.raises(BufferEmpty) as info:
        take(holdings, 5, MID_11502, GENERAL)
    message = str(info.value)
    assert "only 4 of 5" in message
    assert "07" in message and "11502" in message
    with pytest.raises(BufferEmpty):
        take([], 1, MID_11502, GENERAL)


def test_never_a_number_of_a_period_that_has_ended():
    old = holding("old", 0, 49, period=P11412, track=AB)
    new = holding("new", 0, 49, period=P11502, track=AC)
    last_instant = datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=TST)
    first_instant = last_instant + timedelta(microseconds=1)

    issued, _ = take([old, new], 50, last_instant, GENERAL)
    assert as_text(issued) == [f"AB{n:08d}" for n in range(50)]
    assert {i.period for i in issued} == {P11412}
    with pytest.raises(BufferEmpty):
        take([old, new], 51, last_instant, GENERAL)  # never spills into the next period early

    issued, _ = take([old, new], 3, first_instant, GENERAL)
    assert as_text(issued) == ["AC00000000", "AC00000001", "AC00000002"]
    assert {i.period for i in issued} == {P11502}
    with pytest.raises(BufferEmpty) as info:
        take([old], 1, first_instant, GENERAL)
    assert "11502" in str(info.value)
    # the same instant given in UTC
    with pytest.raises(BufferEmpty):
        take([old], 1, datetime(2025, 12, 31, 16, 0, tzinfo=UTC), GENERAL)
    assert usable([old, new], first_instant, GENERAL) == [new]
    assert usable([old, new], last_instant, GENERAL) == [old]


def test_invoice_types_are_kept_apart():
    general = holding("gen", 0, 49, kind=GENERAL)
    special = holding("spe", 50, 99, kind=SPECIAL)
    issued, cursors = take([general, special], 3, MID_11502, SPECIAL)
    assert as_text(issued) == ["AB00000050", "AB00000051", "AB00000052"]
    assert {i.invoice_type for i in issued} == {SPECIAL}
    assert cursors == {"spe": 53}
    issued, _ = take([general, special], 50, MID_11502, GENERAL)
    assert {i.grant_id for i in issued} == {"gen"}
    with pytest.raises(BufferEmpty) as info:
        take([general], 1, MID_11502, SPECIAL)
    assert "08" in str(info.value)


@st.composite
def buffers(draw):
    out = []
    for index in range(draw(st.integers(0, 5))):
        begin = draw(st.integers(0, 40)) * 50
        end = begin + draw(st.integers(1, 2)) * 50 - 1
        out.append(
            holding(
                f"g{index}",
                begin,
                end,
                draw(st.integers(begin, end + 1)),
                draw(st.sampled_from([P11412, P11502, P11502.next()])),
                draw(st.sampled_from([GENERAL, SPECIAL])),
                draw(st.sampled_from([AB, AC])),
            )
        )
    return out


@settings(max_examples=300)
@given(
    buffers(),
    st.integers(1, 120),
    st.datetimes(min_value=datetime(2025, 11, 1), max_value=datetime(2026, 5, 1)),
    st.sampled_from([GENERAL, SPECIAL]),
)
def test_take_matches_reference(holdings, count, naive_utc, kind):
    now = naive_utc.replace(tzinfo=UTC)
    local = naive_utc + timedelta(hours=8)
    current = Period(local.year, local.month + local.month % 2)
    expected = [
        (h.grant_id, f"{h.track_range.track.code}{n:08d}")
        for h in holdings
        if h.period == current and h.invoice_type is kind
        for n in range(h.next_number, h.track_range.range.end + 1)
    ]
    if len(expected) < count:
        with pytest.raises(BufferEmpty):
            take(holdings, count, now, kind)
        return
    issued, cursors = take(holdings, count, now, kind)
    assert [(i.grant_id, str(i.number)) for i in issued] == expected[:count]
    assert all(i.period == current and i.invoice_type is kind for i in issued)
    for h in holdings:
        taken = [i.number.number for i in issued if i.grant_id == h.grant_id]
        if taken:
            assert taken == sorted(taken)
            assert cursors[h.grant_id] == taken[-1] + 1
        else:
            assert cursors.get(h.grant_id, h.next_number) == h.next_number


# --- give-backs ----------------------------------------------------------------------------------


def test_give_back_of_the_last_issued_number_is_reused():
    h = holding("g1", 0, 49, 5)
    rewound = rewind_on_give_back(h, 4, InvoiceNumber(AB, 4))
    assert rewound is not None
    assert rewound.next_number == 4 and rewound.grant_id == "g1"
    issued, _ = take([rewound], 1, MID_11502, GENERAL)
    assert as_text(issued) == ["AB00000004"]


@pytest.mark.parametrize(
    ("next_number", "number", "last"),
    [
        (5, 3, InvoiceNumber(AB, 4)),  # a later number was issued: skip
        (5, 4, InvoiceNumber(AC, 4)),  # last issued is of another track
        (6, 4, InvoiceNumber(AB, 4)),  # the cursor has moved past it
        (5, 4, InvoiceNumber(AB, 5)),  # the last issued is not this number
        (50, 50, InvoiceNumber(AB, 50)),  # outside the grant
    ],
)
def test_give_back_otherwise_is_a_skip(next_number, number, last):
    assert rewind_on_give_back(holding("g1", 0, 49, next_number), number, last) is None


def test_give_back_across_adjacent_grants_belongs_to_the_right_grant():
    first = holding("g1", 0, 49, 50)  # used up, last issued AB00000049
    second = holding("g2", 50, 99, 50)  # extension grant, nothing issued yet
    last = InvoiceNumber(AB, 49)
    assert rewind_on_give_back(second, 49, last) is None  # 49 is not g2's number
    rewound = rewind_on_give_back(first, 49, last)
    assert rewound is not None and rewound.next_number == 49 and rewound.remaining == 1


# --- refill policy -------------------------------------------------------------------------------


def test_needs_refill_by_count_and_by_minutes():
    policy = RefillPolicy(low_water_count=100, low_water_minutes=30.0)
    assert policy.needs_refill(99, 0.0)
    assert not policy.needs_refill(100, 0.0)
    assert not policy.needs_refill(10_000, 0.0)
    assert policy.needs_refill(599, 20.0)  # 29.95 minutes left
    assert not policy.needs_refill(600, 20.0)  # exactly 30 minutes
    assert not policy.needs_refill(601, 20.0)


def test_booklets_for_examples():
    policy = RefillPolicy(low_water_minutes=30.0, min_booklets=1, max_booklets=20)
    assert policy.booklets_for(0.0) == 1
    assert policy.booklets_for(10.0) == 12  # 600 numbers for 60 minutes
    assert policy.booklets_for(10.1) == 13
    assert policy.booklets_for(1_000.0) == 20
    assert RefillPolicy(min_booklets=3).booklets_for(0.5) == 3


@given(
    st.floats(0, 10_000, allow_nan=False),
    st.integers(1, 10),
    st.integers(0, 40),
    st.floats(1, 240, allow_nan=False),
)
def test_booklets_for_is_bounded_and_enough(burn, low, extra, minutes):
    high = low + extra
    policy = RefillPolicy(low_water_minutes=minutes, min_booklets=low, max_booklets=high)
    booklets = policy.booklets_for(burn)
    assert low <= booklets <= high
    horizon = burn * minutes * 2
    if booklets < high:
        assert booklets * 50 >= horizon - 1e-6  # enough for twice the low-water horizon
    if booklets > low:
        assert (booklets - 1) * 50 < horizon + 1e-6  # and not a booklet more than that
    assert policy.booklets_for(burn * 2) >= booklets


@given(st.integers(0, 10_000), st.integers(0, 4_000), st.integers(0, 500))
def test_needs_refill_matches_definition(remaining, quarter_burn, low_count):
    burn = quarter_burn / 4  # exact in binary, so the reference can use exact integers
    policy = RefillPolicy(low_water_count=low_count, low_water_minutes=30.0)
    runs_out_soon = quarter_burn > 0 and remaining * 4 < 30 * quarter_burn
    assert policy.needs_refill(remaining, burn) == (remaining < low_count or runs_out_soon)


def test_skipped_at_close_reports_what_was_given_back_and_never_reissued() -> None:
    assert skipped_at_close(120, 125) == NumberRange(120, 124)
    assert skipped_at_close(125, 125) is None
    assert skipped_at_close(100, 50) is None


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"low_water_minutes": float("nan")}, "low water minutes nan"),
        ({"low_water_minutes": float("inf")}, "low water minutes inf"),
        ({"low_water_minutes": -1.0}, "low water minutes -1.0"),
        ({"low_water_minutes": 0.0}, "more than 0"),
        ({"low_water_count": -1}, "low water count -1"),
        ({"min_booklets": 5, "max_booklets": 2}, "min 5 / max 2"),
        ({"min_booklets": 0}, "min 0"),
        ({"max_booklets": 10_001}, "max 10001"),
    ],
)
def test_refill_policies_out_of_bounds_are_refused(values, needle):
    with pytest.raises(InvalidQuota, match=re.escape(needle)):
        RefillPolicy(**values)
