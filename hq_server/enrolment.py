"""Branch enrolment and certificate renewal, the kubelet TLS bootstrap way.

An admin asks for a one-time token for a registered branch. The token is a bootstrap
credential: a key and a certificate signed by the HQ's CA that names the branch and the token
(spiffe://einv/enrol/<BAN>/<id>) and expires with it. The store's agent makes its own key,
connects with the token over mutual TLS and sends a CSR; HQ signs a short-lived certificate
whose identity is the branch BAN and marks the token used, in one fenced transaction. The agent
renews its certificate (a new key each time) with the current one, well before it expires.

Each function runs inside one fenced write transaction (`conn`); `now` is the domain clock, the
certificates' and tokens' times follow the machine's real clock (TLS checks those).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from sqlalchemy import Connection, insert, select, update

from allocator import Ban, InvalidInput, PermissionDenied, branch_disabled
from hq_server import audit
from hq_server.records import branch_row
from hq_server.schema import certificates, enroll_tokens
from runtime import pki, principal
from runtime.principal import Principal

DEFAULT_TOKEN_TTL = timedelta(hours=24)
MAX_TOKEN_TTL = timedelta(days=7)
DEFAULT_CERT_LIFETIME = timedelta(days=7)


class TokenRefused(PermissionDenied):
    """An enrolment token that is unknown, used, expired, or of another branch."""

    reason = "ENROLL_TOKEN_REFUSED"


class NoCertificateAuthority(InvalidInput):
    reason = "NO_CA"


@dataclass(frozen=True, slots=True)
class Signer:
    """The HQ's CA key, when this HQ signs branch certificates (ca.key in --certs-dir)."""

    ca: pki.CertificateAuthority | None
    branch_lifetime: timedelta = DEFAULT_CERT_LIFETIME

    def authority(self) -> pki.CertificateAuthority:
        if self.ca is None:
            raise NoCertificateAuthority(
                "this HQ holds no CA key (ca.key in --certs-dir), so it cannot sign branch "
                "certificates; start it with the certificates directory made by certs init-ca"
            )
        return self.ca


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    token_id: str
    branch_ban: str
    expires_at: datetime


def create_token(
    conn: Connection, now: datetime, actor: str, ban: Ban, ttl: timedelta, signer: Signer
) -> IssuedToken:
    """A one-time enrolment token for a registered, enabled branch."""
    if not timedelta(minutes=1) <= ttl <= MAX_TOKEN_TTL:
        raise InvalidInput(f"token lifetime {ttl} must be between 1 minute and {MAX_TOKEN_TTL}")
    require_enabled(conn, ban)
    ca = signer.authority()
    token_id = secrets.token_hex(8)
    key = pki.new_key()
    wall = pki.now_utc()
    identity = principal.enrollee(ban.value, token_id).spiffe_id
    cert = ca.issue(key.public_key(), f"enrol {ban}", identity, ttl, now=wall)
    expires = cert.not_valid_after_utc
    conn.execute(
        insert(enroll_tokens).values(
            id=token_id, branch_ban=ban.value, created_at=wall, expires_at=expires, created_by=actor
        )
    )
    audit.append(
        conn,
        now,
        actor,
        "create_enroll_token",
        ban=ban.value,
        token_id=token_id,
        expires_at=expires.isoformat(),
    )
    return IssuedToken(pki.encode_token(key, cert), token_id, ban.value, expires)


def enroll(
    conn: Connection, now: datetime, caller: Principal, csr_pem: bytes, signer: Signer
) -> x509.Certificate:
    """The branch's first certificate, for the key of its CSR; the token is used up."""
    assert caller.token_id is not None and caller.ban is not None
    token = conn.execute(
        select(enroll_tokens).where(enroll_tokens.c.id == caller.token_id).with_for_update()
    ).first()
    check_token(token, caller)
    ban = Ban(caller.ban)
    require_enabled(conn, ban)
    cert = sign(conn, now, caller.actor, ban, csr_pem, signer, "enrolled", caller.token_id)
    conn.execute(
        update(enroll_tokens)
        .where(enroll_tokens.c.id == caller.token_id)
        .values(used_at=pki.now_utc())
    )
    return cert


def check_token(token: Any, caller: Principal) -> None:
    if token is None or token.branch_ban != caller.ban:
        raise TokenRefused(f"enrolment token {caller.token_id} is not known to this HQ")
    if token.used_at is not None:
        raise TokenRefused(
            f"enrolment token {caller.token_id} was already used at "
            f"{token.used_at.isoformat(timespec='seconds')}: ask HQ for a new one"
        )
    if pki.now_utc() >= token.expires_at:
        raise TokenRefused(
            f"enrolment token {caller.token_id} expired at "
            f"{token.expires_at.isoformat(timespec='seconds')}: ask HQ for a new one"
        )


def renew(
    conn: Connection, now: datetime, caller: Principal, csr_pem: bytes, signer: Signer
) -> x509.Certificate:
    """A new certificate for the calling branch's new key."""
    assert caller.ban is not None
    ban = Ban(caller.ban)
    require_enabled(conn, ban)
    return sign(conn, now, caller.actor, ban, csr_pem, signer, "renewed", None)


def sign(
    conn: Connection,
    now: datetime,
    actor: str,
    ban: Ban,
    csr_pem: bytes,
    signer: Signer,
    how: str,
    token_id: str | None,
) -> x509.Certificate:
    identity = principal.branch(ban.value).spiffe_id
    cert = signer.authority().sign_csr(csr_pem, ban.value, identity, signer.branch_lifetime)
    serial = f"{cert.serial_number:x}"
    conn.execute(
        insert(certificates).values(
            serial=serial,
            branch_ban=ban.value,
            issued_at=cert.not_valid_before_utc + pki.SKEW,
            not_after=cert.not_valid_after_utc,
            how=how,
            token_id=token_id,
        )
    )
    audit.append(
        conn,
        now,
        actor,
        "enrol" if how == "enrolled" else "renew_certificate",
        ban=ban.value,
        serial=serial,
        not_after=cert.not_valid_after_utc.isoformat(),
        token_id=token_id,
    )
    return cert


def require_enabled(conn: Connection, ban: Ban) -> None:
    if not branch_row(conn, ban).enabled:
        raise branch_disabled(ban)


def certificates_of(conn: Connection, ban: str | None) -> tuple[list[Any], list[Any]]:
    """(certificates, tokens), newest first, of one branch or all."""
    certs = select(certificates).order_by(certificates.c.issued_at.desc()).limit(1000)
    tokens = select(enroll_tokens).order_by(enroll_tokens.c.created_at.desc()).limit(1000)
    if ban:
        certs = certs.where(certificates.c.branch_ban == ban)
        tokens = tokens.where(enroll_tokens.c.branch_ban == ban)
    return list(conn.execute(certs).all()), list(conn.execute(tokens).all())
