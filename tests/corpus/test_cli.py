"""The bad-input corpus of the command lines and of the servers' start-up flags: every bad
argument gets one line naming it and exit 2, no traceback, and nothing is changed or created.

einv-admin runs against a real (in-process) HQ, whose every table must be unchanged; the
servers' start-ups must refuse before they create a database, a ledger or a port.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from admin_cli.main import main as admin_main
from branch_agent.cli import main as agent_main
from branch_agent.pos.cli import main as pos_main
from hq_server.cli import main as hq_main
from tests.conftest import BRANCH_BANS
from tests.corpus.state import seed
from tests.fixtures import HqHandle, snapshot

A = BRANCH_BANS[0]
ADD = ["assignment-add", "--period", "11512", "--track", "CD", "--begin", "00000000"]
BRANCH = ["branch-add", "--ban", BRANCH_BANS[2], "--name", "x"]

ADMIN_CASES = [
    ("type 09", [*ADD, "--end", "00000049", "--type", "09"], "invoice type '09'"),
    ("begin 7 digits", [*ADD[:-1], "1234567", "--end", "00000049"], "'1234567'"),
    ("begin full-width", [*ADD[:-1], "００００００００", "--end", "00000049"], "ASCII digits"),
    ("end letters", [*ADD, "--end", "0000004x"], "'0000004x'"),
    ("period 11513", ["pools", "--period", "11513"], "11513"),
    ("period 2025", ["usage", "--period", "2025"], "'2025'"),
    ("per period 1e11", [*BRANCH, "--per-request", "1", "--per-period", "1e11"], "'1e11'"),
    ("per request -1", [*BRANCH, "--per-request", "-1", "--per-period", "5"], "-1 must be 1.."),
    ("per request 0", [*BRANCH, "--per-request", "0", "--per-period", "5"], "0 must be 1.."),
    (
        "per period huge",
        [*BRANCH, "--per-request", "1", "--per-period", "2000001"],
        "2000001 must be 0..",
    ),
    (
        "low water -5",
        [*BRANCH, "--per-request", "1", "--per-period", "5", "--low-water", "-5"],
        "-5 must be 0..",
    ),
    (
        "minutes nan",
        [*BRANCH, "--per-request", "1", "--per-period", "5", "--low-water-minutes", "nan"],
        "nan must be",
    ),
    (
        "minutes negative",
        [*BRANCH, "--per-request", "1", "--per-period", "5", "--low-water-minutes", "-1"],
        "-1 must be",
    ),
    ("hq empty", ["--hq", "", "pools"], "at least one HOST:PORT"),
    ("hq port 99999", ["--hq", "127.0.0.1:99999", "pools"], "port 0..65535"),
    ("hq no port", ["--hq", "localhost", "pools"], "'localhost' is not an address"),
    (
        "from far past",
        [
            "quota-set",
            A,
            "--per-request",
            "1",
            "--per-period",
            "5",
            "--from",
            "2015-01-01T00:00+08:00",
        ],
        "must be between an hour ago",
    ),
    (
        "from naive",
        ["quota-set", A, "--per-request", "1", "--per-period", "5", "--from", "2026-12-24T10:00"],
        "needs a time zone",
    ),
    (
        "from garbage",
        ["quota-set", A, "--per-request", "1", "--per-period", "5", "--from", "tomorrow"],
        "'tomorrow' is not an ISO",
    ),
    ("range id letters", ["range-status", "abc", "paused"], "'abc' is not a whole number"),
    ("range status bad", ["range-status", "1", "broken"], "invalid choice: 'broken'"),
    ("audit limit 0", ["audit", "--limit", "0"], "0 must be 1..1000"),
    ("audit after -1", ["audit", "--after", "-1"], "-1 must be 0.."),
    ("token ttl 5x", ["branch-enroll-token", "--ban", A, "--ttl", "5x"], "'5x' must be"),
    ("report kind", ["reports", "E0403", "--period", "11512"], "invalid choice: 'E0403'"),
    (
        "report mig",
        ["reports", "E0401", "--period", "11512", "--mig", "5.0"],
        "invalid choice: '5.0'",
    ),
    ("no command", [], "the following arguments are required"),
    ("unknown command", ["assignment", "add"], "invalid choice: 'assignment'"),
    (
        "certs role",
        ["certs", "admin", "--certs-dir", "x", "--name", "a", "--role", "root"],
        "invalid choice: 'root'",
    ),
    ("certs no host", ["certs", "hq", "--certs-dir", "x"], "--host"),
    ("import missing file", ["import-e0501", "/nonexistent/E0501.xml"], "No such file"),
    # Refused by HQ, named, exit by the status class (INVALID_ARGUMENT: 2).
    ("ban check digit", ["branch-disable", "04595258"], "04595258"),
    (
        "name control",
        [*BRANCH, "--per-request", "1", "--per-period", "5", "--email", "a@b.tw\rX"],
        "U+000D",
    ),
]


@pytest.mark.parametrize(("name", "argv", "needle"), ADMIN_CASES, ids=[c[0] for c in ADMIN_CASES])
async def test_einv_admin_refuses_with_one_line(
    hq: HqHandle, capsys: pytest.CaptureFixture[str], name: str, argv: list[str], needle: str
) -> None:
    await seed(hq.admin, hq.branch)
    before = snapshot(hq)
    connection = ["--hq", hq.address, "--insecure"]
    hq_given = argv[:1] == ["--hq"]
    full = [*connection[2:], *argv] if hq_given else [*connection, *argv]
    code = await asyncio.to_thread(admin_main, full)
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert snapshot(hq) == before


POS_CASES = [
    ("count -1", ["next", "--count", "-1"], "-1 must be 1..1000"),
    ("count 0", ["next", "--count", "0"], "0 must be 1..1000"),
    ("count 1001", ["next", "--count", "1001"], "1001 must be 1..1000"),
    ("count letters", ["next", "--count", "many"], "'many' is not a whole number"),
    ("type 09", ["next", "--type", "09"], "invalid choice: '09'"),
    ("agent no port", ["--agent", "localhost", "status"], "'localhost' is not an address"),
    ("timeout 0", ["--timeout", "0", "status"], "0 must be more than 0"),
    ("timeout nan", ["--timeout", "nan", "status"], "nan must be"),
    ("no command", [], "the following arguments are required"),
]


@pytest.mark.parametrize(("name", "argv", "needle"), POS_CASES, ids=[c[0] for c in POS_CASES])
def test_einv_pos_refuses_with_one_line(
    capsys: pytest.CaptureFixture[str], name: str, argv: list[str], needle: str
) -> None:
    code = pos_main(argv)
    err = capsys.readouterr().err
    assert code == 2 and needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def agent_cases(data: Path) -> list[tuple[str, list[str], str]]:
    base = ["serve", "--insecure", "--branch-ban", A, "--data", str(data)]
    return [
        ("hq empty", [*base, "--hq", ""], "at least one HOST:PORT"),
        ("hq bad port", [*base, "--hq", "127.0.0.1:70000"], "port 0..65535"),
        ("hq timeout 0", [*base, "--hq", "127.0.0.1:1", "--hq-timeout", "0"], "0 must be more"),
        (
            "report interval -1",
            [*base, "--hq", "127.0.0.1:1", "--report-interval", "-1"],
            "-1 must be 0.05..3600",
        ),
        (
            "report interval 0",
            [*base, "--hq", "127.0.0.1:1", "--report-interval", "0"],
            "0 must be 0.05",
        ),
        (
            "listen abc",
            [*base, "--hq", "127.0.0.1:1", "--listen", "127.0.0.1:abc"],
            "'127.0.0.1:abc' is not an address",
        ),
        ("listen public", [*base, "--hq", "127.0.0.1:1", "--listen", "0.0.0.0:0"], "loopback"),
        ("types 09", [*base, "--hq", "127.0.0.1:1", "--types", "09"], "invoice type '09'"),
        (
            "prefetch negative",
            [*base, "--hq", "127.0.0.1:1", "--prefetch-before", "-5"],
            "-5 must be",
        ),
        ("sim speed 0", [*base, "--hq", "127.0.0.1:1", "--sim-speed", "0"], "0 must be more"),
        (
            "ban check digit",
            [
                "serve",
                "--insecure",
                "--hq",
                "127.0.0.1:1",
                "--data",
                str(data),
                "--branch-ban",
                "12345678",
            ],
            "check digit",
        ),
        (
            "insecure public hq",
            [
                "serve",
                "--insecure",
                "--branch-ban",
                A,
                "--data",
                str(data),
                "--hq",
                "10.1.2.3:50051",
            ],
            "not loopback",
        ),
        (
            "not enrolled",
            ["serve", "--hq", "127.0.0.1:1", "--data", str(data)],
            "holds no enrolled identity",
        ),
        (
            "enroll bad token",
            [
                "enroll",
                "--hq",
                "127.0.0.1:1",
                "--ca-cert",
                str(data / "ca.crt"),
                "--token",
                "nonsense",
                "--data",
                str(data),
            ],
            "token is malformed",
        ),
        (
            "log level",
            [*base, "--hq", "127.0.0.1:1", "--log-level", "LOUD"],
            "'LOUD' is not a log level",
        ),
    ]


def test_einv_agent_start_up_refuses_and_creates_no_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "agent"
    for name, argv, needle in agent_cases(data):
        code = agent_main(argv)
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert needle in err, (name, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
        assert not (data / "ledger.sqlite3").exists(), name


def hq_cases(tmp: Path) -> list[tuple[str, list[str], str]]:
    (tmp / "a-file").write_text("x")
    db = f"sqlite:///{tmp / 'hq.db'}"
    base = ["serve", "--head-ban", "22099131", "--db", db]
    secure = [*base, "--listen", "127.0.0.1:0"]
    return [
        ("listen abc", [*base, "--insecure", "--listen", "127.0.0.1:abc"], "is not an address"),
        ("listen 99999", [*base, "--insecure", "--listen", "127.0.0.1:99999"], "port 0..65535"),
        ("listen public insecure", [*base, "--insecure", "--listen", "0.0.0.0:0"], "loopback"),
        ("neither certs nor insecure", secure, "give --certs-dir DIR"),
        ("both", [*secure, "--insecure", "--certs-dir", str(tmp)], "give --certs-dir DIR"),
        ("certs dir empty", [*secure, "--certs-dir", str(tmp)], "does not exist"),
        ("head ban", ["serve", "--head-ban", "22099132", "--insecure", "--db", db], "22099132"),
        ("turnkey file", [*base, "--insecure", "--turnkey-root", str(tmp / "a-file")], "is a file"),
        (
            "turnkey missing",
            [*base, "--insecure", "--turnkey-root", str(tmp / "nope")],
            "does not exist",
        ),
        ("lease ttl 1", [*base, "--insecure", "--lease-ttl", "1"], "1 must be 2..60"),
        ("cert hours 0", [*base, "--insecure", "--branch-cert-hours", "0"], "0 must be"),
        (
            "notifier config missing",
            [*base, "--insecure", "--notifier-config", str(tmp / "nope.toml")],
            "nope.toml",
        ),
        ("etcd endpoint", [*base, "--insecure", "--etcd", "x"], "is not HOST:PORT"),
        (
            "etcd cert without key",
            [
                *base,
                "--insecure",
                "--etcd",
                "127.0.0.1:1",
                "--etcd-cacert",
                str(tmp / "a-file"),
                "--etcd-cert",
                str(tmp / "a-file"),
            ],
            "go together",
        ),
        (
            "password in db url",
            [
                "serve",
                "--head-ban",
                "22099131",
                "--insecure",
                "--db",
                "postgresql+psycopg://u:hunter2@127.0.0.1:1/x",
            ],
            "must not carry a password",
        ),
        (
            "db unknown dialect",
            ["serve", "--head-ban", "22099131", "--insecure", "--db", "nosuch://x"],
            "cannot open the database",
        ),
        (
            "db unreachable",
            [
                "serve",
                "--head-ban",
                "22099131",
                "--insecure",
                "--db",
                "postgresql+psycopg://postgres@127.0.0.1:1/x",
            ],
            "cannot open the database",
        ),
        (
            "sim start naive",
            [*base, "--insecure", "--sim-start", "2026-12-31T23:00"],
            "needs a time zone",
        ),
    ]


def test_einv_hq_start_up_refuses_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, argv, needle in hq_cases(tmp_path):
        code = hq_main(argv)
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert needle in err, (name, err)
        lines = [line for line in err.strip().splitlines() if "alembic" not in line]
        assert len(lines) == 1 and "Traceback" not in err, (name, err)
    assert not (tmp_path / "hq.db").exists()  # refused before any database was made


def test_the_command_line_corpus_is_large_enough() -> None:
    total = (
        len(ADMIN_CASES)
        + len(POS_CASES)
        + len(agent_cases(Path("x")))
        + len(hq_cases(Path("/tmp")))
    )
    assert total >= 70
