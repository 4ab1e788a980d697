"""`einv-admin export` against an in-process HQ: the CSV and the JSON hold the API's rows, in
its order; --output is atomic, 0644, and never replaces a file without --force; bad arguments
are one line and exit 2, HQ's refusals exit by their status, and neither writes anything."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from admin_cli.export import columns
from admin_cli.main import main as admin_main
from demo.procs import free_port
from protos.einvoice.v1 import admin_pb2
from runtime.json_style import as_json
from tests.conftest import BRANCH_BANS
from tests.fixtures import HqHandle
from tests.hq_server.test_export import NAMES, build_state, export, rows

KINDS = {
    "grants": admin_pb2.EXPORT_KIND_GRANTS,
    "usage": admin_pb2.EXPORT_KIND_USAGE,
    "blanks": admin_pb2.EXPORT_KIND_BLANKS,
}


async def run(hq: HqHandle, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(admin_main, ["--hq", hq.address, "--insecure", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


async def expected(hq: HqHandle, what: str) -> list[dict[str, object]]:
    return [as_json(r) for r in rows(await export(hq.admin, KINDS[what]), what)]


async def test_csv_and_json_hold_the_apis_rows(
    hq: HqHandle, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    await build_state(hq.admin, lambda _: hq.branch)
    folder = tmp_path / "erp"  # (tmp_path holds the HQ's database too)
    folder.mkdir()
    for what in ("grants", "usage"):
        want = await expected(hq, what)
        code, out, err = await run(hq, capsys, "export", "--period", "11512", "--what", what)
        assert code == 0, err
        assert "\r\n" in out  # RFC 4180 line ends
        table = list(csv.reader(io.StringIO(out, newline="")))
        assert table[0] == columns(what)
        as_text = [["" if v is None else str(v) for v in row.values()] for row in want]
        assert table[1:] == as_text and len(as_text) >= 3  # names with quotes, commas, CJK
        target = folder / f"{what}.json"
        code, out, err = await run(
            hq, capsys, "export", "--period", "11512", "--what", what,
            "--format", "json", "--output", str(target),
        )  # fmt: skip
        assert code == 0 and out == "", err
        assert json.loads(target.read_text(encoding="utf-8")) == want
        assert target.stat().st_mode & 0o777 == 0o644
    assert {r["branch_name"] for r in await expected(hq, "grants")} == set(NAMES.values())
    assert sorted(p.name for p in folder.iterdir()) == ["grants.json", "usage.json"]


async def test_output_is_never_replaced_without_force(
    hq: HqHandle, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    await build_state(hq.admin, lambda _: hq.branch)
    (folder := tmp_path / "erp").mkdir()
    target = folder / "grants.csv"
    target.write_text("keep me\n")
    argv = ["export", "--period", "11512", "--what", "grants", "--output", str(target)]
    code, _, err = await run(hq, capsys, *argv)
    assert code == 2 and "exists already" in err and "--force" in err, err
    assert len(err.strip().splitlines()) == 1
    assert target.read_text() == "keep me\n"
    code, _, err = await run(hq, capsys, *argv, "--force")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("ban,branch_name,")
    assert [p.name for p in folder.iterdir()] == ["grants.csv"]  # no temporary left


BAD = [
    (["--what", "grants"], "--period"),
    (["--period", "11512"], "--what"),
    (["--period", "11513", "--what", "grants"], "11513"),
    (["--period", "11512", "--what", "invoices"], "invalid choice: 'invoices'"),
    (["--period", "11512", "--what", "usage", "--format", "xml"], "invalid choice: 'xml'"),
    (["--period", "11512", "--what", "usage", "--type", "09"], "invoice type '09'"),
]


@pytest.mark.parametrize(("argv", "needle"), BAD, ids=[b[1] for b in BAD])
async def test_bad_arguments_are_one_line_and_exit_2(
    hq: HqHandle, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = await run(hq, capsys, "export", *argv)
    assert code == 2 and needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and out == ""


async def test_hqs_refusals_write_nothing(
    hq: HqHandle, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    await build_state(hq.admin, lambda _: hq.branch)
    (folder := tmp_path / "erp").mkdir()
    target = folder / "out.csv"
    for period, what, code_wanted, needle in (
        ("11602", "grants", 3, "nothing of period 11602"),
        ("11512", "blanks", 3, "waits"),
    ):
        argv = ["export", "--period", period, "--what", what, "--output", str(target)]
        code, out, err = await run(hq, capsys, *argv)
        assert code == code_wanted and needle in err, err
        assert len(err.strip().splitlines()) == 1 and out == ""
        assert list(folder.iterdir()) == []
    code, out, err = await run(hq, capsys, "export", "--period", "11602", "--what", "usage")
    assert code == 3 and out == "", err  # not even a header on stdout


async def test_blanks_name_the_branches_held_back(
    hq: HqHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_state(hq.admin, lambda _: hq.branch)
    hq.clock.advance(days=40)
    want = await expected(hq, "blanks")
    code, out, err = await run(
        hq, capsys, "export", "--period", "11512", "--what", "blanks", "--format", "json"
    )
    assert code == 0 and json.loads(out) == want and want
    assert "held back" in err and BRANCH_BANS[1] in err and BRANCH_BANS[0] not in err


@pytest.mark.slow  # einv-admin waits CONNECT_WAIT (5 s) for the dead address
async def test_an_unreachable_hq_first_in_the_list_is_skipped(
    hq: HqHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_state(hq.admin, lambda _: hq.branch)
    dead = f"127.0.0.1:{free_port()}"  # nothing listens: UNAVAILABLE before any reply
    argv = ["--hq", f"{dead},{hq.address}", "--insecure", "export", "--period", "11512"]
    code = await asyncio.to_thread(admin_main, [*argv, "--what", "usage", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out) == await expected(hq, "usage")
