"""The HTTP server of `/metrics`, one per process, for its own `CollectorRegistry`.

Each server keeps its own registry (never prometheus_client's global one) holding the hooks'
histograms and counters (runtime.metrics) and collectors that read the process's state at
scrape time, which is cheaper than counting every change on the hot path.

Where `/metrics` is served: on loopback over plain HTTP (like etcd's --listen-metrics-urls
http://localhost:2381); anywhere else over TLS, and only to a client certificate of an HQ admin
(spiffe://einv/admin/ROLE/NAME, any role: viewer is enough to read), so the figures of a chain's
stores are not handed to whoever can reach the port.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.exposition import choose_encoder

from allocator import DomainError, InvalidInput
from runtime import principal
from runtime.metrics import SECONDS_BUCKETS
from runtime.principal import Kind
from runtime.tls import is_loopback

FLAG = "--metrics-listen"
PATH = "/metrics"


def histogram(
    registry: CollectorRegistry, name: str, text: str, buckets: tuple[float, ...] = SECONDS_BUCKETS
) -> Histogram:
    return Histogram(name, text, buckets=buckets, registry=registry)


def mutual_tls(ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """HTTPS with `cert`, and a client certificate of `ca` required of every scraper."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(cert, key)
    return context


def needs_tls(listen: str, how: str) -> InvalidInput:
    """The one-line refusal of a non-loopback address without TLS material."""
    return InvalidInput(
        f"{FLAG} {listen} is not loopback: metrics beyond this machine are served over TLS to "
        f"HQ admin certificates only, and {how} (or give a loopback address, e.g. 127.0.0.1:9100)"
    )


@dataclass(frozen=True, slots=True)
class MetricsListen:
    """Where /metrics is served, and its TLS (None: plain HTTP, loopback only)."""

    address: str
    tls: ssl.SSLContext | None

    def __post_init__(self) -> None:
        if self.tls is None and not is_loopback(self.address):
            raise needs_tls(self.address, "no TLS material was given")


def admin_of(peercert: Any) -> principal.Principal | None:
    """The HQ admin a verified client certificate names (its SPIFFE ID), or None."""
    for kind, value in (peercert or {}).get("subjectAltName", ()):
        if kind == "URI":
            try:
                who = principal.from_spiffe_id(value)
            except DomainError:
                return None
            return who if who.kind is Kind.ADMIN else None
    return None


Render = Callable[[], Awaitable[None]]


class MetricsServer:
    """GET /metrics of one registry; `refresh` runs first (async reads of the state)."""

    def __init__(
        self, registry: CollectorRegistry, listen: MetricsListen, refresh: Render | None = None
    ) -> None:
        self.registry = registry
        self.listen = listen
        self._refresh = refresh
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        if self.listen.tls is not None:
            who = admin_of(
                request.transport.get_extra_info("peercert") if request.transport else None
            )
            if who is None:
                return web.Response(status=403, text="metrics are for HQ admin certificates only\n")
        if self._refresh is not None:
            await self._refresh()
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encode(self.registry)
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    async def start(self) -> int:
        """Listen; returns the port (0 in the address becomes the real one)."""
        app = web.Application()
        app.router.add_get(PATH, self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        host, _, port = self.listen.address.rpartition(":")
        site = web.TCPSite(self._runner, host.strip("[]"), int(port), ssl_context=self.listen.tls)
        try:
            await site.start()
        except OSError as error:
            await self.stop()
            raise OSError(f"cannot listen on {self.listen.address} ({FLAG}): {error}") from None
        self.port = int(self._runner.addresses[0][1])
        return self.port

    @property
    def url(self) -> str:
        scheme = "https" if self.listen.tls is not None else "http"
        return f"{scheme}://{self.listen.address.rpartition(':')[0]}:{self.port}{PATH}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class Cached:
    """An async read of state, done at most once per `seconds` however many scrapers ask,
    and never more often than `share` of the time: a read that takes long (HQ's at 10,000
    branches) is kept for `1 / share` times as long as it took."""

    def __init__(
        self, read: Callable[[], Awaitable[Any]], seconds: float, share: float = 0.1
    ) -> None:
        self._read = read
        self._seconds = seconds
        self._share = share
        self._lock = asyncio.Lock()
        self._at: float | None = None
        self._keep = seconds
        self.value: Any = None

    async def refresh(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            started = loop.time()
            if self._at is not None and started - self._at < self._keep:
                return
            self.value = await self._read()
            self._at = loop.time()
            self._keep = max(self._seconds, (self._at - started) / self._share)
