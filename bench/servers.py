"""The processes a benchmark runs against, started by PID with demo.procs and always stopped."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from demo.procs import Proc, free_port, running

HEAD_BAN = "22099131"
REPO = Path(__file__).resolve().parents[1]
_profiles: list[Path] = []  # set by `profile_into`: where the servers' profiles go


def profile_into(directory: Path) -> None:
    """Run the HQ and agent processes under pyinstrument (main thread: the event loop), each
    writing its session into `directory` when it stops. Needs `pip install pyinstrument`."""
    directory.mkdir(parents=True, exist_ok=True)
    _profiles[:] = [directory]


def _python(name: str) -> list[str]:
    if not _profiles:
        return []
    # A session file: render it later with `pyinstrument --load FILE` (-r text/html/pstats).
    out = _profiles[0] / f"{name}-{free_port()}.pyisession"
    return ["-m", "pyinstrument", "-o", str(out), "-r", "pyisession"]


def child_environment() -> None:
    """Children run `-m bench.echo_server` too, and `bench` is not an installed package."""
    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


def loopback() -> str:
    return f"127.0.0.1:{free_port()}"


@dataclass(frozen=True, slots=True)
class Server:
    """A started process: where it listens, and its CPU use (robust to what else runs here)."""

    address: str
    pid: int
    proc: Proc | None = field(default=None, compare=False, repr=False)  # to stop it early

    def cpu(self) -> float:
        """User + system CPU seconds of the process so far, every thread (Linux /proc).

        In clock ticks (10 ms here; this kernel keeps no finer count): a window that measures
        CPU must hold many of them, which is why even the smoke sizes run 0.6 s windows (at
        0.2 s, at load 10, an agent's CPU per number now and then read 0).
        """
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill9()

    def stop(self) -> None:
        """SIGTERM, and wait until it has exited (SIGKILL after 10 s)."""
        assert self.proc is not None
        self.proc.stop()


Serving = contextlib.AbstractContextManager[Server]  # a started process, stopped on the way out


def echo_server(root: Path) -> Serving:
    address = loopback()
    args = ["-m", "bench.echo_server", "--listen", address]
    return _serving("echo", args, root / "echo.log", "serving on", address)


def hq_process(root: Path, db_url: str, certs_dir: Path | None = None) -> Serving:
    """One HQ (`python -m hq_server serve`) on a database seeded beforehand: plaintext on
    loopback, or mutual TLS with the CA and HQ certificate of `certs_dir`."""
    address = loopback()
    args = [*_python("hq"), "-m", "hq_server", "serve", "--head-ban", HEAD_BAN, "--db", db_url]
    args += ["--insecure"] if certs_dir is None else ["--certs-dir", str(certs_dir)]
    args += ["--listen", address]
    return _serving("hq", args, root / "hq.log", "serving on", address)


def agent_process(root: Path, hq_address: str, ban: str, listen: str | None = None) -> Serving:
    """One agent (`python -m branch_agent serve`) of `ban`, for POS calls on `listen` (a free
    loopback port by default, or unix:PATH)."""
    address = listen or loopback()
    args = [*_python("agent"), "-m", "branch_agent", "serve", "--hq", hq_address]
    args += ["--insecure", "--branch-ban", ban]
    args += ["--data", str(root / f"agent-{ban}"), "--listen", address]
    return _serving(f"agent {ban}", args, root / f"agent-{ban}.log", "serving POS", address)


def peer_process(root: Path, design: str, conninfo: str) -> Serving:
    """A peer design of bench/peer_server.py on the peers' PostgreSQL database."""
    address = loopback()
    args = ["-m", "bench.peer_server", "--design", design, "--db", conninfo, "--listen", address]
    return _serving(f"{design} peer", args, root / f"peer-{design}.log", "serving on", address)


def wan_relay(root: Path, to: str, delay_ms: float) -> Serving:
    """bench/wan_relay.py in front of `to`: connect to the yielded address instead."""
    address = loopback()
    args = ["-m", "bench.wan_relay", "--listen", address, "--to", to, "--delay-ms", str(delay_ms)]
    log = root / f"relay-{to.rsplit(':', 1)[1]}.log"
    return _serving("wan relay", args, log, "serving on", address)


@contextlib.contextmanager
def _serving(name: str, args: list[str], log: Path, ready: str, address: str) -> Iterator[Server]:
    """A child process listening on `address`, ready once its log says `ready`; stopped after."""
    proc = Proc(name, args, log, ready)
    with running(proc.start()):
        yield Server(address, proc.pid, proc)
