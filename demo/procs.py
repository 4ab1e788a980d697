"""Start, watch and stop the project's own server processes (by PID, loopback only)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

READY_TIMEOUT = 30.0


# Servers get ports below the kernel's ephemeral range (32768-60999 by default): a port the
# kernel hands out for port 0 may be taken again at once by any outgoing connection (and the
# tests make thousands) before the server that was meant to have it binds it.
SERVER_PORTS = range(20_000, 32_000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port no server of this process was given yet and nothing listens on now."""
    low, high = _ephemeral_range()
    candidates = [p for p in SERVER_PORTS if not low <= p <= high]
    for _ in range(200):  # bounded: the range is large and mostly free
        port = random.choice(candidates)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {SERVER_PORTS}")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999


def hq_args(head_ban: str, db_url: str, listen: str, certs_dir: Path) -> list[str]:
    """`python -m hq_server serve` on one database and gRPC address, with the run's own CA."""
    return ["-m", "hq_server", "serve", "--head-ban", head_ban, "--db", db_url,
            "--listen", listen, "--certs-dir", str(certs_dir)]  # fmt: skip


def agent_args(hq: str, ban: str, data: Path, listen: str, report_interval: float) -> list[str]:
    """`python -m branch_agent serve` for one enrolled store, serving its POS on `listen`."""
    return ["-m", "branch_agent", "serve", "--hq", hq, "--branch-ban", ban, "--data", str(data),
            "--listen", listen, "--report-interval", str(report_interval)]  # fmt: skip


def sim_args(start: datetime, epoch: float, speed: float) -> list[str]:
    """A server's simulated clock: it reads `start` at the real instant `epoch`, then runs
    `speed` times as fast; every process of one run is given the same three."""
    return ["--sim-start", start.isoformat(), "--sim-epoch", str(epoch),
            "--sim-speed", str(speed)]  # fmt: skip


class Proc:
    """A child process whose output goes to a log file; ready when a line contains `ready`."""

    def __init__(
        self, name: str, args: Sequence[str], log: Path, ready: str, prefix: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.args = list(args)
        self.prefix = list(prefix)  # e.g. `ip netns exec HOST`: run it on another host
        self.log = log
        self.ready = ready
        self.popen: subprocess.Popen[str] | None = None
        self._offset = 0  # a restart appends to the same log: only new lines say "ready"

    def start(self) -> Proc:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        out = self.log.open("a")
        self.popen = subprocess.Popen(
            [*self.prefix, sys.executable, *self.args],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        out.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.ready in self.log.read_text(errors="replace")[self._offset :]:
                return
            if self.popen is not None and self.popen.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready; its log ends with:\n{tail}")

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def kill9(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()


@contextlib.contextmanager
def running(*procs: Proc):  # type: ignore[no-untyped-def]
    """Stop every process on the way out, whatever happened."""
    try:
        yield procs
    finally:
        for proc in reversed(procs):
            with contextlib.suppress(Exception):
                proc.stop()
