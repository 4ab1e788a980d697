"""Bad configuration is a clear error at start-up or on the alert, never a silent drop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hq_server.alert_state import AlertState
from notifier import ConfigError, Kind, NotifierService, load_config, parse_config
from notifier.smtp import SmtpUnavailable
from tests.notifier.conftest import (
    ADMIN,
    Inbox,
    SmtpServer,
    World,
    config_for,
    cycle,
    free_port,
)

GOOD_TOML = """
[smtp]
host = "mail.example.com"
port = 587
security = "starttls"
user = "einv-notifier"
password_env = "EINV_SMTP_PASSWORD"
from = "einv@example.com"

[roles]
hq-admin = ["admin@example.com", "ops@example.com"]
finance = ["finance@example.com"]

[routes]
e0402_due = ["hq-admin", "finance"]

[thresholds]
pool_days = 3
silent_minutes = 15

[schedule]
reminder_hours = 12
digest_hour = 7
"""


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "notifier.toml"
    path.write_text(GOOD_TOML, encoding="utf-8")
    config = load_config(path, {"EINV_SMTP_PASSWORD": "s3cret"})
    assert config.smtp.password == "s3cret" and "s3cret" not in repr(config)
    assert config.routes[Kind.E0402_DUE] == ("hq-admin", "finance")
    assert config.routes[Kind.POOL_LOW] == ("hq-admin",)  # default route kept
    assert (config.thresholds.pool_days, config.thresholds.silent_minutes) == (3.0, 15.0)
    assert (config.schedule.reminder_hours, config.schedule.digest_hour) == (12.0, 7)


def test_the_example_file_loads() -> None:
    example = Path(__file__).parents[2] / "notifier" / "example.toml"
    config = load_config(example, {"EINV_SMTP_PASSWORD": "x"})
    assert config.routes[Kind.BRANCH_STUCK] == ("branch", "store-it", "hq-admin")


def base() -> dict[str, Any]:
    return {
        "smtp": {"host": "127.0.0.1", "port": 25, "security": "plain", "from": "e@hq.example"},
        "roles": {"hq-admin": ["admin@hq.example"]},
    }


def changed(section: str, **values: Any) -> dict[str, Any]:
    data = base()
    data[section] = {**data.get(section, {}), **values}
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            changed("routes", pool_low=["hq-admin", "accounting"]),
            "routes.pool_low: unknown recipient role 'accounting'",
        ),
        (changed("routes", pool_lo=["hq-admin"]), "routes.pool_lo: unknown alert kind"),
        (changed("routes", pool_low=[]), "needs at least one recipient role"),
        (changed("roles", finance=["finance at hq"]), "roles.finance: 'finance at hq' is not"),
        ({**base(), "roles": {"finance": ["f@hq.example"]}}, "roles.hq-admin must list"),
        (changed("smtp", user="n", password_env="NOPE"), "environment variable NOPE is not set"),
        (changed("smtp", user="n"), "smtp.password_env"),
        (
            changed("smtp", host="mail.example.com", user="n", password_env="PW"),
            "in clear text to mail.example.com",
        ),
        (changed("smtp", security="ssl"), "smtp.security 'ssl' must be one of"),
        (changed("smtp", **{"from": "einv"}), "smtp.from 'einv' is not a valid"),
        (changed("smtp", port="25"), "smtp.port '25' must be an integer"),
        (changed("thresholds", pool_dayz=3), "unknown configuration key thresholds.pool_dayz"),
        (changed("schedule", digest_hour=24), "schedule.digest_hour 24 must be 0..23"),
        (changed("schedule", reminder_hours="daily"), "schedule.reminder_hours 'daily' must"),
        ({**base(), "smtpp": {}}, "unknown configuration key smtpp"),
        ({"roles": base()["roles"]}, "[smtp] section is missing"),
    ],
)
def test_bad_configuration_is_a_clear_error(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data, {"PW": "x"})
    assert message in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        load_config(tmp_path / "missing.toml", {})
    broken = tmp_path / "broken.toml"
    broken.write_text("[smtp\nhost=", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(broken, {})


async def test_unreachable_server_at_start_up_is_named_and_mails_wait(world: World) -> None:
    port = free_port()
    service = NotifierService(
        world.store, world.coordinator, world.clock, config_for(port), AlertState()
    )
    with pytest.raises(SmtpUnavailable, match=f"127.0.0.1:{port} \\(plain\\)"):
        await service.check_smtp()
    await service.start_up()  # does not raise: the HQ keeps running, mails queue
    assert service.smtp_error and f"127.0.0.1:{port}" in service.smtp_error


async def test_a_bad_branch_address_is_named_on_the_alert_and_the_rest_still_get_it(
    world: World, inbox: Inbox, smtp_server: SmtpServer
) -> None:
    config = config_for(smtp_server.port)
    world.assign("11512", 0, 999)
    ban = world.branch(0, ("store 0@branch.example", "store0@branch.example"))
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)
    await cycle(world, config)
    assert sorted(r.rcpt_tos[0] for r in inbox.all()) == [ADMIN, "store0@branch.example"]
    (alert,) = world.alerts()
    assert "'store 0@branch.example' is not a valid e-mail address" in (alert.last_error or "")


async def test_an_alert_nobody_would_get_goes_to_the_admins(
    world: World, inbox: Inbox, smtp_server: SmtpServer
) -> None:
    config = config_for(smtp_server.port, routes={"clock_skew": ["branch"]})
    world.assign("11512", 0, 999)
    ban = world.branch(0, ())  # no address on file
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)
    await cycle(world, config)
    assert [r.rcpt_tos[0] for r in inbox.all()] == [ADMIN]
    (alert,) = world.alerts()
    assert f"branch {ban} has no e-mail address" in (alert.last_error or "")
    assert "sent to hq-admin instead" in (alert.last_error or "")
