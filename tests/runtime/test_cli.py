"""What the four command lines share: --version, shell completion, and exit codes by the
class of the gRPC status (one table, documented in --help)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import grpc
import pytest

from admin_cli.main import main as admin_main
from branch_agent.pos.cli import main as pos_main
from runtime import version
from runtime.cli import EXIT_CLASSES, EXIT_CODES_HELP, EXIT_FAILED, exit_code
from tests.conftest import BRANCH_BANS
from tests.fixtures import HqHandle

BIN = Path(sys.executable).parent
PROGRAMS = ["einv-hq", "einv-agent", "einv-admin", "einv-pos"]
# A subcommand of each, where --version works as well.
SUBCOMMANDS = {"einv-hq": "serve", "einv-agent": "serve", "einv-admin": "pools", "einv-pos": "next"}


@pytest.mark.parametrize("program", PROGRAMS)
def test_version_on_every_program_and_subcommand(program: str) -> None:
    expected = f"{program} {metadata.version(version.DISTRIBUTION)}\n"
    for argv in (["--version"], [SUBCOMMANDS[program], "--version"]):
        done = subprocess.run([BIN / program, *argv], capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected, ""), argv


def test_version_of_a_source_tree_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert version.package_version() == "unknown (not installed)"


@pytest.mark.parametrize("program", PROGRAMS)
def test_bash_completion_is_a_valid_script(program: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [BIN / program, "--print-completion", "bash"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert f"complete -o bashdefault -F _shtab_{program.replace('-', '_')} {program}" in done.stdout
    script = tmp_path / f"{program}.bash"
    script.write_text(done.stdout)
    checked = subprocess.run(["bash", "-n", script], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    # Completing after the program's name offers its subcommands.
    words = subprocess.run(
        ["bash", "-c", f"source {script}; COMP_WORDS=({program} ''); COMP_CWORD=1; "
         f"_shtab_{program.replace('-', '_')}; printf '%s\\n' \"${{COMPREPLY[@]}}\""],
        capture_output=True, text=True, timeout=60,
    ).stdout.split()  # fmt: skip
    assert SUBCOMMANDS[program] in words, words


@pytest.mark.parametrize("shell", ["zsh", "tcsh"])
def test_zsh_and_tcsh_completion(shell: str) -> None:
    done = subprocess.run(
        [BIN / "einv-admin", "--print-completion", shell], capture_output=True, text=True
    )
    assert done.returncode == 0 and "branch-add" in done.stdout
    if shutil.which(shell) and shell == "zsh":
        assert subprocess.run(["zsh", "-n"], input=done.stdout, text=True).returncode == 0


def test_one_exit_code_per_status_class() -> None:
    codes = {status.name: exit_code(status.name) for status in grpc.StatusCode}
    assert codes["OK"] == 0 or codes["OK"] == EXIT_FAILED  # never sent as an error
    classes = {
        2: {"INVALID_ARGUMENT", "OUT_OF_RANGE"},
        3: {"FAILED_PRECONDITION", "ALREADY_EXISTS"},
        4: {"PERMISSION_DENIED", "UNAUTHENTICATED"},
        5: {"RESOURCE_EXHAUSTED"},
        6: {"UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED", "CANCELLED"},
        7: {"NOT_FOUND"},
    }
    for code, statuses in classes.items():
        assert {name for name, got in codes.items() if got == code} == statuses
    assert codes["UNKNOWN"] == codes["INTERNAL"] == codes["UNIMPLEMENTED"] == EXIT_FAILED
    for code, _, statuses in EXIT_CLASSES:  # the help lists every code and every status
        line = next(line for line in EXIT_CODES_HELP.splitlines() if line.startswith(f"  {code} "))
        assert all(status in line for status in statuses)


@pytest.mark.parametrize("program", ["einv-admin", "einv-pos"])
def test_the_exit_codes_are_in_the_help(program: str) -> None:
    done = subprocess.run([BIN / program, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and EXIT_CODES_HELP in done.stdout


def test_einv_pos_exits_6_when_the_agent_is_unreachable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    assert pos_main(["--agent", dead, "--timeout", "0.5", "status"]) == 6
    assert "UNAVAILABLE" in capsys.readouterr().err


async def test_einv_admin_exit_codes_by_what_hq_said(
    hq: HqHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    def admin(*argv: str) -> int:
        return admin_main(["--hq", hq.address, "--insecure", *argv])

    add = ["branch-add", "--ban", BRANCH_BANS[0], "--name", "x"]
    add += ["--per-request", "1", "--per-period", "5"]
    assert await asyncio.to_thread(admin, *add) == 0
    assert await asyncio.to_thread(admin, *add) == 3  # ALREADY_EXISTS: refused by the rules
    assert await asyncio.to_thread(admin, "branch-disable", BRANCH_BANS[1]) == 7  # NOT_FOUND
    assert await asyncio.to_thread(admin, "branch-disable", "04595258") == 2  # INVALID_ARGUMENT
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1].strip() for line in err] == [
        "ALREADY_EXISTS",
        "NOT_FOUND",
        "INVALID_ARGUMENT",
    ]
