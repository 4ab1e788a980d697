"""etcd plumbing for cluster mode: one aetcd client per process, the key layout, kept leases.

Only aetcd is imported: two gRPC etcd clients in one process clash in the protobuf registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aetcd
from aetcd.exceptions import ClientError

log = logging.getLogger("einv.hq.etcd")
# A lease is trusted locally until this share of its TTL after the keep-alive that renewed it
# was sent: etcd counts the TTL from when it receives that request, which is later.
TRUST_SHARE = 0.9
RETRY_SECONDS = 0.2
REVOKE_TIMEOUT = 1.0

EtcdError = (ClientError, TimeoutError, OSError)


@dataclass(frozen=True, slots=True)
class Keys:
    """Where one HQ keeps its state in etcd: everything under /einv/<head_ban>/."""

    head_ban: str

    @property
    def root(self) -> bytes:
        return f"/einv/{self.head_ban}/".encode()

    @property
    def election(self) -> bytes:
        """Prefix of the leader keys: one per campaigning replica, named by its lease id."""
        return self.root + b"leader/"

    def candidate(self, lease_id: int) -> bytes:
        return self.election + f"{lease_id:x}".encode()

    @property
    def presence(self) -> bytes:
        return self.root + b"presence/"

    def branch(self, ban: str) -> bytes:
        return self.presence + ban.encode()

    @property
    def config_version(self) -> bytes:
        return self.root + b"config-version"


def parse_endpoints(text: str) -> list[tuple[str, int]]:
    """`host:port[,host:port...]` (an http:// prefix is allowed, as etcdctl writes them)."""
    endpoints = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, sep, port = item.removeprefix("http://").rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(f"etcd endpoint {item!r} is not HOST:PORT")
        endpoints.append((host.strip("[]"), int(port)))
    if not endpoints:
        raise ValueError("no etcd endpoint given")
    return endpoints


def grpc_target(endpoints: Sequence[tuple[str, int]]) -> str:
    """One gRPC target over every member, e.g. `ipv4:10.0.0.1:2379,10.0.0.2:2379`.

    Names are resolved once here because gRPC's ipv4:/ipv6: lists take addresses only.
    """
    addresses = [(resolve(host), port) for host, port in endpoints]
    if all(ipaddress.ip_address(a).version == 4 for a, _ in addresses):
        return "ipv4:" + ",".join(f"{a}:{p}" for a, p in addresses)
    return "ipv6:" + ",".join(f"[{a}]:{p}" for a, p in addresses)


def resolve(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return str(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0])


def connect(endpoints: Sequence[tuple[str, int]], timeout: float) -> aetcd.Client:
    """A client that spreads calls over the members that answer (gRPC round robin).

    aetcd dials f"{host}:{port}", so the multi-address target is split at its last colon.
    """
    host, _, port = grpc_target(endpoints).rpartition(":")
    return aetcd.Client(
        host=host,
        port=int(port),
        timeout=timeout,  # type: ignore[arg-type]  # gRPC takes float seconds
        options={"grpc.lb_policy_name": "round_robin"},
    )


class KeptLease:
    """An etcd lease renewed in the background, trusted only while surely alive.

    `alive()` is false from the moment the lease may have expired in etcd (no renewal for
    TRUST_SHARE of the TTL, counted from when the last successful renewal was sent) or etcd
    said it is gone. It never becomes true again: a new lease is granted instead.
    """

    def __init__(self, client: aetcd.Client, lease_id: int, ttl: int, sent_at: float) -> None:
        self.client = client
        self.id = lease_id
        self.ttl = ttl
        self._trusted_until = sent_at + ttl * TRUST_SHARE
        self._gone = False

    @classmethod
    async def grant(cls, client: aetcd.Client, ttl: int) -> KeptLease:
        sent_at = time.monotonic()
        lease = await client.lease(ttl)
        return cls(client, lease.id, lease.ttl, sent_at)

    def alive(self) -> bool:
        return not self._gone and time.monotonic() < self._trusted_until

    async def keep(self) -> None:
        """Renew every third of the TTL, retrying failures; returns once the lease is lost."""
        failing = False
        while self.alive():
            sent_at = time.monotonic()
            try:
                reply = await asyncio.wait_for(self.client.refresh_lease(self.id), self.ttl / 3)
            except EtcdError as error:
                if not failing:
                    log.warning("lease %x: keep-alive failed (%s); retrying", self.id, error)
                failing = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            failing = False
            if reply is None or reply.TTL <= 0:
                self._gone = True
                break
            self._trusted_until = sent_at + reply.TTL * TRUST_SHARE
            await asyncio.sleep(self.ttl / 3)
        log.warning("lease %x lost", self.id)

    async def revoke(self) -> bool:
        """Give the lease (and every key on it) up now; False if etcd could not be told."""
        self._gone = True
        try:
            await asyncio.wait_for(self.client.revoke_lease(self.id), REVOKE_TIMEOUT)
        except EtcdError as error:
            return "not found" in str(error)  # expired already: as good as revoked
        return True


async def revoke_all(leases: list[KeptLease]) -> None:
    """Revoke leases given up earlier whose revocation failed (etcd was away): keep the rest."""
    kept = []
    for lease in leases:
        with contextlib.suppress(Exception):
            if await lease.revoke():
                continue
        kept.append(lease)
    leases[:] = kept
