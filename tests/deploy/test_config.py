"""The deployment's settings files are read by the servers as shipped: the TOML examples through
--config, the env examples as the systemd units pass them (EnvironmentFile, then a bare
`einv-hq serve` / `einv-agent serve`), with no bad key and the values the comments promise."""

from __future__ import annotations

import argparse
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from branch_agent.cli import build_parser as agent_parser
from hq_server.cli import parser as hq_parser

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROGRAMS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "hq": hq_parser,
    "agent": agent_parser,
}


@pytest.fixture(autouse=True)
def only_these_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("EINV_")]:
        monkeypatch.delenv(name)


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (no quotes used here)."""
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def exec_start(unit: Path) -> list[str]:
    text = unit.read_text().replace("\\\n", " ")
    command = re.search(r"^ExecStart=(.*)$", text, re.M)
    assert command is not None
    return shlex.split(command.group(1))


def parse(program: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> argparse.Namespace:
    try:
        return PROGRAMS[program]().parse_args(argv)
    except SystemExit:
        pytest.fail(f"einv-{program} {' '.join(argv)}: {capsys.readouterr().err}")


def test_hq_toml_example(capsys: pytest.CaptureFixture[str]) -> None:
    got = parse("hq", ["serve", "--config", str(DEPLOY / "config/hq.toml.example")], capsys)
    assert (got.head_ban, got.lease_ttl, got.listen) == ("22099131", 5, "0.0.0.0:50051")
    assert got.certs_dir == Path("/etc/einv/certs") and not got.insecure
    assert got.etcd.count(",") == 2 and got.log_format == "json"


def test_agent_toml_example(capsys: pytest.CaptureFixture[str]) -> None:
    got = parse("agent", ["serve", "--config", str(DEPLOY / "config/agent.toml.example")], capsys)
    assert got.hq == ("10.0.0.11:50051", "10.0.0.12:50051")
    assert got.data == Path("/var/lib/einv-agent") and got.hq_timeout == 5.0


@pytest.mark.parametrize("program", ["hq", "agent"])
def test_the_systemd_unit_with_its_env_file(
    program: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = DEPLOY / f"systemd/einv-{program}.service"
    assert "${" not in unit.read_text() and "$EINV" not in unit.read_text()  # no substitutions
    command = exec_start(unit)
    assert command[0] == f"/opt/einv/.venv/bin/einv-{program}"
    settings = env_file(DEPLOY / f"config/{program}.env.example")
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    got = parse(program, command[1:], capsys)
    if program == "hq":
        assert got.head_ban == settings["EINV_HEAD_BAN"] and got.db == settings["EINV_DB"]
        assert got.etcd_key == Path("/etc/einv/etcd/hq.key") and got.web_listen is None
    else:
        assert got.hq == tuple(settings["EINV_HQ"].split(",")) and got.lan_listen is None
        assert got.listen == "127.0.0.1:50061" and got.log_level == "warning"
