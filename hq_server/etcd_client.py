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
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aetcd
import grpc
from aetcd import rpc, rtypes, watcher
from aetcd.exceptions import ClientError

from runtime import pki

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
    """`host:port[,host:port...]` (http:// or https:// prefixes allowed, as etcdctl writes them;
    TLS is chosen by --etcd-cacert, not by the prefix)."""
    endpoints = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, sep, port = item.removeprefix("http://").removeprefix("https://").rpartition(":")
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


@dataclass(frozen=True, slots=True)
class EtcdTls:
    """etcdctl's --cacert, --cert, --key: the members' CA and this client's certificate."""

    ca_pem: bytes
    cert_pem: bytes | None = None
    key_pem: bytes | None = None

    @classmethod
    def from_files(cls, cacert: Path, cert: Path | None, key: Path | None) -> EtcdTls:
        if (cert is None) != (key is None):
            raise ValueError("--etcd-cert and --etcd-key go together")
        return cls(
            pki.read_public(cacert),
            pki.read_public(cert) if cert else None,
            pki.read_private(key) if key else None,
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(self.ca_pem, self.key_pem, self.cert_pem)


class TlsClient(aetcd.Client):
    """aetcd 1.0 opens a plaintext channel only; this is its client over TLS.

    Only the channel differs: connect() below is aetcd's own (1.0.0), with secure_channel.
    """

    def __init__(self, tls: EtcdTls, server_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tls = tls
        self._options = {**self._options, "grpc.ssl_target_name_override": server_name}

    async def connect(self) -> None:
        if self._connected.is_set():
            return
        if self._is_connecting:
            await asyncio.wait_for(self._connected.wait(), self._connect_wait_timeout)
            return
        try:
            self._is_connecting = True
            target = f"{self._host}:{self._port}"
            self.channel = grpc.aio.secure_channel(
                target, self._tls.credentials(), options=list(self._options.items())
            )
            self.kvstub = rpc.KVStub(self.channel)
            self.clusterstub = rpc.ClusterStub(self.channel)
            self.leasestub = rpc.LeaseStub(self.channel)
            self.maintenancestub = rpc.MaintenanceStub(self.channel)
            self._watcher = watcher.Watcher(
                rpc.WatchStub(self.channel), timeout=self._timeout, metadata=self.metadata
            )
            self._connected.set()
        finally:
            self._is_connecting = False


def connect(
    endpoints: Sequence[tuple[str, int]], timeout: float, tls: EtcdTls | None = None
) -> aetcd.Client:
    """A client that spreads calls over the members that answer (gRPC round robin).

    aetcd dials f"{host}:{port}", so the multi-address target is split at its last colon.
    With TLS, every member's certificate must name the first endpoint's host (or be issued for
    all of them under it), as etcdctl checks them too.
    """
    host, _, port = grpc_target(endpoints).rpartition(":")
    settings: dict[str, Any] = {
        "host": host,
        "port": int(port),
        "timeout": timeout,  # gRPC takes float seconds
        "options": {"grpc.lb_policy_name": "round_robin"},
    }
    if tls is None:
        return aetcd.Client(**settings)
    return TlsClient(tls, endpoints[0][0], **settings)


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


@contextlib.asynccontextmanager
async def cancelling(watch: rtypes.Watch) -> AsyncIterator[rtypes.Watch]:
    """The watch, cancelled on the way out however the caller leaves it; a cancel that fails
    (the member went away) leaves nothing to undo."""
    try:
        yield watch
    finally:
        with contextlib.suppress(*EtcdError):
            await watch.cancel()
