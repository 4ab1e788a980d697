"""The low-stock rule takes its run-out from the shared forecast, with the MOF's lead time."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from allocator import TAIPEI
from notifier import Kind
from notifier.rules import evaluate
from tests.notifier.test_rules import LIMITS, POOL, snap


def pool_alert(free: int, burn: float, now: datetime) -> dict[str, object]:
    pool = replace(POOL, free_enabled=free, burn_per_hour=burn)
    found = [a for a in evaluate(snap(now=now, pools=(pool,)), LIMITS) if a.kind is Kind.POOL_LOW]
    assert len(found) == 1
    return dict(found[0].facts)


def test_the_run_out_and_when_to_ask_the_mof() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)  # Monday
    facts = pool_alert(10_000, 100.0, now)  # 100 hours: Friday 27 Nov, 14:00
    assert facts["runout_at"] == (now + timedelta(hours=100)).isoformat()
    # Five working days before Friday 14:00 was the Friday before: too late to ask now.
    assert facts["ask_mof_by"] == datetime(2026, 11, 20, 14, 0, tzinfo=TAIPEI).isoformat()
    assert facts["mof_late"] is True


def test_a_run_out_after_the_cutoff_had_to_be_asked_for_by_the_cutoff() -> None:
    now = datetime(2026, 12, 21, 0, 0, tzinfo=TAIPEI)  # Monday, the day after the cut-off
    facts = pool_alert(16_000, 100.0, now)  # 160 hours: Sunday 27 Dec, 16:00
    # Five working days before is Monday 21 Dec, after the cut-off: the cut-off decides.
    assert facts["ask_mof_by"] == datetime(2026, 12, 20, 0, 0, tzinfo=TAIPEI).isoformat()
    assert facts["mof_late"] is True
