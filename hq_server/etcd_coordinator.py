"""Leadership in cluster mode: etcd's election recipe, with the leader key's revision as token.

Each replica grants a lease and creates /einv/<head_ban>/leader/<lease-id> = its advertised
gRPC address (in one txn, only if absent). The key with the lowest create revision leads; each
other replica watches only the key just before its own, so a leader's exit wakes one successor.
The leader writes its key's create revision into the database as the fencing token
(Store.take_office refuses one not newer than the stored) before it serves, and every write
transaction checks it (store.check_fence): a paused ex-leader cannot commit.

A leader whose lease can no longer be trusted stops at once: token() raises NotLeader from that
moment, before the keep-alive loop even notices. It then campaigns again with a new lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

import aetcd
from aetcd.rtypes import EventKind

from hq_server.etcd_client import EtcdError, KeptLease, Keys, cancelling, revoke_all
from hq_server.store import Store
from runtime.clock import Clock
from runtime.errors import NotLeader

log = logging.getLogger("einv.hq.election")
RETRY_SECONDS = 0.2
CAMPAIGN_AGAIN_SECONDS = 1.0


class EtcdCoordinator:
    """The Coordinator port over etcd (see hq_server.coordinator.Coordinator)."""

    def __init__(
        self,
        client: aetcd.Client,
        keys: Keys,
        store: Store,
        clock: Clock,
        advertise: str,
        lease_ttl: int,
    ) -> None:
        self._client = client
        self._keys = keys
        self._store = store
        self._clock = clock
        self._advertise = advertise
        self._ttl = lease_ttl
        self._lease: KeptLease | None = None
        self._token: int | None = None
        self._leader: str | None = None  # the lowest candidate's address, as last seen
        self._stale: list[KeptLease] = []  # given up, but etcd could not be told yet
        self._settled = asyncio.Event()
        self._fenced = asyncio.Event()  # set when a write of this term found another token
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Begin campaigning; returns once this replica leads or knows the leader.

        If etcd does not answer within two TTLs it returns anyway: reads are served meanwhile,
        and writes are refused (NotLeader) until an election completes.
        """
        self._tasks = [
            asyncio.create_task(self._campaign_forever()),
            asyncio.create_task(self._observe_leader()),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), 2 * self._ttl + 1)

    async def stop(self) -> None:
        """Resign: revoking the lease deletes the key, so a follower takes over at once."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._token = None
        if self._lease is not None:
            await self._lease.revoke()
        await revoke_all(self._stale)

    def leading(self) -> bool:
        return self._token is not None and self._lease is not None and self._lease.alive()

    def has_session(self) -> bool:
        """Whether this replica's etcd lease is alive (etcd reachable, with quorum)."""
        return self._lease is not None and self._lease.alive()

    def token(self) -> int:
        """The fencing token while this replica leads and its lease is surely alive."""
        if self._token is not None and self.leading():
            return self._token
        raise NotLeader(self._why_not(), leader=self.leader_address())

    def fenced(self) -> None:
        """Another HQ took office on the database: step down now and campaign again."""
        if self._token is not None:
            log.error(
                "fenced: another HQ took office on this database; stepping down to campaign "
                "again (a new term gets a newer token)"
            )
        self._token = None
        self._fenced.set()

    def leader_address(self) -> str | None:
        if self.leading():
            return self._advertise
        return self._leader if self._leader != self._advertise else None

    def _why_not(self) -> str:
        if self._token is not None or self._leader == self._advertise:
            return (
                "this HQ replica's etcd lease could not be renewed (etcd unreachable or "
                "without quorum), so it stopped leading; writes resume when an HQ leads again"
            )
        if self._lease is None or not self._lease.alive():  # what it knows of a leader is stale
            return (
                "this HQ replica has no etcd session (etcd unreachable or without quorum, or "
                "the replica is starting), so no leader is known; retry shortly"
            )
        if self._leader is not None:
            return "this HQ replica follows; writes go to the leader"
        return (
            "no HQ replica leads right now (an election is under way, or etcd is unreachable "
            "or without quorum); retry shortly"
        )

    async def _campaign_forever(self) -> None:
        while True:
            try:
                await self._term()
            except (*EtcdError, NotLeader) as error:
                log.warning("election: %s; campaigning again", error)
            except Exception:  # e.g. the database refused take_office: never stop campaigning
                log.exception("election failed; campaigning again")
            await asyncio.sleep(CAMPAIGN_AGAIN_SECONDS)

    async def _term(self) -> None:
        """One lease's life: campaign, maybe lead, until the lease or the key is gone."""
        await revoke_all(self._stale)
        lease = await KeptLease.grant(self._client, self._ttl)
        self._lease = lease
        try:
            await first_of(self._lead(lease), lease.keep())
        finally:
            self._token = None
            if self._lease is lease and not await lease.revoke():
                self._stale.append(lease)

    async def _lead(self, lease: KeptLease) -> None:
        key, revision = await self._put_candidate(lease)
        await self._wait_turn(revision)
        self._fenced.clear()
        await self._take_office(revision, lease)
        await first_of(self._wait_deleted(key, None), self._fenced.wait())
        if self._fenced.is_set():
            return  # the term ends: the lease is given up, the next term campaigns afresh
        log.warning("leader key %s is gone: stepping down", key.decode())

    async def _put_candidate(self, lease: KeptLease) -> tuple[bytes, int]:
        """Create this replica's key on its lease; its create revision orders the candidates."""
        key = self._keys.candidate(lease.id)
        tx = self._client.transactions
        created, responses = await self._client.transaction(
            compare=[tx.create(key) == 0],
            success=[tx.put(key, self._advertise.encode(), lease=lease.id)],
            failure=[tx.get(key)],
        )
        if created:
            return key, responses[0].response_put.header.revision
        return key, responses[0][0][1].create_revision

    async def _wait_turn(self, revision: int) -> None:
        """Block until no candidate key older than ours is left."""
        while True:
            found = await self._client.get_prefix(
                self._keys.election, sort_order="ascend", sort_target="create"
            )
            earlier = [kv for kv in found if kv.create_revision < revision]
            if not earlier:
                return
            self._leader = earlier[0].value.decode()
            self._settled.set()
            log.info("following %s", self._leader)
            await self._wait_deleted(earlier[-1].key, found.header.revision)

    async def _take_office(self, revision: int, lease: KeptLease) -> None:
        await asyncio.to_thread(
            self._store.take_office, self._advertise, self._clock.now(), revision
        )
        if not lease.alive():
            raise NotLeader("the etcd lease lapsed while taking office")
        self._token = revision
        self._leader = self._advertise
        self._settled.set()
        log.info("leading with fencing token %d as %s", revision, self._advertise)

    async def _wait_deleted(self, key: bytes, seen: int | None) -> None:
        """Return once `key` is deleted (`seen`: a revision at which it still existed).

        A watch broken by a member going away is re-established from a fresh read.
        """
        while True:
            try:
                if seen is None:
                    got = await self._client.get(key)
                    if got is None:
                        return
                    seen = got.header.revision
                async with cancelling(
                    await self._client.watch(key, start_revision=seen + 1, kind=EventKind.DELETE)
                ) as watch:
                    async for _event in watch:
                        return
            except EtcdError as error:
                log.info("watch on %s interrupted (%s); watching again", key.decode(), error)
                await asyncio.sleep(RETRY_SECONDS)
            seen = None

    async def _observe_leader(self) -> None:
        """Keep the leader's address current for followers' NotLeader errors."""
        while True:
            try:
                found = await self._client.get_prefix(
                    self._keys.election, sort_order="ascend", sort_target="create"
                )
                self._leader = found[0].value.decode() if found else None
                if self._leader not in (None, self._advertise):
                    self._settled.set()
                async with cancelling(
                    await self._client.watch_prefix(
                        self._keys.election, start_revision=found.header.revision + 1
                    )
                ) as watch:
                    async for _event in watch:
                        break
            except EtcdError:
                await asyncio.sleep(CAMPAIGN_AGAIN_SECONDS)


async def first_of(*work: Awaitable[None]) -> None:
    """Run until the first finishes, cancel the others, and raise its error if it failed."""
    tasks = [asyncio.ensure_future(w) for w in work]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
