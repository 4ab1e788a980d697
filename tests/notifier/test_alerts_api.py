"""`einv-admin alerts list | ack | test-mail` against a real HQ on mutual TLS: the roles decide,
the audit log names who acknowledged, errors name the field and change nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from admin_cli.main import main
from hq_server.schema import audit
from notifier.alerts import views
from tests.fixtures import SecureHq
from tests.notifier.conftest import Inbox, SmtpServer, World, config_for, cycle


async def run(
    capsys: pytest.CaptureFixture[str], hq: SecureHq, user: str, *argv: str
) -> tuple[int, str, str]:
    args = ["--hq", hq.address, *hq.certs.admin_args(user), *argv]
    code = await asyncio.to_thread(main, args)  # the HQ serves on this event loop
    out = capsys.readouterr()
    return code, out.out, out.err


async def skewed_branch(hq: SecureHq, smtp_port: int) -> str:
    world = World(hq.app.store, hq.app.coordinator, hq.clock)
    world.assign("11512", 0, 999)
    ban = world.branch(0, ("store0@branch.example",))
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)
    await cycle(world, config_for(smtp_port))
    return ban


def audit_actions(hq: SecureHq) -> list[tuple[str, str]]:
    rows = hq.app.store.read_sync(lambda c: c.execute(audit.select()).all())
    return [(r.actor, r.action) for r in rows]


async def test_list_and_ack_over_the_api(
    secure_hq: SecureHq, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ban = await skewed_branch(secure_hq, smtp_server.port)
    key = f"clock_skew:{ban}"
    code, out, _ = await run(capsys, secure_hq, "vera", "alerts", "list")
    assert code == 0 and key in out and "Branch clock is off" in out and "2/0/0" in out
    code, _, err = await run(capsys, secure_hq, "vera", "alerts", "ack", key)
    assert code != 0 and "operator" in err
    code, out, _ = await run(capsys, secure_hq, "olga", "alerts", "ack", key)
    olga = "admin:olga (operator)"
    assert code == 0 and olga in out
    assert (olga, "ack_alert") in audit_actions(secure_hq)
    code, out, _ = await run(capsys, secure_hq, "vera", "alerts", "list", "--json")
    (item,) = json.loads(out)["alerts"]
    assert (item["key"], item["acknowledged_by"], item["mails_sent"]) == (key, olga, 2)
    code, _, err = await run(capsys, secure_hq, "olga", "alerts", "ack", "nope")
    assert code != 0 and "no alert with key 'nope'" in err


async def test_test_mail_over_the_api(
    secure_hq: SecureHq,
    smtp_server: SmtpServer,
    inbox: Inbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = await run(capsys, secure_hq, "root", "alerts", "test-mail", "ops@hq.example")
    assert code != 0 and "without --notifier-config" in err
    secure_hq.app.notifier_config = config_for(smtp_server.port)
    code, _, err = await run(capsys, secure_hq, "olga", "alerts", "test-mail", "ops@hq.example")
    assert code != 0 and "admin" in err and not inbox.all()
    code, out, _ = await run(capsys, secure_hq, "root", "alerts", "test-mail", "ops@hq.example")
    assert code == 0 and "2.0.0 queued" in out
    (mail,) = inbox.all()
    assert mail.rcpt_tos == ("ops@hq.example",) and "測試郵件 / Test mail" in mail.text
    code, _, err = await run(capsys, secure_hq, "root", "alerts", "test-mail", "ops at hq")
    assert code != 0 and "address 'ops at hq' must be one e-mail address" in err
    smtp_server.stop()
    code, _, err = await run(capsys, secure_hq, "root", "alerts", "test-mail", "ops@hq.example")
    assert code != 0 and "not delivered" in err and f"127.0.0.1:{smtp_server.port}" in err
    assert [a for _, a in audit_actions(secure_hq) if a == "test_mail"] == ["test_mail"]


def test_views_reads_a_fresh_database(world: World) -> None:
    assert world.store.read_sync(lambda c: views(c, True)) == []
