"""The store's identity at HQ: a key made here, a short-lived certificate HQ signed, renewed.

`einv-agent enroll` makes the key on this machine, sends HQ only a CSR (over mutual TLS with the
one-time token's bootstrap credential) and keeps what HQ signed in `<data dir>/tls/`:
`ca.crt`, `branch.crt`, `branch.key` (0600). The running agent renews the certificate, with a
new key, once two thirds of its life have passed.

Replacing the pair is two renames (key, then certificate); a crash between them is repaired at
the next load, since the new certificate is still there under its temporary name.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import grpc
from cryptography import x509

from allocator import Ban, DomainError, InvalidInput
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime import pki, principal
from runtime.grpc_status import refusal
from runtime.principal import Kind
from runtime.tls import Tls

TLS_DIR = "tls"
CERT, KEY = "branch.crt", "branch.key"
RENEW_SHARE = 2 / 3
ENROLL_TIMEOUT = 30.0


class EnrolmentFailed(DomainError):
    reason = "ENROLMENT_FAILED"


@dataclass(frozen=True, slots=True)
class BranchIdentity:
    ban: str
    tls: Tls
    not_before: datetime
    not_after: datetime

    @property
    def renew_at(self) -> datetime:
        """Two thirds into its life, counted from when it was issued (not-before is set back
        by the CA's skew allowance)."""
        issued = min(self.not_before + pki.SKEW, self.not_after)
        return issued + (self.not_after - issued) * RENEW_SHARE


def tls_dir(data_dir: Path) -> Path:
    return data_dir / TLS_DIR


def enrolled(data_dir: Path) -> bool:
    return (tls_dir(data_dir) / CERT).exists()


def load(data_dir: Path) -> BranchIdentity:
    """The identity stored by `enroll` (or the last renewal), checked."""
    folder = tls_dir(data_dir)
    _finish_replacement(folder)
    ca = pki.load_cert(folder / pki.CA_CERT)
    cert = pki.load_cert(folder / CERT)
    key = pki.load_key(folder / KEY)
    where = str(folder / CERT)
    pki.check_pair(cert, key, where)
    pki.check_issued_by(cert, ca, where)
    pki.check_current(cert, f"{where} (renew it in time; if it lapsed, enrol again)")
    return _identity(cert, pki.cert_pem(ca), pki.key_pem(key))


def _identity(cert: x509.Certificate, ca_pem: bytes, key_pem: bytes) -> BranchIdentity:
    uri = pki.identity_of(cert)
    who = principal.from_spiffe_id(uri) if uri else None
    if who is None or who.kind is not Kind.BRANCH or who.ban is None:
        raise InvalidInput(f"certificate {uri!r} does not name a branch")
    tls = Tls(ca_pem, pki.cert_pem(cert), key_pem)
    return BranchIdentity(who.ban, tls, cert.not_valid_before_utc, cert.not_valid_after_utc)


def _finish_replacement(folder: Path) -> None:
    pending = folder / f"{CERT}.new"
    if not pending.exists():
        return
    with contextlib.suppress(pki.PkiError, ValueError):
        if _pairs(pki.load_cert(pending), folder / KEY):
            pending.replace(folder / CERT)
            return
    pending.unlink()  # the key was never replaced: the old pair stands


def _pairs(cert: x509.Certificate, key_path: Path) -> bool:
    try:
        pki.check_pair(cert, pki.load_key(key_path), str(key_path))
    except pki.PkiError:
        return False
    return True


def store(data_dir: Path, key: pki.ec.EllipticCurvePrivateKey, reply: Any) -> BranchIdentity:
    """Keep a signed certificate (and the CA) with the key it belongs to."""
    cert = x509.load_pem_x509_certificate(reply.certificate_pem)
    pki.check_pair(cert, key, "the certificate HQ signed")
    ca = x509.load_pem_x509_certificate(reply.ca_pem)
    pki.check_issued_by(cert, ca, "the certificate HQ signed")
    folder = tls_dir(data_dir)
    identity = _identity(cert, pki.cert_pem(ca), pki.key_pem(key))
    pki.write_public(folder / pki.CA_CERT, pki.cert_pem(ca), overwrite=True)
    pki.write_public(folder / f"{CERT}.new", pki.cert_pem(cert), overwrite=True)
    pki.write_private(folder / KEY, pki.key_pem(key), overwrite=True)
    (folder / f"{CERT}.new").replace(folder / CERT)
    return identity


def enroll(hq: str, ca_cert: Path, token: str, data_dir: Path) -> BranchIdentity:
    """Enrol this store once: key here, CSR to HQ, certificate kept in the data dir."""
    boot_key, boot_cert = pki.decode_token(token)
    who = principal.from_spiffe_id(pki.identity_of(boot_cert) or "")
    if who.kind is not Kind.ENROLLEE or who.ban is None:
        raise InvalidInput("the token is not an enrolment credential")
    ca = pki.load_cert(ca_cert)
    pki.check_issued_by(boot_cert, ca, "the enrolment token")
    pki.check_current(boot_cert, f"enrolment token {who.token_id}")
    if enrolled(data_dir):
        raise InvalidInput(
            f"{tls_dir(data_dir)} already holds an identity (branch "
            f"{_stored_ban(data_dir)}): this store is enrolled; use another --data to enrol again"
        )
    key = pki.new_key()
    creds = Tls(pki.cert_pem(ca), pki.cert_pem(boot_cert), pki.key_pem(boot_key))
    request = branch_pb2.EnrollRequest(csr_pem=pki.make_csr(key, Ban(who.ban).value))
    with grpc.secure_channel(hq, creds.credentials()) as channel:
        try:
            reply = branch_pb2_grpc.BranchServiceStub(channel).Enroll(
                request, timeout=ENROLL_TIMEOUT
            )
        except grpc.RpcError as error:
            seen = refusal(error)
            hint = ""
            if seen.code is grpc.StatusCode.UNAVAILABLE:
                hint = " (is --hq right, is --ca-cert this HQ's CA, has the token expired?)"
            raise EnrolmentFailed(
                f"HQ refused the enrolment: {seen.code.name}: {seen.message}{hint}"
            ) from None
    return store(data_dir, key, reply)


def _stored_ban(data_dir: Path) -> str:
    try:
        return load(data_dir).ban
    except DomainError:
        return "unreadable"


class Renewer(Protocol):
    async def renew_certificate(self, csr_pem: bytes) -> branch_pb2.BranchCertificate: ...


async def renew(identity: BranchIdentity, hq: Renewer, data_dir: Path) -> BranchIdentity:
    """A new key and certificate, asked for with the current one."""
    key = pki.new_key()
    reply = await hq.renew_certificate(pki.make_csr(key, identity.ban))
    return store(data_dir, key, reply)
