"""The designs a POS integrator would pick instead of the agent, serving the same NextNumbers.

`python -m bench.peer_server --design central|leaf --db CONNINFO --listen 127.0.0.1:PORT` runs
one of them in its own process (bench/peers.py drives it with the client it drives the agent
with; the tables are made by `create_schema` first):

- central: every sale asks one central server, which takes the numbers from PostgreSQL with one
  row-locking `UPDATE ... SET next = next + n ... RETURNING` and commits (synchronous_commit on:
  durable) before the reply. The request id is recorded in the same statement, so a retry gets
  the same numbers, as the agent's does: one round trip and one commit per invoice.
- leaf: Meituan Leaf's segment. The server takes SEGMENT numbers at a time from the same kind of
  row (one UPDATE each), loads the next segment in the background once 10% of the current one is
  used, and hands numbers out of memory. Nothing about a number is durable (a crash forgets which
  were handed out, and to whom): the upper bound of any design, not one the law allows.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import grpc
import psycopg

from allocator import TAIPEI, Period
from bench.echo_server import serve_until_signalled
from protos.einvoice.v1 import common_pb2, pos_pb2, pos_pb2_grpc
from runtime import event_loop

DESIGNS = ("central", "leaf")
TRACK = "AB"
MAX_COUNT = 1000  # as the agent's NextNumbers
SEGMENT = 10_000  # numbers per Leaf segment, as the agent's grants in bench/p1_agent.py
PREFETCH_AT = 0.1  # Leaf loads the next segment once this share of the current one is used
REMEMBERED = 1_000_000  # request ids the Leaf peer keeps for retries (memory only)

SCHEMA = """
CREATE TABLE counters (name TEXT PRIMARY KEY, next BIGINT NOT NULL);
CREATE TABLE requests (request_id TEXT PRIMARY KEY, first BIGINT NOT NULL, count INT NOT NULL);
INSERT INTO counters (name, next) VALUES ('central', 0), ('leaf', 0);
"""

# One statement, so one round trip and one commit: a retried request id finds its numbers, a new
# one locks the row, moves it on and records the request. Two concurrent calls with the same new
# id both move the row; the second INSERT then fails on the key and its call runs again.
TAKE = """
WITH prior AS (SELECT first FROM requests WHERE request_id = %(rid)s),
taken AS (
    UPDATE counters SET next = next + %(n)s
    WHERE name = 'central' AND NOT EXISTS (SELECT FROM prior)
    RETURNING next - %(n)s AS first
),
kept AS (INSERT INTO requests (request_id, first, count) SELECT %(rid)s, first, %(n)s FROM taken)
SELECT first FROM prior UNION ALL SELECT first FROM taken
"""
TAKE_ANONYMOUS = "UPDATE counters SET next = next + %(n)s WHERE name = %(name)s RETURNING next"


def application(design: str) -> str:
    """The connections' application_name: how bench/peers.py finds their backends."""
    return f"einv-bench-{design}"


def create_schema(conninfo: str) -> None:
    """The peers' tables in a fresh database (before either server starts)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SCHEMA)


class Pool:
    """`size` autocommit connections, each used by one call at a time (psycopg_pool is not a
    dependency, and a fixed set is all a benchmark needs)."""

    def __init__(self, connections: list[psycopg.AsyncConnection]) -> None:
        self._idle: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()
        for conn in connections:
            self._idle.put_nowait(conn)

    @classmethod
    async def open(cls, conninfo: str, size: int, name: str) -> Pool:
        connect = psycopg.AsyncConnection.connect
        opened = [
            await connect(conninfo, autocommit=True, application_name=name) for _ in range(size)
        ]
        for conn in opened:  # the server's default, said out loud: a commit waits for its fsync
            await conn.execute("SET synchronous_commit = on")
        return cls(opened)

    async def fetch_first(self, query: str, params: dict[str, object]) -> int | None:
        conn = await self._idle.get()
        try:
            row = await (await conn.execute(query, params)).fetchone()
            return None if row is None else int(row[0])
        finally:
            self._idle.put_nowait(conn)


class Central:
    """Every call: one statement, one commit in PostgreSQL."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def take(self, count: int, request_id: str) -> int:
        if not request_id:
            params: dict[str, object] = {"n": count, "name": "central"}
            last = await self._pool.fetch_first(TAKE_ANONYMOUS, params)
            assert last is not None  # the row exists: create_schema made it
            return last - count
        for _ in range(2):  # the second run finds the concurrent twin's row
            try:
                first = await self._pool.fetch_first(TAKE, {"rid": request_id, "n": count})
            except psycopg.errors.UniqueViolation:
                continue
            assert first is not None
            return first
        raise RuntimeError(f"request {request_id} collided twice")


class Segments:
    """Leaf's double buffer: serve from the current segment, the next one loading behind it."""

    def __init__(self, load: Callable[[], Awaitable[int]], size: int) -> None:
        self._load = load  # the first number of a new segment of `size`
        self._size = size
        self._next = self._end = 0
        self._pending: asyncio.Task[int] | None = None
        self._answers: dict[str, int] = {}

    async def take(self, count: int, request_id: str) -> int:
        if request_id and (first := self._answers.get(request_id)) is not None:
            return first
        while self._end - self._next < count:  # the rest of a short segment is left unused
            task = self._pending or self._start_loading()
            begin = await asyncio.shield(task)
            if self._pending is task:  # the first waiter to wake swaps; the others see it done
                self._pending = None
                self._next, self._end = begin, begin + self._size
        first, self._next = self._next, self._next + count
        if self._pending is None and self._size - (self._end - self._next) >= PREFETCH_AT * (
            self._size
        ):
            self._start_loading()
        if request_id:
            self._remember(request_id, first)
        return first

    def _start_loading(self) -> asyncio.Task[int]:
        self._pending = asyncio.create_task(self._load())
        return self._pending

    def _remember(self, request_id: str, first: int) -> None:
        if len(self._answers) >= REMEMBERED:
            del self._answers[next(iter(self._answers))]  # the oldest: dicts keep their order
        self._answers[request_id] = first


Take = Callable[[int, str], Awaitable[int]]


class PeerServicer(pos_pb2_grpc.PosServiceServicer):
    """NextNumbers with the agent's reply shape; nothing else of PosService."""

    def __init__(self, take: Take) -> None:
        self._take = take
        self._year_month = Period.containing(datetime.now(TAIPEI)).to_year_month()

    async def NextNumbers(
        self, request: pos_pb2.NextNumbersRequest, context: grpc.aio.ServicerContext
    ) -> pos_pb2.NextNumbersReply:
        count = request.count or 1
        if count > MAX_COUNT:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"count: 1..{MAX_COUNT}")
        first = await self._take(count, request.request_id)
        return pos_pb2.NextNumbersReply(
            numbers=[self._issued(n) for n in range(first, first + count)]
        )

    def _issued(self, number: int) -> pos_pb2.IssuedNumber:
        return pos_pb2.IssuedNumber(
            invoice_number=f"{TRACK}{number:08d}",
            track=TRACK,
            number=number,
            year_month=self._year_month,
            invoice_type=common_pb2.INVOICE_TYPE_GENERAL,
        )


async def _source(design: str, conninfo: str, pool_size: int) -> Take:
    if design == "central":
        return Central(await Pool.open(conninfo, pool_size, application(design))).take
    pool = await Pool.open(conninfo, 1, application(design))  # one segment load at a time

    async def load() -> int:
        params = {"n": SEGMENT, "name": "leaf"}
        last = await pool.fetch_first(TAKE_ANONYMOUS, params)
        assert last is not None
        return last - SEGMENT

    return Segments(load, SEGMENT).take


async def serve(design: str, conninfo: str, listen: str, pool_size: int) -> None:
    server = grpc.aio.server()
    take = await _source(design, conninfo, pool_size)
    pos_pb2_grpc.add_PosServiceServicer_to_server(PeerServicer(take), server)
    await serve_until_signalled(server, listen, f"{design} peer")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.peer_server", description=__doc__)
    parser.add_argument("--design", choices=DESIGNS, required=True)
    parser.add_argument("--db", required=True, help="libpq conninfo of the peers' database")
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--pool", type=int, default=16, help="connections (central)")
    args = parser.parse_args(argv)
    event_loop.run(serve(args.design, args.db, args.listen, args.pool))


if __name__ == "__main__":
    main()
