"""The deployment's settings files are read by the servers as shipped: the TOML examples through
--config, the env examples as the systemd units pass them (EnvironmentFile, then a bare
`einv-hq serve` / `einv-agent serve`), with no bad key and the values the comments promise."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from branch_agent.cli import build_parser as agent_parser
from demo.procs import Proc, running
from hq_server.cli import parser as hq_parser
from tests.conftest import BRANCH_BANS

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


@pytest.mark.slow
def test_an_agent_starts_from_the_example_file_and_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """agent.toml.example as shipped, with this machine's places from EINV_ variables (which
    win over the file): it starts, and logs JSON lines with a level, an HQ outage once."""
    with socket.socket() as sock:  # a port nobody listens on: HQ is down
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    settings = {
        "EINV_HQ": dead,
        "EINV_DATA": str(tmp_path / "agent"),
        "EINV_LISTEN": "127.0.0.1:0",
        "EINV_METRICS_LISTEN": "127.0.0.1:0",
        "EINV_INSECURE": "true",
        "EINV_BRANCH_BAN": BRANCH_BANS[0],
        "EINV_LOG_LEVEL": "info",
        "EINV_CONFIG": str(DEPLOY / "config/agent.toml.example"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    log = tmp_path / "agent.log"
    agent = Proc("agent", ["-m", "branch_agent", "serve"], log, ready="serving POS on")
    with running(agent.start()):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and log.read_text().count('"refill ') < 1:
            time.sleep(0.05)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines and all(line["level"] in ("INFO", "WARNING", "ERROR") for line in lines)
    refill = [line for line in lines if line["message"].startswith("refill ")]
    assert len(refill) == 1 and refill[0]["level"] == "WARNING", refill
