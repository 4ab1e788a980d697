"""The Leaf peer's double buffer (bench/peer_server.py `Segments`), in-process: many terminals
at once get distinct numbers, the next segment is loaded behind the current one (not when it
runs dry), and a retried request id gets its first answer again."""

from __future__ import annotations

import asyncio

from bench.peer_server import PREFETCH_AT, Segments

SIZE = 100


class Row:
    """What the Leaf peer's UPDATE ... RETURNING does to its row, without a database: the
    start of the next segment. A load yields once, as a database call would."""

    def __init__(self) -> None:
        self.next = 0
        self.loads = 0

    async def load(self) -> int:
        await asyncio.sleep(0)
        self.loads += 1
        first, self.next = self.next, self.next + SIZE
        return first


async def test_concurrent_takes_get_distinct_numbers_from_few_segments() -> None:
    row = Row()
    segments = Segments(row.load, SIZE)
    got = await asyncio.gather(*(segments.take(1, f"r{i}") for i in range(1000)))
    assert sorted(got) == list(range(1000))  # none twice, none skipped with count 1
    assert row.loads <= 1000 // SIZE + 1  # the prefetched one at most beyond what was used


async def test_the_next_segment_is_loaded_once_a_tenth_is_used() -> None:
    row = Row()
    segments = Segments(row.load, SIZE)
    for index in range(int(SIZE * PREFETCH_AT) - 1):
        await segments.take(1, f"r{index}")
    assert row.loads == 1
    await segments.take(1, "tenth")
    await asyncio.sleep(0)  # the background load's turn
    await asyncio.sleep(0)
    assert row.loads == 2  # the next segment is there before the current one runs dry


async def test_a_retried_request_id_gets_the_same_number() -> None:
    segments = Segments(Row().load, SIZE)
    first = await segments.take(1, "once")
    await segments.take(1, "other")
    assert await segments.take(1, "once") == first
