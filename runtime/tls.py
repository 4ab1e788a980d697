"""Mutual TLS for gRPC: credentials from a certificates directory, and where a server may listen.

Secure by default: a server starts with TLS material (mutual TLS: every client must present a
certificate of the same CA) or with an explicit `--insecure`, which stays on loopback (or a
Unix socket). Ports are exclusive: gRPC's SO_REUSEPORT is turned off, so a second server on a
taken port fails at start instead of silently sharing the connections.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from allocator import InvalidInput
from runtime import pki

EXCLUSIVE_PORT = ("grpc.so_reuseport", 0)
UNIX_SOCKET_MODE = 0o660


@dataclass(frozen=True, slots=True)
class Tls:
    """One party's key and certificate, and the CA its peers' certificates must come from."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    def server_credentials(self) -> grpc.ServerCredentials:
        """Mutual TLS: every client must present a certificate of the CA."""
        return grpc.ssl_server_credentials(
            [(self.key_pem, self.cert_pem)], root_certificates=self.ca_pem, require_client_auth=True
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(self.ca_pem, self.key_pem, self.cert_pem)


def load_pair(
    certs_dir: Path, cert_name: str, key_name: str, ca_name: str = pki.CA_CERT
) -> tuple[bytes, bytes, bytes]:
    """(ca, cert, key) PEM of a directory, checked: they belong together and are current."""
    ca_path, cert_path, key_path = certs_dir / ca_name, certs_dir / cert_name, certs_dir / key_name
    ca = pki.load_cert(ca_path)
    cert = pki.load_cert(cert_path)
    key = pki.load_key(key_path)
    pki.check_pair(cert, key, str(cert_path))
    pki.check_issued_by(cert, ca, str(cert_path))
    pki.check_current(cert, str(cert_path))
    return pki.cert_pem(ca), pki.read_public(cert_path), pki.read_private(key_path)


def server_tls(certs_dir: Path) -> Tls:
    """The HQ's own: ca.crt, hq.crt, hq.key (see `einv-admin certs init-ca` and `certs hq`)."""
    return Tls(*load_pair(certs_dir, pki.HQ_CERT, pki.HQ_KEY))


def client_tls(certs_dir: Path, user: str) -> Tls:
    """An admin's: ca.crt, <user>.crt, <user>.key (see `einv-admin certs admin`)."""
    return Tls(*load_pair(certs_dir, f"{user}.crt", f"{user}.key"))


def is_loopback(address: str) -> bool:
    """A listen or connect address (HOST:PORT, [V6]:PORT, unix:PATH) that stays on this host."""
    if address.startswith("unix:"):
        return True
    return is_loopback_host(address.rsplit(":", 1)[0].strip("[]"))


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_or_loopback(address: str, secure: bool, flag: str = "--certs-dir") -> None:
    """Without TLS a server listens on loopback (or a Unix socket) only."""
    if not secure and not is_loopback(address):
        raise InvalidInput(
            f"listen address {address} is not loopback: with --insecure a server listens on "
            f"loopback or a unix: socket only; give {flag} to serve the network over mutual TLS"
        )


def add_port(server: grpc.aio.Server, address: str, tls: Tls | None) -> int:
    """Bind `address` exclusively; a taken port is an error naming it. A Unix socket is made
    UNIX_SOCKET_MODE: its owner and group may connect (the POS's user joins the group)."""
    try:
        if tls is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, tls.server_credentials())
    except RuntimeError:
        port = 0
    if port == 0 and address.startswith("unix:"):
        raise OSError(f"cannot listen on {address}: its directory is missing or not writable")
    if port == 0:
        raise OSError(
            f"cannot listen on {address}: the port is in use by another process, or the "
            "address is not one of this machine's"
        )
    if address.startswith("unix:"):
        # gRPC made it by the umask (others read-only: they cannot connect); never wider than this.
        os.chmod(unix_path(address), UNIX_SOCKET_MODE)
    return port


def unix_path(address: str) -> str:
    """The file of a unix:PATH or unix:///PATH address."""
    path = address.removeprefix("unix:")
    return path[2:] if path.startswith("///") else path


# Clients ping every 10 s while a call is open (runtime.replicas) to notice a replica that went
# away without a reset; gRPC's default answers pings more often than every 5 minutes on a quiet
# connection (a WatchConfig stream) with GOAWAY "too many pings".
ACCEPT_PINGS = ("grpc.http2.min_ping_interval_without_data_ms", 5_000)


def server_options(extra: Sequence[tuple[str, object]] = ()) -> list[tuple[str, object]]:
    return [EXCLUSIVE_PORT, ACCEPT_PINGS, *extra]
