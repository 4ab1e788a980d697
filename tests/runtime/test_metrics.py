"""The /metrics server: plain on loopback, TLS to HQ admin certificates only, one registry."""

from __future__ import annotations

import argparse
import asyncio
import re
import ssl
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from allocator import InvalidInput
from demo.trust import Certs
from runtime import pki
from runtime.cli import listen_address
from runtime.metrics import NO_METRICS
from runtime.metrics.server import (
    Cached,
    MetricsListen,
    MetricsServer,
    admin_of,
    mutual_tls,
)
from runtime.principal import Role


def registry_with_a_counter() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("einv_test_things", "things", registry=registry).inc(3)
    return registry


def client_context(certs: Certs, user: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs.ca_cert))
    if user is not None:
        context.load_cert_chain(certs.folder / f"{user}.crt", certs.folder / f"{user}.key")
    return context


async def fetch(url: str, context: ssl.SSLContext | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, ssl=context) as reply:
        return reply.status, await reply.text()


async def test_loopback_is_plain_http_of_the_servers_own_registry() -> None:
    server = MetricsServer(registry_with_a_counter(), MetricsListen("127.0.0.1:0", None))
    await server.start()
    try:
        status, body = await fetch(server.url)
        assert server.url.startswith("http://127.0.0.1:")
        assert status == 200 and "einv_test_things_total 3.0" in body
        assert "python_gc" not in body  # not the global default registry
        status, _ = await fetch(server.url.replace("/metrics", "/other"))
        assert status == 404
    finally:
        await server.stop()


async def test_tls_serves_admin_certificates_only(tmp_path: Path) -> None:
    certs = Certs.create(tmp_path, {"prom": Role.VIEWER})
    folder = certs.folder
    tls = mutual_tls(certs.ca_cert, folder / pki.HQ_CERT, folder / pki.HQ_KEY)
    server = MetricsServer(registry_with_a_counter(), MetricsListen("127.0.0.1:0", tls))
    await server.start()
    try:
        assert server.url.startswith("https://")
        status, body = await fetch(server.url, client_context(certs, "prom"))
        assert status == 200 and "einv_test_things_total 3.0" in body
        branch = certs.branch_tls("04595257")
        (tmp_path / "b.crt").write_bytes(branch.cert_pem)
        (tmp_path / "b.key").write_bytes(branch.key_pem)
        as_branch = client_context(certs, None)
        as_branch.load_cert_chain(tmp_path / "b.crt", tmp_path / "b.key")
        status, body = await fetch(server.url, as_branch)
        assert status == 403 and "admin" in body
        with pytest.raises(aiohttp.ClientError):  # no client certificate: no handshake
            await fetch(server.url, client_context(certs, None))
    finally:
        await server.stop()


def test_exposed_without_tls_is_refused_naming_the_flag() -> None:
    with pytest.raises(
        InvalidInput, match=re.escape("--metrics-listen 0.0.0.0:9100 is not loopback")
    ):
        MetricsListen("0.0.0.0:9100", None)
    assert MetricsListen("[::1]:9100", None).tls is None


def test_listen_address_forms() -> None:
    assert listen_address("9100") == "127.0.0.1:9100"
    assert listen_address("0.0.0.0:9100") == "0.0.0.0:9100"
    for bad in ("unix:/run/m.sock", "nowhere", "1:99999"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"metrics|address|port"):
            listen_address(bad)


def test_admin_of_reads_the_spiffe_id_of_admins_only() -> None:
    def cert(uri: str) -> dict[str, object]:
        return {"subjectAltName": (("DNS", "x"), ("URI", uri))}

    assert admin_of(cert("spiffe://einv/admin/viewer/prom")).name == "prom"  # type: ignore[union-attr]
    assert admin_of(cert("spiffe://einv/branch/04595257")) is None
    assert admin_of(cert("spiffe://other/admin/viewer/prom")) is None
    assert admin_of(None) is None


async def test_cached_reads_once_per_period_however_many_ask() -> None:
    reads = []

    async def read() -> int:
        reads.append(1)
        await asyncio.sleep(0.01)
        return len(reads)

    cached = Cached(read, 60.0)
    await asyncio.gather(*(cached.refresh() for _ in range(5)))
    assert cached.value == 1 and len(reads) == 1
    fresh = Cached(read, 0.0, share=1e9)  # no keeping at all
    await fresh.refresh()
    await fresh.refresh()
    assert len(reads) == 3
    slow = Cached(read, 0.0, share=0.001)  # a read of 10 ms is kept for 10 s
    await slow.refresh()
    await slow.refresh()
    assert len(reads) == 4


def test_the_default_hooks_do_nothing() -> None:
    NO_METRICS.committed(3, 0.1)
    NO_METRICS.batched(2)
    NO_METRICS.handed_out(1, 0.001)
    assert vars(NO_METRICS) == {}
