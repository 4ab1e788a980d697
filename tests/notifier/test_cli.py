"""`einv-admin alerts list | ack | test-mail`, through the argparse glue einv-admin mounts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from allocator import NotFound, Refused
from allocator.errors import InvalidInput
from hq_server.store import Store
from notifier.cli import ack_alert, add_alerts_commands, send_test_mail
from notifier.config import ConfigError
from tests.notifier.conftest import NOW, Inbox, SmtpServer, World, config_for, cycle


def admin_parser() -> argparse.ArgumentParser:
    """The shape of einv-admin's parser: a common parent with --json and --actor."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    common.add_argument("--actor", default="alice")
    root = argparse.ArgumentParser(prog="einv-admin")
    sub = root.add_subparsers(dest="command", required=True)
    add_alerts_commands(sub, common)
    return root


def run(argv: list[str]) -> None:
    args = admin_parser().parse_args(argv)
    args.func(None, args)


async def test_list_and_ack(
    world: World, smtp_server: SmtpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.assign("11512", 0, 999)
    ban = world.branch(0, ("store0@branch.example",))
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)
    await cycle(world, config_for(smtp_server.port))
    db = world.store.url
    run(["alerts", "list", "--db", db])
    listing = capsys.readouterr().out
    assert f"clock_skew:{ban}  [open]  Branch clock is off: {ban} Store 0" in listing
    assert "not acknowledged; mails sent 2, waiting 0, failed 0" in listing
    run(["alerts", "ack", f"clock_skew:{ban}", "--db", db, "--actor", "bob"])
    assert "acknowledged by bob" in capsys.readouterr().out
    run(["alerts", "list", "--db", db, "--json"])
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["key"], item["acknowledged_by"], item["mails_sent"]) == (
        f"clock_skew:{ban}",
        "bob",
        2,
    )
    with pytest.raises(NotFound, match="no alert with key 'nope'"):
        run(["alerts", "ack", "nope", "--db", db])


def test_ack_needs_an_hq_that_took_office(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(Refused, match="no HQ has taken office"):
        ack_alert(store, "clock_skew:x", "bob", NOW)
    store.close()


def test_test_mail_command(
    smtp_server: SmtpServer, inbox: Inbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notifier.toml"
    path.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "plain"\n'
        'from = "einv@hq.example"\n[roles]\nhq-admin = ["admin@hq.example"]\n',
        encoding="utf-8",
    )
    run(["alerts", "test-mail", "ops@hq.example", "--notifier-config", str(path)])
    assert "sent to ops@hq.example: 2.0.0 queued" in capsys.readouterr().out
    (mail,) = inbox.all()
    assert mail.rcpt_tos == ("ops@hq.example",) and "測試郵件 / Test mail" in mail.text
    with pytest.raises(InvalidInput, match="not a valid e-mail address"):
        run(["alerts", "test-mail", "ops at hq", "--notifier-config", str(path)])
    smtp_server.stop()
    with pytest.raises(InvalidInput, match=f"127.0.0.1:{smtp_server.port} \\(plain\\)"):
        run(["alerts", "test-mail", "ops@hq.example", "--notifier-config", str(path)])
    with pytest.raises(InvalidInput, match=r"missing\.toml"):
        run(["alerts", "test-mail", "ops@hq.example", "--notifier-config", "missing.toml"])


async def test_send_test_mail_rejects_a_bad_address() -> None:
    with pytest.raises(ConfigError):
        await send_test_mail(config_for(25), "nobody", NOW)
