"""STARTTLS with login and implicit TLS, against aiosmtpd with a certificate made here."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hq_server.alert_state import AlertState
from notifier import NotifierService, parse_config
from notifier.config import NotifierConfig
from notifier.outbox import PENDING
from tests.notifier.conftest import ADMIN, Inbox, SmtpServer, World, cycle, free_port

USER, PASSWORD = "einv-notifier", "s3cret"
# aiosmtpd warns about AUTH without *its* TLS on the implicit-TLS server, which is TLS throughout.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the notifier trusts it through smtp.ca_file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticator(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> Any:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)  # False: aiosmtpd sends the 535 itself


def tls_config(port: int, security: str, ca_file: Path | None, password: str) -> NotifierConfig:
    smtp: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "from": "einv@hq.example",
        "user": USER,
        "password_env": "PW",
    }
    if ca_file is not None:
        smtp["ca_file"] = str(ca_file)
    data = {"smtp": smtp, "roles": {"hq-admin": [ADMIN]}, "schedule": {"digest_hour": 23}}
    return parse_config(data, {"PW": password})


@pytest.fixture
def starttls_server(inbox: Inbox, certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(
        inbox,
        free_port(),
        tls_context=server_context(certificate),
        require_starttls=True,
        auth_require_tls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def implicit_tls_server(inbox: Inbox, certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(
        inbox,
        free_port(),
        ssl_context=server_context(certificate),
        auth_require_tls=False,  # aiosmtpd counts only STARTTLS as TLS; this whole link is
        authenticator=authenticator,
        auth_required=True,
    )
    server.start()
    yield server
    server.stop()


def skewed_branch(world: World) -> None:
    world.assign("11512", 0, 999)
    ban = world.branch(0)
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)


async def test_starttls_with_login(
    world: World, inbox: Inbox, starttls_server: SmtpServer, certificate: tuple[Path, Path]
) -> None:
    skewed_branch(world)
    await cycle(world, tls_config(starttls_server.port, "starttls", certificate[0], PASSWORD))
    assert [r.rcpt_tos for r in inbox.all()] == [(ADMIN,)]


async def test_implicit_tls_with_login(
    world: World, inbox: Inbox, implicit_tls_server: SmtpServer, certificate: tuple[Path, Path]
) -> None:
    skewed_branch(world)
    await cycle(world, tls_config(implicit_tls_server.port, "tls", certificate[0], PASSWORD))
    assert [r.rcpt_tos for r in inbox.all()] == [(ADMIN,)]


@pytest.mark.parametrize(
    ("use_ca", "password", "error"),
    [
        (True, "wrong", f"refused the login of '{USER}'"),
        (False, PASSWORD, "CERTIFICATE_VERIFY_FAILED"),
    ],
)
async def test_refused_login_or_untrusted_certificate_is_named_and_mails_wait(
    world: World,
    inbox: Inbox,
    starttls_server: SmtpServer,
    certificate: tuple[Path, Path],
    use_ca: bool,
    password: str,
    error: str,
) -> None:
    skewed_branch(world)
    ca_file = certificate[0] if use_ca else None
    config = tls_config(starttls_server.port, "starttls", ca_file, password)
    service = NotifierService(world.store, world.coordinator, world.clock, config, AlertState())
    await service.start_up()
    assert service.smtp_error and error in service.smtp_error
    await cycle(world, config)
    (mail,) = world.mails()
    assert mail.state == PENDING and error in mail.last_error  # kept, retried later
    assert inbox.all() == []
