"""Where a server may listen before mutual TLS exists: loopback, unless told otherwise."""

from __future__ import annotations

import ipaddress

from allocator import InvalidInput


def require_loopback(address: str, insecure_any: bool) -> None:
    """Loopback (or a Unix socket) only, unless the operator passed --insecure-listen-any."""
    if insecure_any or address.startswith("unix:"):
        return
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidInput(
            f"listen address {address} is not loopback: traffic is not encrypted yet, so "
            "listening beyond this machine needs --insecure-listen-any"
        )
