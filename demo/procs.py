"""Start, watch and stop the project's own server processes (by PID, loopback only)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
