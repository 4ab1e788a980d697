"""Settings as etcd takes them: an option beats its EINV_ variable, which beats the --config
file, which beats the default; every bad key or value is one line naming where it came from
and the rule, and nothing starts (exit 2)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from branch_agent.cli import build_parser as agent_parser
from hq_server.cli import main as hq_main
from hq_server.cli import parser as hq_parser
from runtime.layers import env_name, settable

BAN = "22099131"


@pytest.fixture(autouse=True)
def no_einv_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("EINV_")]:
        monkeypatch.delenv(name)


def serve(*argv: str) -> argparse.Namespace:
    return hq_parser().parse_args(["serve", *argv])


def test_option_beats_variable_beats_file_beats_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "hq.toml"
    config.write_text(
        f'head-ban = "{BAN}"\nlease-ttl = 7\nlisten = "127.0.0.1:7000"\ninsecure = true\n'
        'turnkey-pack-dir = ["a", "b"]\n'
    )
    for d in ("a", "b", "c"):
        (tmp_path / d).mkdir()
    monkeypatch.chdir(tmp_path)
    assert serve("--head-ban", BAN).lease_ttl == 5  # the default
    got = serve("--config", str(config))  # head-ban, a required option, from the file
    assert (got.head_ban, got.lease_ttl, got.listen, got.insecure) == (
        BAN,
        7,
        "127.0.0.1:7000",
        True,
    )
    assert got.turnkey_pack_dir == [Path("a"), Path("b")] and got.db == "sqlite:///hq.db"
    monkeypatch.setenv("EINV_LEASE_TTL", "9")
    monkeypatch.setenv("EINV_TURNKEY_PACK_DIR", "c")
    got = serve("--config", str(config))
    assert (
        got.lease_ttl == 9 and got.turnkey_pack_dir == [Path("c")] and got.listen.endswith("7000")
    )
    got = serve("--config", str(config), "--lease-ttl", "11", "--turnkey-pack-dir", "a")
    assert got.lease_ttl == 11 and got.turnkey_pack_dir == [Path("a")]  # replaced, not added to
    monkeypatch.setenv("EINV_CONFIG", str(config))  # the file named by a variable
    assert serve().head_ban == BAN


def test_every_bad_key_is_one_line_naming_file_key_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hq.toml"
    config.write_text(
        f'head_ban = "{BAN}"\nlease-ttl = 99\ninsecure = "maybe"\nlisten = "nowhere"\n'
        "[tls]\nca = 1\n"
    )
    monkeypatch.setenv("EINV_HISTORY_MINUTES", "nan")
    monkeypatch.setenv("EINV_ADVERTISE", "")  # empty: unset, as systemd's EnvironmentFile has it
    code = hq_main(["serve", "--config", str(config), "--db", f"sqlite:///{tmp_path}/hq.db"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and not (tmp_path / "hq.db").exists()
    assert lines == [
        f"einv-hq serve: {config}: unknown key 'head_ban' (keys are the long options; did you "
        "mean 'head-ban'?)",
        f"einv-hq serve: {config}: unknown key 'tls' (keys are the long options)",
        f"einv-hq serve: {config}: lease-ttl: 99 must be 2..60",
        f"einv-hq serve: {config}: insecure: 'maybe' must be true or false",
        f"einv-hq serve: {config}: listen: 'nowhere' is not an address: HOST:PORT with a port "
        "0..65535, or unix:PATH",
        "einv-hq serve: EINV_HISTORY_MINUTES: nan must be 0.01..1440",
    ]


def test_a_missing_or_broken_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hq_main(["serve", "--config", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err == (
        f"einv-hq serve: --config {tmp_path / 'none.toml'}: No such file or directory\n"
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("head-ban = \n")
    assert hq_main(["serve", "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"einv-hq serve: {broken}: not a TOML file: ") and err.count("\n") == 1


def test_help_and_version_answer_whatever_the_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EINV_LEASE_TTL", "forever")
    assert hq_main(["serve", "--version"]) == 0
    assert capsys.readouterr().out.startswith("einv-hq ")
    assert hq_main(["serve", "--lease-ttl", "5", "--head-ban", BAN]) == 2  # but not a start
    assert "EINV_LEASE_TTL: 'forever' is not a whole number" in capsys.readouterr().err


def test_names_are_derived_from_the_options() -> None:
    serve_parser = agent_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    keys = settable(serve_parser)
    assert {"hq", "data", "listen", "insecure", "log-level", "log-format"} <= set(keys)
    assert "config" not in keys and "help" not in keys and "version" not in keys
    assert env_name("EINV_", "hq-timeout") == "EINV_HQ_TIMEOUT"


def test_a_missing_required_option_names_its_variable_and_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert hq_main(["serve", "--insecure"]) == 2
    assert capsys.readouterr().err == (
        "einv-hq serve: the following arguments are required: --head-ban (or EINV_HEAD_BAN, or "
        "head-ban in --config) (see einv-hq serve --help)\n"
    )


def test_the_clients_connection_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from admin_cli.main import parser as admin_parser
    from branch_agent.pos.cli import build_parser as pos_parser

    monkeypatch.setenv("EINV_HQ", "10.0.0.11:50051,10.0.0.12:50051")
    monkeypatch.setenv("EINV_INSECURE", "yes")
    got = admin_parser().parse_args(["pools"])
    assert got.hq == ("10.0.0.11:50051", "10.0.0.12:50051") and got.insecure
    assert admin_parser().parse_args(["pools", "--hq", "127.0.0.1:1"]).hq == ("127.0.0.1:1",)
    monkeypatch.setenv("EINV_POS_AGENT", "unix:/run/einv-agent/pos.sock")
    monkeypatch.setenv("EINV_POS_TIMEOUT", "2.5")
    monkeypatch.setenv("EINV_CERTS_DIR", "admin-certs")  # an admin's: not einv-pos's
    got = pos_parser().parse_args(["status"])
    assert (got.agent, got.timeout, got.certs_dir) == ("unix:/run/einv-agent/pos.sock", 2.5, None)
