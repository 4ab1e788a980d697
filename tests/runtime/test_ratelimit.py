"""Token buckets: never more than burst + rate x time calls; a refused call learns its wait."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from runtime.ratelimit import Bucket, BucketSize, RateLimiter


@given(
    st.floats(1, 50),
    st.floats(0.1, 100),
    st.lists(st.floats(0, 0.5), min_size=1, max_size=200),
)
def test_admitted_calls_never_exceed_the_budget(
    burst: float, rate: float, gaps: list[float]
) -> None:
    size = BucketSize(burst, rate)
    bucket, now, admitted = Bucket(burst, 0.0), 0.0, 0
    for gap in gaps:
        now += gap
        bucket, wait = bucket.take(size, now)
        if wait == 0:
            admitted += 1
        else:
            # Waiting as told admits the next call.
            assert bucket.take(size, now + wait + 1e-9)[1] == 0
    assert admitted <= burst + rate * now + 1e-6


def test_keys_have_their_own_buckets_and_idle_ones_age_out() -> None:
    limiter = RateLimiter(lambda key: BucketSize(2, 1) if key != "free" else None, capacity=2)
    assert [limiter.take("a", 0.0) for _ in range(3)][-1] > 0
    assert limiter.take("b", 0.0) == 0
    assert all(limiter.take("free", 0.0) == 0 for _ in range(100))
    limiter.take("c", 0.0)  # "a" is the least recent: forgotten, a full bucket again
    assert limiter.take("a", 0.0) == 0
