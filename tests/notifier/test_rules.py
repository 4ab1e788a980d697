"""The rules as pure functions of hand-built snapshots: the edges of each threshold."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from allocator import TAIPEI, InvoiceType, Period, PoolKey
from notifier import Kind, ReportState, ReportStatus
from notifier.config import Thresholds
from notifier.mailtext import Occasion, render
from notifier.model import BranchPool, BranchState, PoolState, Snapshot
from notifier.rules import blank_report, evaluate

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)
LIMITS = Thresholds()
POOL = PoolState("11512", "07", 10_000, 0, False, 0.0, ("AB",))
BRANCH = BranchState(
    ban="04595257",
    name="Store 0",
    enabled=True,
    booklets_per_period=10,
    low_water_count=100,
    burn_per_hour=0.0,
    last_report_at=NOW,
    last_agent_time=NOW,
    last_grant_at=NOW,
    pools={"07": BranchPool("07", 500, 10, "AB")},
    active_types=frozenset({"07"}),
)


def snap(
    *,
    now: datetime = NOW,
    pools: tuple[PoolState, ...] = (POOL,),
    branches: tuple[BranchState, ...] = (BRANCH,),
    assigned: dict[str, frozenset[str]] | None = None,
    reports: dict[PoolKey, ReportStatus] | None = None,
) -> Snapshot:
    period = Period.containing(now)
    types = {period.to_year_month(): frozenset({"07"})} if assigned is None else assigned
    return Snapshot(now, period, pools, branches, types, reports or {})


def kinds(snapshot: Snapshot) -> list[Kind]:
    return [a.kind for a in evaluate(snapshot, LIMITS)]


def test_a_quiet_hq_raises_nothing() -> None:
    assert kinds(snap()) == []


@pytest.mark.parametrize(
    ("free", "burn", "now", "fires"),
    [
        (10_000, 100.0, NOW, True),  # 4.2 days < 7
        (10_000, 50.0, NOW, False),  # 8.3 days
        (1_000, 10.0, datetime(2026, 12, 29, 12, 0, tzinfo=TAIPEI), False),  # outlasts period
        (1_000, 0.0, NOW, False),  # nobody burns
        (0, 0.0, NOW, True),  # empty
    ],
)
def test_pool_low_only_when_it_runs_out_within_n_days_and_the_period(
    free: int, burn: float, now: datetime, fires: bool
) -> None:
    pool = replace(POOL, free_enabled=free, burn_per_hour=burn)
    assert (Kind.POOL_LOW in kinds(snap(now=now, pools=(pool,)))) is fires


def test_a_closed_pool_is_not_low() -> None:
    assert kinds(snap(pools=(replace(POOL, free_enabled=0, closed=True),))) == []


@pytest.mark.parametrize(
    ("branch", "pool", "reason"),
    [
        (replace(BRANCH, pools={"07": BranchPool("07", 50, 10)}), POOL, "quota_reached"),
        (
            replace(BRANCH, pools={"07": BranchPool("07", 50, 2)}),
            replace(POOL, free_enabled=0),
            "pool_empty",
        ),
        (
            replace(BRANCH, pools={"07": BranchPool("07", 50, 2)}),
            replace(POOL, free_enabled=0, free_held_back=500),
            "ranges_paused",
        ),
        (replace(BRANCH, pools={}), None, "not_imported"),
        (replace(BRANCH, pools={"07": BranchPool("07", 50, 2)}), POOL, None),  # refillable
        (replace(BRANCH, pools={"07": BranchPool("07", 100, 10)}), POOL, None),  # not low
        (replace(BRANCH, enabled=False, pools={}), POOL, None),  # disabled on purpose
        (replace(BRANCH, active_types=frozenset(), pools={}), POOL, None),  # never used 07
    ],
)
def test_branch_stuck_reasons(
    branch: BranchState, pool: PoolState | None, reason: str | None
) -> None:
    found = evaluate(snap(branches=(branch,), pools=(pool,) if pool else ()), LIMITS)
    alerts = [a for a in found if a.kind is Kind.BRANCH_STUCK]
    assert [a.facts["reason"] for a in alerts] == ([reason] if reason else [])


@pytest.mark.parametrize(
    ("last_heard", "held", "fires"),
    [
        (NOW - timedelta(minutes=30), 500, False),
        (NOW - timedelta(minutes=31), 500, True),
        (NOW - timedelta(minutes=90), 0, False),  # holds nothing: may be closed for the night
        (None, 500, True),  # never heard from
    ],
)
def test_silent_branch(last_heard: datetime | None, held: int, fires: bool) -> None:
    branch = replace(
        BRANCH,
        last_report_at=last_heard,
        last_agent_time=last_heard,
        last_grant_at=None,
        pools={"07": BranchPool("07", held, 1)},
    )
    assert (Kind.BRANCH_SILENT in kinds(snap(branches=(branch,)))) is fires


@pytest.mark.parametrize(("skew", "fires"), [(60, False), (-60, False), (61, True), (-61, True)])
def test_clock_skew_threshold(skew: int, fires: bool) -> None:
    branch = replace(BRANCH, last_agent_time=NOW + timedelta(seconds=skew))
    assert (Kind.CLOCK_SKEW in kinds(snap(branches=(branch,)))) is fires


def test_current_period_without_ranges_when_the_last_one_had_them() -> None:
    alerts = evaluate(snap(assigned={"11510": frozenset({"07", "08"})}), LIMITS)
    assert [a.key for a in alerts if a.kind is Kind.PERIOD_NOT_IMPORTED] == [
        "period_not_imported:11512:07",
        "period_not_imported:11512:08",
    ]


@pytest.mark.parametrize(
    ("now", "state", "expected"),
    [
        (datetime(2026, 11, 5, 12, 0, tzinfo=TAIPEI), ReportState.SUBMITTED, []),
        (datetime(2026, 11, 6, 0, 0, tzinfo=TAIPEI), ReportState.SUBMITTED, [Kind.E0402_DUE]),
        (datetime(2026, 11, 20, 0, 0, tzinfo=TAIPEI), ReportState.CLOSED, [Kind.E0402_DUE]),
        (datetime(2026, 11, 9, 0, 0, tzinfo=TAIPEI), ReportState.CONFIRMED, []),
        (datetime(2026, 11, 1, 9, 0, tzinfo=TAIPEI), ReportState.FAILED, [Kind.E0402_FAILED]),
    ],
)
def test_blank_report(now: datetime, state: ReportState, expected: list[Kind]) -> None:
    previous = PoolKey(Period.containing(now).previous(), InvoiceType.GENERAL)
    snapshot = snap(now=now, reports={previous: ReportStatus(state)})
    assert [k for k in kinds(snapshot) if k.value.startswith("e0402")] == expected


def test_blank_report_of_an_older_period_still_unconfirmed_stays_due() -> None:
    now = datetime(2026, 11, 20, 0, 0, tzinfo=TAIPEI)
    older = Period.containing(now).previous().previous()
    reports = {
        PoolKey(older, InvoiceType.SPECIAL): ReportStatus(ReportState.CLOSED),
        PoolKey(older.previous(), InvoiceType.GENERAL): ReportStatus(ReportState.CONFIRMED),
    }
    found = blank_report(snap(now=now, reports=reports), Thresholds())
    assert [(a.kind, a.key) for a in found] == [
        (Kind.E0402_DUE, f"e0402_due:{older.to_year_month()}:08")
    ]
    assert found[0].facts["days_left"] < -60


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("event", ["open", "reminder", "resolved"])
def test_every_kind_renders_in_both_languages_even_with_facts_missing(
    kind: Kind, event: str
) -> None:
    subject, body = render(kind, {}, Occasion(event, f"{kind}:x", NOW, 2, NOW))
    assert subject.startswith("[einv] ") and "—" in body
    assert "警示代碼" in body and "Alert key" in body
