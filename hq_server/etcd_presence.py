"""Presence in a cluster: a key per branch whose config stream is open, on this replica's lease.

While an agent's WatchConfig stream is open on a replica, that replica keeps
/einv/<head_ban>/presence/<ban> = its address on an etcd lease of its own. If the replica dies
the lease expires and the key goes; if the agent moves to another replica, that one overwrites
the key and the first deletes it only if it still holds its own value.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterator

import aetcd

from hq_server.etcd_client import EtcdError, KeptLease, Keys, connect, parse_endpoints
from runtime.logs import Repeating

log = logging.getLogger("einv.hq.presence")
TXN_OPS = 100  # etcd refuses more than 128 operations in one txn by default
RETRY_SECONDS = 1.0


class EtcdPresence:
    """Keeps the presence keys of the streams open here in step with etcd, in the background.

    `hold` only counts; a loop puts and deletes keys, so an etcd outage delays presence but
    never an agent's stream, and keys lost with an expired lease are put back on a new one.
    """

    def __init__(self, client: aetcd.Client, keys: Keys, advertise: str, lease_ttl: int) -> None:
        self._client = client
        self._keys = keys
        self._value = advertise.encode()
        self._ttl = lease_ttl
        self._open: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lease: KeptLease | None = None

    @contextlib.contextmanager
    def hold(self, ban: str) -> Iterator[None]:
        self._open[ban] += 1
        self._changed.set()
        try:
            yield
        finally:
            self._open[ban] -= 1
            if self._open[ban] <= 0:
                del self._open[ban]
            self._changed.set()

    async def online(self) -> dict[str, str] | None:
        return await online_branches(self._client, self._keys.head_ban)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._lease is not None:
            await self._lease.revoke()  # this replica's keys go with it

    async def _run(self) -> None:
        failing = Repeating(log, "presence")  # etcd away: once, not every RETRY_SECONDS
        while True:
            try:
                lease = self._lease = await KeptLease.grant(self._client, self._ttl)
                failing.recovered()
                keeper = asyncio.create_task(lease.keep())
                try:
                    await self._follow(lease, keeper)
                finally:
                    keeper.cancel()
            except EtcdError as error:
                failing.failed(error, note="retrying")
            await asyncio.sleep(RETRY_SECONDS)

    async def _follow(self, lease: KeptLease, keeper: asyncio.Task[None]) -> None:
        """Publish changes until the lease is lost (its keys then vanish with it)."""
        published: set[str] = set()
        while not keeper.done():
            self._changed.clear()
            await self._sync(lease, published)
            waiter = asyncio.create_task(self._changed.wait())
            await asyncio.wait({waiter, keeper}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()

    async def _sync(self, lease: KeptLease, published: set[str]) -> None:
        tx = self._client.transactions
        wanted = set(self._open)
        new = sorted(wanted - published)
        for start in range(0, len(new), TXN_OPS):
            chunk = new[start : start + TXN_OPS]
            puts = [tx.put(self._keys.branch(b), self._value, lease=lease.id) for b in chunk]
            await self._client.transaction(compare=[], success=puts, failure=[])
            published.update(chunk)
        for ban in sorted(published - wanted):
            key = self._keys.branch(ban)
            await self._client.transaction(
                compare=[tx.value(key) == self._value], success=[tx.delete(key)], failure=[]
            )
            published.discard(ban)


async def online_branches(client: aetcd.Client, head_ban: str) -> dict[str, str]:
    """Branches with an open config stream right now: BAN -> the replica serving it."""
    keys = Keys(head_ban)
    found = await client.get_prefix(keys.presence)
    return {kv.key[len(keys.presence) :].decode(): kv.value.decode() for kv in found}


async def query_online(endpoints: str, head_ban: str, timeout: float = 3.0) -> dict[str, str]:
    """`online_branches` from anywhere (e.g. the notifier): `endpoints` as for --etcd."""
    async with connect(parse_endpoints(endpoints), timeout) as client:
        return await asyncio.wait_for(online_branches(client, head_ban), timeout)
