"""The waits between attempts of the loops that retry: one helper, tenacity's arithmetic.

`Backoff(first, longest)` waits first, 2 first, 4 first, ... up to `longest` after failures in
a row, and starts again at `first` after `reset()` (a success). With `jitter` each wait is drawn
between `first` and that bound (tenacity's `wait_random_exponential`): 10,000 agents cut off by
one HQ outage then do not all come back in the same instant. Without it the waits are exact
(`wait_exponential`), for a schedule that is stored or shown, like the notifier's.

Loops that wake at set times (the report interval, the refill tick, the Turnkey poll) are
schedules, not retries, and do not use it; nor do the gRPC calls themselves, whose retries are
the channel's (runtime.replicas).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tenacity import RetryCallState, Retrying, wait_exponential, wait_random_exponential
from tenacity.wait import wait_base


@dataclass
class Backoff:
    first: float
    longest: float
    jitter: bool = True
    failures: int = 0  # in a row, since the last reset
    _wait: wait_base = field(init=False, repr=False)

    def __post_init__(self) -> None:
        kind = wait_random_exponential if self.jitter else wait_exponential
        self._wait = kind(multiplier=self.first, min=self.first, max=self.longest)

    def delay(self, attempt: int) -> float:
        """The wait after the `attempt`-th failure in a row (1 for the first)."""
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = attempt
        return self._wait(state)

    def failed(self) -> float:
        """Count one more failure; the wait before the next attempt."""
        self.failures += 1
        return self.delay(self.failures)

    def reset(self) -> None:
        self.failures = 0

    async def sleep(self) -> None:
        """Count one more failure and wait before the next attempt."""
        await asyncio.sleep(self.failed())
