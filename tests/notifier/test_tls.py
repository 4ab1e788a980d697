"""STARTTLS with login and implicit TLS, against aiosmtpd with a certificate made here."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from hq_server.alert_state import AlertState
from notifier import NotifierService, parse_config
from notifier.config import NotifierConfig
from notifier.outbox import PENDING
from runtime import pki
from tests.notifier.conftest import ADMIN, Inbox, SmtpServer, World, cycle, free_port

USER, PASSWORD = "einv-notifier", "s3cret"
# aiosmtpd warns about AUTH without *its* TLS on the implicit-TLS server, which is TLS throughout.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass(frozen=True)
class SmtpCertificate:
    """The SMTP server's certificate for 127.0.0.1 and its key, and the CA that issued it (the
    notifier trusts it through smtp.ca_file)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SmtpCertificate:
    ca = pki.create_ca("test smtp CA")
    key = pki.new_key()
    cert = ca.issue(key.public_key(), "test smtp", None, timedelta(days=1), ["127.0.0.1"], True)
    folder = tmp_path_factory.mktemp("tls")
    made = SmtpCertificate(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    made.ca_file.write_bytes(pki.cert_pem(ca.cert))
    made.cert_file.write_bytes(pki.cert_pem(cert))
    made.key_file.write_bytes(pki.key_pem(key))
    return made


def server_context(certificate: SmtpCertificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
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


def serving(inbox: Inbox, **options: Any) -> Iterator[SmtpServer]:
    """An SMTP server that wants a login, with these TLS options, for the test's duration."""
    server = SmtpServer(
        inbox, free_port(), authenticator=authenticator, auth_required=True, **options
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def starttls_server(inbox: Inbox, certificate: SmtpCertificate) -> Iterator[SmtpServer]:
    yield from serving(
        inbox,
        tls_context=server_context(certificate),
        require_starttls=True,
        auth_require_tls=True,
    )


@pytest.fixture
def implicit_tls_server(inbox: Inbox, certificate: SmtpCertificate) -> Iterator[SmtpServer]:
    yield from serving(
        inbox,
        ssl_context=server_context(certificate),
        auth_require_tls=False,  # aiosmtpd counts only STARTTLS as TLS; this whole link is TLS
    )


def skewed_branch(world: World) -> None:
    world.assign("11512", 0, 999)
    ban = world.branch(0)
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)


async def test_starttls_with_login(
    world: World, inbox: Inbox, starttls_server: SmtpServer, certificate: SmtpCertificate
) -> None:
    skewed_branch(world)
    await cycle(world, tls_config(starttls_server.port, "starttls", certificate.ca_file, PASSWORD))
    assert [r.rcpt_tos for r in inbox.all()] == [(ADMIN,)]


async def test_implicit_tls_with_login(
    world: World, inbox: Inbox, implicit_tls_server: SmtpServer, certificate: SmtpCertificate
) -> None:
    skewed_branch(world)
    await cycle(world, tls_config(implicit_tls_server.port, "tls", certificate.ca_file, PASSWORD))
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
    certificate: SmtpCertificate,
    use_ca: bool,
    password: str,
    error: str,
) -> None:
    skewed_branch(world)
    ca_file = certificate.ca_file if use_ca else None
    config = tls_config(starttls_server.port, "starttls", ca_file, password)
    service = NotifierService(world.store, world.coordinator, world.clock, config, AlertState())
    await service.start_up()
    assert service.smtp_error and error in service.smtp_error
    await cycle(world, config)
    (mail,) = world.mails()
    assert mail.state == PENDING and error in mail.last_error  # kept, retried later
    assert inbox.all() == []
