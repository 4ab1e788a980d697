"""The HQ's certificate authority and the files of a certificates directory (`cryptography`).

One directory per party, files named by role as CockroachDB does: `ca.crt` (and `ca.key`, only
where certificates are signed), `hq.crt`/`hq.key` for the HQ server, `<user>.crt`/`<user>.key`
for an admin. Keys are ECDSA P-256, written 0600 and refused at start-up when anyone but the
owner may read them. A key never leaves the machine it was made on: branches send a CSR.

Certificate times always follow the machine's real clock (TLS checks them against it), never
a simulated domain clock.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from allocator import InvalidInput
from runtime import principal

CA_CERT, CA_KEY = "ca.crt", "ca.key"
HQ_CERT, HQ_KEY = "hq.crt", "hq.key"
# Every HQ certificate also names the service: a client of several replicas checks this one name
# on whichever replica it reaches (one gRPC channel checks one name; see runtime.replicas).
HQ_NAME = "einv-hq"
CA_LIFETIME = timedelta(days=3650)
SKEW = timedelta(minutes=5)  # not-before is set this far back, for clocks slightly behind
MAX_CSR_BYTES = 16 * 1024
TOKEN_PREFIX = "einv1."
_CURVE = ec.SECP256R1()


class PkiError(InvalidInput):
    """A certificate, key, CSR or token that is missing, malformed or unsafe."""

    reason = "BAD_CREDENTIAL"


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(_CURVE)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def issue(
        self,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        common_name: str,
        identity: str | None,
        lifetime: timedelta,
        hosts: Sequence[str] = (),
        server: bool = False,
        now: datetime | None = None,
    ) -> x509.Certificate:
        """A leaf certificate: `identity` as its URI SAN, `hosts` as DNS/IP SANs."""
        start = now or now_utc()
        names: list[x509.GeneralName] = [host_name(h) for h in hosts]
        if identity:
            names.append(x509.UniformResourceIdentifier(identity))
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if server:
            usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - SKEW)
            .not_valid_after(min(start + lifetime, self.cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def issue_hq(
        self, public_key: ec.EllipticCurvePublicKey, hosts: Sequence[str], lifetime: timedelta
    ) -> x509.Certificate:
        """An HQ replica's server certificate: its `hosts`, and HQ_NAME for clients of several."""
        names = [*hosts, *([HQ_NAME] if HQ_NAME not in hosts else [])]
        return self.issue(public_key, hosts[0], principal.HQ.spiffe_id, lifetime, names, True)

    def sign_csr(
        self, csr_pem: bytes, common_name: str, identity: str, lifetime: timedelta
    ) -> x509.Certificate:
        """Sign a client CSR. Only its key is taken: the names are the CA's to choose."""
        return self.issue(csr_public_key(csr_pem), common_name, identity, lifetime, now=now_utc())


def create_ca(common_name: str = "einv HQ CA", now: datetime | None = None) -> CertificateAuthority:
    key = new_key()
    start = now or now_utc()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - SKEW)
        .not_valid_after(start + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert, key)


def host_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        if not host or len(host) > 253 or any(c.isspace() or c in "/:@" for c in host):
            raise PkiError(f"host {host[:80]!r} is not a DNS name or an IP address") from None
        return x509.DNSName(host)


def csr_public_key(csr_pem: bytes) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """The key of a CSR whose signature proves its holder has the private key."""
    if len(csr_pem) > MAX_CSR_BYTES:
        raise PkiError(f"certificate request of {len(csr_pem)} bytes is over {MAX_CSR_BYTES}")
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError as error:
        raise PkiError(f"certificate request is not a PEM CSR: {error}") from None
    if not csr.is_signature_valid:
        raise PkiError("certificate request's signature does not match its key")
    key = csr.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in ("secp256r1", "secp384r1"):
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return key
    raise PkiError("certificate request key must be ECDSA P-256/P-384 or RSA of 2048 bits or more")


def make_csr(key: ec.EllipticCurvePrivateKey, common_name: str) -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def identity_of(cert: x509.Certificate) -> str | None:
    """The SPIFFE URI SAN of a certificate, if it has one."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    return next((u for u in uris if u.startswith("spiffe://")), None)


# --- files ---


def write_private(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Write a key readable by its owner only (0600), atomically; refuse to replace one."""
    if path.exists() and not overwrite:
        raise PkiError(f"{path} exists already: remove it first, or pass --overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)


def write_public(path: Path, data: bytes, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise PkiError(f"{path} exists already: remove it first, or pass --overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def read_private(path: Path) -> bytes:
    """A key file's bytes, refused when group or others may read or write it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PkiError(f"key file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PkiError(
            f"key file {path} is readable by others (mode {stat.S_IMODE(mode):04o}): "
            f"run chmod 600 {path}"
        )
    return path.read_bytes()


def read_public(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PkiError(f"certificate file {path} does not exist") from None


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(read_public(path))
    except ValueError as error:
        raise PkiError(f"{path} is not a PEM certificate: {error}") from None


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(read_private(path), password=None)
    except (ValueError, TypeError) as error:
        raise PkiError(f"{path} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{path} holds no ECDSA key")
    return key


def load_ca(certs_dir: Path) -> CertificateAuthority:
    return CertificateAuthority(load_cert(certs_dir / CA_CERT), load_key(certs_dir / CA_KEY))


def check_pair(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, where: str) -> None:
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise PkiError(f"{where}: the certificate and the key do not belong together")


def check_issued_by(cert: x509.Certificate, ca: x509.Certificate, where: str) -> None:
    """The mistake clients make most: a certificate of another HQ's CA."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise PkiError(f"{where} was not issued by the CA in the given ca.crt") from None


def check_current(cert: x509.Certificate, where: str, now: datetime | None = None) -> None:
    moment = now or now_utc()
    if moment >= cert.not_valid_after_utc:
        raise PkiError(f"{where} expired at {cert.not_valid_after_utc.isoformat()}")
    if moment < cert.not_valid_before_utc:
        raise PkiError(f"{where} is valid only from {cert.not_valid_before_utc.isoformat()}")


# --- the one-time enrolment token: a bootstrap credential of one branch ---


def encode_token(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> str:
    """`einv1.` + base64url(32-byte key scalar + certificate DER): one line, no padding."""
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    der = cert.public_bytes(serialization.Encoding.DER)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(scalar + der).decode().rstrip("=")


def decode_token(token: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    text = token.strip()
    if not text.startswith(TOKEN_PREFIX) or len(text) > 4000:
        raise PkiError("enrolment token is malformed: use the line branch-enroll-token printed")
    body = text[len(TOKEN_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        key = ec.derive_private_key(int.from_bytes(raw[:32], "big"), _CURVE)
        cert = x509.load_der_x509_certificate(raw[32:])
    except (ValueError, binascii.Error):
        raise PkiError("enrolment token is malformed or cut short: copy the whole line") from None
    check_pair(cert, key, "enrolment token")
    return key, cert
