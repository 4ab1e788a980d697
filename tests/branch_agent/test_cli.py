"""The command lines: einv-agent start-up checks, einv-pos, and a real kill -9 of an agent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import pytest

from branch_agent import cli
from branch_agent.ledger.store import issued_numbers
from branch_agent.pos import cli as pos_cli
from demo.procs import free_port
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc
from tests.branch_agent.conftest import BAN, MID_PERIOD, Pos, StartAgent, ready
from tests.branch_agent.hq_double import HqDouble

ROOT = Path(__file__).resolve().parents[2]


def test_agent_refuses_a_bad_ban_and_a_public_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["serve", "--insecure", "--hq", "127.0.0.1:1", "--data", str(tmp_path)]
    assert cli.main([*base, "--branch-ban", "12345678"]) == 2
    assert "check digit" in capsys.readouterr().err
    assert cli.main([*base, "--branch-ban", BAN, "--listen", "0.0.0.0:0"]) == 2
    assert "loopback" in capsys.readouterr().err
    assert not (tmp_path / "ledger.sqlite3").exists()


async def test_pos_cli_next_give_back_status_and_errors(
    start_agent: StartAgent, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = await start_agent()
    await ready(agent)

    async def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = await asyncio.to_thread(pos_cli.main, ["--agent", agent.address, *argv])
        except SystemExit as exit_:  # argparse: a bad argument
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = await run("next", "--count", "2", "--json")
    first, second = (n["invoice_number"] for n in json.loads(out)["numbers"])
    assert code == 0 and json.loads(out)["numbers"][0]["year_month"] == "11502"
    code, out, _ = await run("give-back", second, "--json")
    assert json.loads(out) == {"invoice_number": second, "outcome": "OUTCOME_REUSED"}
    code, out, _ = await run("status", "--json")
    status = json.loads(out)
    assert code == 0 and status["issued_total"] == 1 and status["hq_unreachable_since"] is None
    code, out, _ = await run("status")
    assert code == 0 and BAN in out and "11502" in out
    code, _, err = await run("next", "--count", "1001")
    assert code == 2 and "1001 must be 1..1000" in err and len(err.splitlines()) == 1
    code, _, err = await run("next", "--count", "-1")
    assert code == 2 and "-1 must be 1..1000" in err
    code, _, err = await run("give-back", first.lower())
    assert code == 2 and "INVALID_ARGUMENT" in err and first.lower() in err


async def _stream(
    address: str, name: str, received: list[str], failed: list[str], stop: asyncio.Event
) -> None:
    """One POS that keeps asking until told to stop; failures (the kill) are expected."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pos_pb2_grpc.PosServiceStub(channel)
        for _ in range(100_000):
            if stop.is_set():
                return
            try:
                reply = await stub.NextNumbers(
                    pos_pb2.NextNumbersRequest(count=2, terminal_id=name), timeout=2
                )
            except grpc.aio.AioRpcError as error:
                failed.append(error.code().name)
                await asyncio.sleep(0.01)
                continue
            received.extend(n.invoice_number for n in reply.numbers)


@asynccontextmanager
async def eight_pos(address: str, received: list[str], failed: list[str]) -> AsyncIterator[None]:
    """Eight POS streaming from the agent at `address` while the block runs; stopped after."""
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(_stream(address, f"pos{i}", received, failed, stop)) for i in range(8)
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*clients)


async def until_received(received: list[str], count: int) -> None:
    for _ in range(300):  # bounded: at most 15 s
        if len(received) >= count:
            return
        await asyncio.sleep(0.05)


class AgentProcess:
    """`python -m branch_agent serve` as a child process, stopped only by its own PID."""

    def __init__(self, hq: HqDouble, data: Path, epoch: float) -> None:
        argv = [
            sys.executable, "-m", "branch_agent", "serve", "--insecure", "--hq", hq.address,
            "--branch-ban", BAN, "--data", str(data), "--listen", "127.0.0.1:0",
            "--report-interval", "0.5", "--sim-start", MID_PERIOD.isoformat(),
            "--sim-epoch", str(epoch),
        ]  # fmt: skip
        self.log = open(data.parent / "agent.log", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        self.address = ""

    async def ready(self) -> str:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), 30)
        assert "serving POS on" in line, line
        self.address = line.split()[-1]
        return self.address

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(15)
        self.log.close()
        return code


@pytest.mark.slow
async def test_kill_9_mid_stream_never_issues_a_number_twice(
    tmp_path: Path, hq: HqDouble, pos_for: Callable[..., Pos]
) -> None:
    data, epoch = tmp_path / "agent", time.time()
    data.mkdir()
    before: list[str] = []
    after: list[str] = []
    failed: list[str] = []
    first = AgentProcess(hq, data, epoch)
    try:
        async with eight_pos(await first.ready(), before, failed):
            await until_received(before, 400)
            first.kill9()  # while the clients are still calling
            await asyncio.sleep(0.2)
    finally:
        first.terminate()
    assert len(before) >= 400 and "UNAVAILABLE" in failed  # calls were cut off by the kill
    failed.clear()

    second = AgentProcess(hq, data, epoch)
    try:
        async with eight_pos(await second.ready(), after, failed):
            await until_received(after, 200)
    finally:
        assert second.terminate() == 0  # SIGTERM: a clean shutdown
    assert not failed

    received = before + after
    assert len(set(received)) == len(received), "a number was issued twice"
    in_ledger = [number for _, _, number in issued_numbers(data)]
    assert len(set(in_ledger)) == len(in_ledger)
    assert set(received) <= set(in_ledger), "a client got a number the ledger does not hold"


async def test_pos_cli_waits_for_an_agent_that_is_still_starting(
    start_agent: StartAgent, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    argv = ["--agent", address, "--wait", "60", "next", "--json"]
    waiting = asyncio.create_task(asyncio.to_thread(pos_cli.main, argv))
    await asyncio.sleep(1.0)  # the command is already trying: nothing listens yet
    assert not waiting.done()
    agent = await start_agent(listen=address)
    assert await asyncio.wait_for(waiting, 60) == 0
    numbers = json.loads(capsys.readouterr().out)["numbers"]
    assert len(numbers) == 1
    await ready(agent)
    async with grpc.aio.insecure_channel(address) as channel:
        status = await pos_pb2_grpc.PosServiceStub(channel).Status(pos_pb2.StatusRequest())
    assert status.issued_total == 1  # one number: the retries kept their request id


def test_pos_cli_wait_gives_up_after_its_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = pos_cli.main(["--agent", f"127.0.0.1:{free_port()}", "--wait", "1.5", "status"])
    assert code == 6 and "UNAVAILABLE" in capsys.readouterr().err
    assert time.monotonic() - started >= 1.0  # tried again, not once
