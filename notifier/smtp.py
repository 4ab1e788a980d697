"""Delivery with aiosmtplib: plain, STARTTLS or implicit TLS, with or without login.

A mail counts as delivered only when the server accepted it (a 250 after DATA). Errors are
sorted into permanent (a 5xx refusal of this mail: retrying cannot help) and transient (server
down, 4xx, login refused: the configuration or the server may be fixed, so keep trying).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from notifier.config import SmtpConfig
from notifier.outbox import OutMessage


class SmtpUnavailable(Exception):
    """The SMTP server cannot be reached or refuses us; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: bool
    detail: str = ""
    permanent: bool = False


def build_email(config: SmtpConfig, message: OutMessage) -> EmailMessage:
    """The same bytes on every attempt: Message-ID and Date come from the queued row."""
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message.message_id
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the robot
    if message.condition_key:
        mail["X-Einv-Alert"] = message.condition_key
    mail.set_content(message.body, charset="utf-8")
    return mail


def client(config: SmtpConfig) -> aiosmtplib.SMTP:
    context = None
    if config.ca_file and config.security != "plain":
        context = ssl.create_default_context(cafile=config.ca_file)
    return aiosmtplib.SMTP(
        hostname=config.host,
        port=config.port,
        username=config.user,
        password=config.password,
        timeout=config.timeout_seconds,
        use_tls=config.security == "tls",
        start_tls=config.security == "starttls",  # never an unasked-for upgrade or downgrade
        tls_context=context,
    )


def where(config: SmtpConfig) -> str:
    return f"SMTP server {config.host}:{config.port} ({config.security})"


def describe(config: SmtpConfig, error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return f"{where(config)} refused the login of {config.user!r}: {error}"
    return f"{where(config)}: {type(error).__name__}: {error}"


async def send_all(config: SmtpConfig, batch: Sequence[OutMessage]) -> list[Outcome]:
    """Send a batch over one connection; one outcome per message, in order."""
    smtp = client(config)
    try:
        await smtp.connect()
    except (aiosmtplib.SMTPException, OSError) as error:
        return [Outcome(False, describe(config, error))] * len(batch)
    outcomes: list[Outcome] = []
    try:
        for message in batch:
            if not smtp.is_connected:
                outcomes.append(Outcome(False, f"{where(config)}: connection lost"))
                continue
            outcomes.append(await send_one(smtp, config, message))
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
    return outcomes


async def send_one(smtp: aiosmtplib.SMTP, config: SmtpConfig, message: OutMessage) -> Outcome:
    try:
        _, response = await smtp.send_message(build_email(config, message))
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [e.code for e in error.recipients]
        return Outcome(False, describe(config, error), all(c >= 500 for c in codes))
    except aiosmtplib.SMTPAuthenticationError as error:
        return Outcome(False, describe(config, error))
    except aiosmtplib.SMTPResponseException as error:
        return Outcome(False, describe(config, error), error.code >= 500)
    except (aiosmtplib.SMTPException, OSError) as error:
        return Outcome(False, describe(config, error))
    return Outcome(True, response)


async def check(config: SmtpConfig) -> None:
    """Connect (and log in, if configured) once: the start-up check."""
    smtp = client(config)
    try:
        await smtp.connect()
        await smtp.noop()
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError) as error:
        smtp.close()
        raise SmtpUnavailable(describe(config, error)) from error


async def send_test(config: SmtpConfig, address: str, now: datetime) -> str:
    """Send one mail right now, outside the outbox: the server's reply, or SmtpUnavailable."""
    probe = OutMessage(
        id=0,
        message_id=f"<einv.test.{int(now.timestamp() * 1000)}@{config.sender.rsplit('@', 1)[1]}>",
        condition_key=None,
        recipient=address,
        subject="[einv] 測試郵件 / Test mail",
        body=(
            "這是電子發票配號通知程式的測試郵件；收到代表郵件設定正確。\n\n"
            "This is a test mail from the e-invoice allocation notifier; if you read it, the "
            "mail settings work.\n"
        ),
        attempts=1,
        created_at=now,
        resumed=False,
    )
    outcome = (await send_all(config, [probe]))[0]
    if not outcome.accepted:
        raise SmtpUnavailable(outcome.detail)
    return outcome.detail
