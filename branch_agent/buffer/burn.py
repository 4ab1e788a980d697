"""Burn rate: numbers issued per minute lately, per invoice type, by the agent's clock."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from allocator import InvoiceType

WINDOW = timedelta(minutes=10)
# A young agent divides by the time it has run, but by no less than this: a store's first
# sales right after a (re)start should raise the rate at once, not a minute later.
MIN_SPAN = timedelta(seconds=5)


class BurnMeter:
    """Counts in one-second buckets over a sliding window, so memory stays bounded."""

    def __init__(self, started: datetime, window: timedelta = WINDOW) -> None:
        self._started = started
        self._window = window
        self._buckets: dict[InvoiceType, deque[tuple[int, int]]] = {}

    def record(self, invoice_type: InvoiceType, count: int, now: datetime) -> None:
        second = int(now.timestamp())
        buckets = self._buckets.setdefault(invoice_type, deque())
        if buckets and buckets[-1][0] == second:
            buckets[-1] = (second, buckets[-1][1] + count)
        else:
            buckets.append((second, count))
        self._trim(buckets, now)

    def per_minute(self, invoice_type: InvoiceType, now: datetime) -> float:
        buckets = self._buckets.get(invoice_type)
        if not buckets:
            return 0.0
        self._trim(buckets, now)
        span = min(self._window, max(now - self._started, MIN_SPAN))
        return sum(count for _, count in buckets) / (span.total_seconds() / 60)

    def _trim(self, buckets: deque[tuple[int, int]], now: datetime) -> None:
        oldest = (now - self._window).timestamp()
        while buckets and buckets[0][0] < oldest:
            buckets.popleft()
