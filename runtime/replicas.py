"""One gRPC channel over every HQ replica: gRPC's own failover and retries, no loop of ours.

- Target `ipv4:A:P,B:P` (`ipv6:` once an address is IPv6): the replicas' names are resolved
  when the channel is made, and again after no replica answered. A single address is passed
  as given, and gRPC resolves it (a `dns:` name, a `unix:` path) as it always did.
- pick_first: one connection, to the first address in order that accepts. Writes go to the
  leader only, so once a follower has named the leader, the leader goes first (`redirect`);
  round_robin would send most writes to followers.
- The retry policy retries UNAVAILABLE (a replica stopping, restarting, between two leaders)
  with backoff, for the idempotent methods the caller names. A follower that names the leader
  adds grpc-retry-pushback-ms=-1 (runtime.grpc_status): gRPC then does not retry on it, and
  the caller redirects at once.
- Keepalive: a replica that hangs (paused, or cut off without a reset) is given up within
  15 s, and pick_first goes on to the next one.
- TLS: a channel checks one server name, whichever replica it reaches. With several addresses
  that is `pki.HQ_NAME`, which `einv-admin certs hq` writes into every HQ certificate.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections.abc import Sequence

import grpc

from runtime import pki
from runtime.errors import Unavailable
from runtime.tls import Tls

log = logging.getLogger("einv.replicas")
RETRY_POLICY = {
    "maxAttempts": 5,  # gRPC's ceiling
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
# A ping every this many seconds while a call is open (servers accept one every 5 s or more,
# runtime.tls.ACCEPT_PINGS); a replica that does not answer one within half of it is given up.
KEEPALIVE_SECONDS = 10.0
OPTIONS: tuple[tuple[str, int], ...] = (
    # Reconnect quickly once a replica is back, instead of gRPC's default backoff of 2 minutes.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    # Keep pinging a quiet connection (a WatchConfig stream); gRPC's default stops after two.
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 1),
    # Connections of its own: a channel made to reach the leader must try it afresh, not share
    # the waiting time of another channel's failed connection to it (gRPC's global pool).
    ("grpc.use_local_subchannel_pool", 1),
)


def service_config(service: str, idempotent: Sequence[str]) -> str:
    """pick_first over the addresses, and the retry policy for the `idempotent` methods."""
    names = [{"service": service, "method": method} for method in idempotent]
    return json.dumps(
        {
            "loadBalancingConfig": [{"pick_first": {}}],
            "methodConfig": [{"name": names, "retryPolicy": RETRY_POLICY}],
        }
    )


class Replicas:
    """The channel to the replicas at `addresses`, rebuilt when the order or the TLS changes."""

    def __init__(
        self,
        addresses: Sequence[str],
        tls: Tls | None,
        config: str,
        keepalive: float = KEEPALIVE_SECONDS,
    ) -> None:
        if not addresses:
            raise ValueError("at least one HQ address is needed")
        if len(addresses) > 1 and any(a.startswith("unix:") for a in addresses):
            raise ValueError("several HQ addresses must each be HOST:PORT, not unix:PATH")
        self._order = list(dict.fromkeys(addresses))  # preferred first
        self._tls = tls
        wait = round(keepalive * 1000)
        self._options: list[tuple[str, int | str]] = [
            *OPTIONS,
            ("grpc.keepalive_time_ms", wait),
            ("grpc.keepalive_timeout_ms", wait // 2),
            ("grpc.http2.ping_timeout_ms", wait // 2),  # what ends the wait in gRPC 1.85
            ("grpc.service_config", config),
        ]
        self._channel: grpc.aio.Channel | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def channel(self) -> grpc.aio.Channel:
        async with self._lock:
            if self._channel is None:
                self._channel = await self._open()
            return self._channel

    async def redirect(self, leader: str, used: grpc.aio.Channel) -> None:
        """A follower named the leader: it goes first, on a new channel (pick_first keeps the
        connection it has, so a new order alone would not move it)."""
        host, _, port = leader.rpartition(":")
        if not host or not port.isdigit():
            log.warning("ignoring a leader address that is not HOST:PORT: %r", leader[:80])
            return
        async with self._lock:
            if used is not self._channel:
                return  # another call has moved already
            order = [leader, *(a for a in self._order if a != leader)]
            try:
                target = await target_of(order)
            except Unavailable as error:  # the channel it has is no worse: keep it
                log.warning("cannot go to the leader %s: %s", leader[:80], error)
                return
            self._order = order
            self._replace(self._open_at(target))

    async def unreachable(self, used: grpc.aio.Channel) -> None:
        """No replica answered: resolve the names again next time (a replica may have moved)."""
        async with self._lock:
            if used is self._channel and len(self._order) > 1 and _names_in(self._order):
                self._replace(None)

    async def use(self, tls: Tls) -> None:
        """New credentials (a renewed certificate) for every call from now on."""
        async with self._lock:
            self._tls = tls
            self._replace(None)

    async def close(self) -> None:
        async with self._lock:
            channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()
        await asyncio.gather(*self._closing, return_exceptions=True)

    def _replace(self, new: grpc.aio.Channel | None) -> None:
        """Swap channels; the old one lets its calls finish for a second (in the background:
        the caller goes on at once)."""
        old, self._channel = self._channel, new
        if old is not None:
            task = asyncio.create_task(old.close(grace=1.0))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _open(self) -> grpc.aio.Channel:
        return self._open_at(await target_of(self._order))

    def _open_at(self, target: str) -> grpc.aio.Channel:
        options = list(self._options)
        if self._tls is None:
            return grpc.aio.insecure_channel(target, options=options)
        if len(self._order) > 1:
            options.append(("grpc.ssl_target_name_override", pki.HQ_NAME))
        return grpc.aio.secure_channel(target, self._tls.credentials(), options=options)


async def target_of(addresses: Sequence[str]) -> str:
    """The gRPC target of the addresses in order: one as given, several as `ipv4:`/`ipv6:`."""
    if len(addresses) == 1:
        return addresses[0]
    loop = asyncio.get_running_loop()
    found: list[tuple[str, int]] = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        try:
            infos = await loop.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)
        except (OSError, ValueError) as error:
            log.warning("HQ address %s left out: it does not resolve (%s)", address, error)
            continue
        for *_, sockaddr in infos:
            if (ip_port := (str(sockaddr[0]), int(sockaddr[1]))) not in found:
                found.append(ip_port)
    if not found:
        raise Unavailable(f"none of the HQ addresses resolves: {', '.join(addresses)}")
    if all(":" not in ip for ip, _ in found):
        return "ipv4:" + ",".join(f"{ip}:{port}" for ip, port in found)
    # IPv4 among IPv6: as IPv4-mapped IPv6 addresses, since one target has one family.
    mapped = [(ip if ":" in ip else f"::ffff:{ip}", port) for ip, port in found]
    return "ipv6:" + ",".join(f"[{ip}]:{port}" for ip, port in mapped)


def _names_in(addresses: Sequence[str]) -> bool:
    """Whether any address is a host name (resolved by us, so worth resolving again)."""
    for address in addresses:
        try:
            ipaddress.ip_address(address.rpartition(":")[0].strip("[]"))
        except ValueError:
            return True
    return False
