"""einv-admin against a real HQ process: bad input exits non-zero, names the problem, changes
nothing; good input shows up in every listing, as a table or as JSON."""

from __future__ import annotations

import json

import pytest

from admin_cli.main import main
from tests.conftest import BRANCH_BANS
from tests.e2e.conftest import Cluster

pytestmark = pytest.mark.slow


def run(capsys: pytest.CaptureFixture[str], hq: Cluster, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["--hq", hq.hq_address, *hq.certs.admin_args(), *argv])
    except SystemExit as exit_:  # argparse refused an argument: exit 2 with a usage line
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def branch_add(ban: str, per_request: str, name: str = "x", per_period: str = "5") -> list[str]:
    quota = ["--per-request", per_request, "--per-period", per_period]
    return ["branch-add", "--ban", ban, "--name", name, *quota]


def assignment_add(period: str, track: str, begin: str, end: str) -> list[str]:
    return ["assignment-add", "--period", period, "--track", track, "--begin", begin, "--end", end]


BAD = [
    (branch_add("04595258", "1"), "04595258"),
    (branch_add(BRANCH_BANS[1], "0"), "argument --per-request: 0 must be 1..10000"),
    (assignment_add("11512", "A1", "00000000", "00000049"), "track 'A1'"),
    (assignment_add("11512", "AB", "00000010", "00000049"), "not whole booklets"),
    (assignment_add("11512", "AB", "00000500", "00001049"), "overlaps"),
    (assignment_add("11513", "CD", "00000000", "00000049"), "11513"),
    (["branch-disable", "22099131"], "22099131 is not registered"),
    (["quota-set", BRANCH_BANS[0], "--per-request", "-1", "--per-period", "3"], "-1 must be 1.."),
    (["quota-set", "12345678", "--per-request", "1", "--per-period", "3"], "12345678"),
    (["range-status", "99", "paused"], "99"),
    (["usage", "--period", "2025"], "'2025'"),
]


def test_bad_input_names_the_problem_and_changes_nothing(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.start_hq()
    hq = cluster
    assert run(capsys, hq, *assignment_add("11512", "AB", "00000000", "00000999"))[0] == 0
    main_st = branch_add(BRANCH_BANS[0], "2", name="Main St.", per_period="10")
    assert run(capsys, hq, *main_st)[0] == 0
    _, before, _ = run(capsys, hq, "audit", "--json")
    for argv, needle in BAD:
        code, _, err = run(capsys, hq, *argv)
        assert code != 0, argv
        assert needle in err, (argv, err)
    _, after, _ = run(capsys, hq, "audit", "--json")
    assert json.loads(after) == json.loads(before)
    code, out, _ = run(capsys, hq, "pools", "--json")
    pool = json.loads(out)["pools"][0]
    assert code == 0 and pool["year_month"] == "11512" and pool["free"] == 1000  # a number
    code, out, _ = run(capsys, hq, "branch-list")
    assert code == 0 and BRANCH_BANS[0] in out and "Main St." in out
