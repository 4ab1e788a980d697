"""Without TLS a server listens on loopback only; ports are exclusive; a Unix socket is 0660."""

from __future__ import annotations

import stat
from pathlib import Path

import grpc
import pytest

from allocator import InvalidInput
from runtime.tls import UNIX_SOCKET_MODE, add_port, require_secure_or_loopback, server_options


@pytest.mark.parametrize("address", ["127.0.0.1:50061", "[::1]:50061", "localhost:1", "unix:/x"])
def test_loopback_addresses_need_no_tls(address: str) -> None:
    require_secure_or_loopback(address, secure=False)


@pytest.mark.parametrize("address", ["0.0.0.0:50061", "10.1.2.3:1", "[::]:5", "example.com:1"])
def test_other_addresses_need_tls(address: str) -> None:
    with pytest.raises(InvalidInput, match="--certs-dir") as info:
        require_secure_or_loopback(address, secure=False)
    assert address in str(info.value)
    require_secure_or_loopback(address, secure=True)


async def test_a_second_server_on_a_taken_port_fails_naming_it() -> None:
    first = grpc.aio.server(options=server_options())
    port = add_port(first, "127.0.0.1:0", None)
    await first.start()
    second = grpc.aio.server(options=server_options())
    try:
        with pytest.raises(OSError, match=f"127.0.0.1:{port}.*in use"):
            add_port(second, f"127.0.0.1:{port}", None)
    finally:
        await first.stop(0)
        await second.stop(0)


async def test_a_unix_socket_is_for_its_owner_and_group(tmp_path: Path) -> None:
    server = grpc.aio.server(options=server_options())
    try:
        add_port(server, f"unix:{tmp_path / 'pos.sock'}", None)
        mode = (tmp_path / "pos.sock").stat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == UNIX_SOCKET_MODE == 0o660
        with pytest.raises(OSError, match=r"unix:.*nowhere/pos\.sock.*missing"):
            add_port(server, f"unix:{tmp_path / 'nowhere' / 'pos.sock'}", None)
    finally:
        await server.stop(0)
