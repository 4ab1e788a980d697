"""TLS for POS terminals on the store LAN: the agent's own small CA, one certificate per terminal.

On the store machine the POS talks to the agent over loopback or a Unix socket (file
permissions decide who may). A POS on another machine of the store LAN connects to
`--lan-listen` over mutual TLS instead, with a certificate this CA made for it: its identity is
the terminal id (spiffe://einv-pos/<BAN>/terminal/<id>), so it takes and gives back numbers only
as itself. Files: `<data dir>/pos-tls/` ca.crt, ca.key, server.crt, server.key (keys 0600).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from runtime import pki, principal
from runtime.tls import Tls, load_pair

POS_TLS_DIR = "pos-tls"
SERVER = "server"
LIFETIME = timedelta(days=825)


def folder(data_dir: Path) -> Path:
    return data_dir / POS_TLS_DIR


def init(data_dir: Path, ban: str, hosts: Sequence[str], overwrite: bool = False) -> Path:
    """The POS CA and the agent's LAN server certificate for `hosts`."""
    where = folder(data_dir)
    ca = pki.create_ca(f"einv POS CA of branch {ban}")
    pki.write_private(where / pki.CA_KEY, pki.key_pem(ca.key), overwrite)
    pki.write_public(where / pki.CA_CERT, pki.cert_pem(ca.cert), overwrite)
    key = pki.new_key()
    cert = ca.issue(key.public_key(), hosts[0], None, LIFETIME, hosts=hosts, server=True)
    pki.write_private(where / f"{SERVER}.key", pki.key_pem(key), overwrite)
    pki.write_public(where / f"{SERVER}.crt", pki.cert_pem(cert), overwrite)
    return where


def terminal(
    data_dir: Path, ban: str, terminal_id: str, out: Path, overwrite: bool = False
) -> Path:
    """A terminal's certificate: out/ca.crt, out/<id>.crt, out/<id>.key (copy them to the POS)."""
    ca = pki.load_ca(folder(data_dir))
    who = principal.terminal(ban, terminal_id)
    key = pki.new_key()
    cert = ca.issue(key.public_key(), terminal_id, who.spiffe_id, LIFETIME)
    pki.write_public(out / pki.CA_CERT, pki.cert_pem(ca.cert), overwrite=True)
    pki.write_private(out / f"{terminal_id}.key", pki.key_pem(key), overwrite)
    pki.write_public(out / f"{terminal_id}.crt", pki.cert_pem(cert), overwrite)
    return out


def server_tls(data_dir: Path) -> Tls:
    return Tls(*load_pair(folder(data_dir), f"{SERVER}.crt", f"{SERVER}.key"))
