"""Certificates for the demo, the end-to-end tests and the benchmarks, made the way a user does.

`Certs.create(root)` runs what an HQ operator runs once (`einv-admin certs init-ca`, `certs hq
--host 127.0.0.1 --host localhost`, `certs admin`), through the same functions, and stores
everything under `root/certs`. Stores enrol with a one-time token exactly as `einv-agent
enroll` does. For benchmarks simulating thousands of branches, `branch_tls` signs a branch
certificate directly with the CA (what an enrolment would end with, without 10,000 round trips).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from admin_cli.client import Admin
from branch_agent.hq import identity
from protos.einvoice.v1 import admin_pb2
from runtime import pki, principal
from runtime.principal import Role
from runtime.tls import Tls, client_tls

ADMIN_USER = "demo-admin"
HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True, slots=True)
class Certs:
    folder: Path

    @classmethod
    def create(
        cls, root: Path, users: dict[str, Role] | None = None, hosts: tuple[str, ...] = HOSTS
    ) -> Certs:
        folder = root / "certs"
        ca = pki.create_ca()
        pki.write_private(folder / pki.CA_KEY, pki.key_pem(ca.key))
        pki.write_public(folder / pki.CA_CERT, pki.cert_pem(ca.cert))
        key = pki.new_key()
        cert = ca.issue_hq(key.public_key(), hosts, timedelta(days=30))
        pki.write_private(folder / pki.HQ_KEY, pki.key_pem(key))
        pki.write_public(folder / pki.HQ_CERT, pki.cert_pem(cert))
        made = cls(folder)
        for name, role in (users or {ADMIN_USER: Role.ADMIN}).items():
            made.add_user(name, role)
        return made

    @property
    def ca_cert(self) -> Path:
        return self.folder / pki.CA_CERT

    def add_user(self, name: str, role: Role, days: int = 30) -> Tls:
        ca = pki.load_ca(self.folder)
        key = pki.new_key()
        who = principal.admin(name, role)
        cert = ca.issue(key.public_key(), name, who.spiffe_id, timedelta(days=days))
        pki.write_private(self.folder / f"{name}.key", pki.key_pem(key), overwrite=True)
        pki.write_public(self.folder / f"{name}.crt", pki.cert_pem(cert), overwrite=True)
        return client_tls(self.folder, name)

    def admin_tls(self, name: str = ADMIN_USER) -> Tls:
        return client_tls(self.folder, name)

    def admin(self, addresses: list[str], name: str = ADMIN_USER) -> Admin:
        return Admin(addresses, self.admin_tls(name))

    def admin_args(self, name: str = ADMIN_USER) -> list[str]:
        return ["--certs-dir", str(self.folder), "--user", name]

    def enroll(self, admin: Admin, hq_address: str, ban: str, data_dir: Path) -> None:
        """What a store does once: a token from HQ, `einv-agent enroll` with it."""
        token = admin.call("CreateEnrollToken", admin_pb2.CreateEnrollTokenRequest(ban=ban))
        identity.enroll(hq_address, self.ca_cert, token.token, data_dir)

    def branch_tls(self, ban: str, days: int = 1) -> Tls:
        """A branch's client credentials signed directly by the CA (benchmarks only)."""
        ca = pki.load_ca(self.folder)
        key = pki.new_key()
        identity = principal.branch(ban).spiffe_id
        cert = ca.issue(key.public_key(), ban, identity, timedelta(days=days))
        return Tls(pki.cert_pem(ca.cert), pki.cert_pem(cert), pki.key_pem(key))
