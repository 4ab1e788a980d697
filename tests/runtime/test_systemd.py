"""sd_notify: READY, STATUS, WATCHDOG and STOPPING reach a real AF_UNIX datagram socket."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.procs import Proc, free_port
from runtime import systemd
from tests.conftest import HEAD_BAN

WAIT = 20.0  # a bound, not a measurement: every wait polls for the datagram it expects


class Listener:
    """The socket systemd would hold: bound here, read with a bounded wait per message."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name[1:] if name.startswith("@") else name)
        self.sock.settimeout(0.2)
        self.seen: list[str] = []

    def wait_for(self, field: str, timeout: float = WAIT) -> list[str]:
        """Datagrams until one has the line `field`; returns that datagram's lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                lines = self.sock.recv(4096).decode().split("\n")
            except TimeoutError:
                continue
            self.seen.append("|".join(lines))
            if field in lines:
                return lines
        raise AssertionError(f"no {field} within {timeout} s; received {self.seen}")

    async def wait_async(self, field: str) -> list[str]:
        return await asyncio.to_thread(self.wait_for, field)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    made = Listener(str(tmp_path / "notify"))
    yield made
    made.sock.close()


def test_ready_and_status_reach_the_socket(listener: Listener) -> None:
    notifier = systemd.Notifier(listener.name)
    assert notifier.send("READY=1", "STATUS=serving")
    assert listener.wait_for("READY=1") == ["READY=1", "STATUS=serving"]


def test_an_abstract_socket_name_starts_with_an_at_sign() -> None:
    abstract = Listener(f"@einv-test-{uuid.uuid4().hex}")
    try:
        assert systemd.Notifier(abstract.name).send("READY=1")
        assert abstract.wait_for("READY=1") == ["READY=1"]
    finally:
        abstract.sock.close()


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = systemd.Notifier.from_environ({"WATCHDOG_USEC": "1000000"})
    assert notifier.socket_path is None and not notifier.send("READY=1")


def test_a_missing_socket_is_logged_not_raised(tmp_path: Path) -> None:
    assert not systemd.Notifier(str(tmp_path / "nobody")).send("READY=1")


def test_watchdog_usec_meant_for_another_process_is_ignored() -> None:
    mine = {"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    assert systemd.watchdog_seconds(mine) == 4.0
    assert systemd.watchdog_seconds({**mine, "WATCHDOG_PID": "1"}) is None
    assert systemd.watchdog_seconds({"WATCHDOG_USEC": "soon"}) is None


async def test_serving_pings_while_healthy_and_says_stopping(listener: Listener) -> None:
    notifier = systemd.Notifier(listener.name, watchdog_seconds=0.2)
    health = {"ok": True}
    async with systemd.serving(lambda: "up", lambda: health["ok"], notifier):
        assert (await listener.wait_async("READY=1"))[:2] == ["READY=1", "STATUS=up"]
        await listener.wait_async("WATCHDOG=1")
        health["ok"] = False  # a crashed background job: no more pings
        await asyncio.sleep(0.25)  # let a ping already on its way arrive before counting
        listener.seen.clear()
    assert await listener.wait_async("STOPPING=1")
    assert not [seen for seen in listener.seen if "WATCHDOG=1" in seen.split("|")]


@pytest.mark.slow
def test_einv_hq_says_ready_then_pings_the_watchdog_then_stopping(
    listener: Listener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", listener.name)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # WatchdogSec=1: a ping every 0.5 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    address = f"127.0.0.1:{free_port()}"
    args = ["-m", "hq_server", "serve", "--head-ban", HEAD_BAN, "--db"]
    args += [f"sqlite:///{tmp_path / 'hq.db'}", "--listen", address, "--insecure"]
    hq = Proc("hq", args, tmp_path / "hq.log", "serving on").start()
    try:
        ready = listener.wait_for("READY=1")
        assert f"STATUS=leading (fencing token 1) on {address}" in ready
        host, port = address.rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=5).close()  # READY: it listens
        listener.wait_for("WATCHDOG=1")
        listener.wait_for("WATCHDOG=1")
    finally:
        hq.stop()
    assert hq.popen is not None and hq.popen.returncode == 0
    listener.wait_for("STOPPING=1")


@pytest.mark.slow
def test_einv_agent_says_ready_with_its_status(
    listener: Listener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", listener.name)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    address, nobody = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    args = ["-m", "branch_agent", "serve", "--hq", nobody, "--insecure", "--branch-ban"]
    args += [HEAD_BAN, "--data", str(tmp_path / "agent"), "--listen", address]
    agent = Proc("agent", args, tmp_path / "agent.log", "serving POS").start()
    try:
        ready = listener.wait_for("READY=1")
        status = next(line for line in ready if line.startswith("STATUS="))
        assert status.startswith(f"STATUS=serving POS on {address}: 0 numbers left for ")
        listener.wait_for("WATCHDOG=1")
    finally:
        agent.stop()
    listener.wait_for("STOPPING=1")
