"""The one backoff helper: exact doubling up to a ceiling, or jittered within it; reset."""

from __future__ import annotations

from runtime.backoff import Backoff


def test_exact_waits_double_up_to_the_longest_and_start_again_after_a_reset() -> None:
    backoff = Backoff(0.5, 3.0, jitter=False)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.failures == 5
    backoff.reset()
    assert backoff.failed() == 0.5


def test_jittered_waits_stay_between_the_first_and_the_doubling() -> None:
    backoff = Backoff(0.2, 10.0)
    for attempt, bound in [(1, 0.2), (2, 0.4), (3, 0.8), (7, 10.0), (40, 10.0)]:
        waits = [backoff.delay(attempt) for _ in range(50)]
        assert all(0.2 <= wait <= bound for wait in waits), (attempt, waits)
    assert len({backoff.delay(5) for _ in range(20)}) > 1  # spread, not one instant for all
