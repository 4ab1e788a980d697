"""A real HQ cluster on loopback for tests and benchmarks: etcd members, a fresh PostgreSQL
database and HQ replicas, each process started and stopped by its PID.

Ports are free loopback ports; etcd data lives under the given directory, never the system
service's. Nothing here is needed to run the product: see deploy/ for that.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from allocator import ban_check_passes
from demo.procs import Proc, free_port

ETCD_READY = b'"msg":"published local member to cluster through raft"'
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
STOP_TIMEOUT = 5.0
READY_TIMEOUT = 30.0


def etcd_binary() -> str | None:
    return shutil.which("etcd")


def postgres_reachable(admin_url: str = PG_ADMIN_URL) -> bool:
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def fresh_database(admin_url: str = PG_ADMIN_URL, prefix: str = "einv_test") -> Iterator[str]:
    """A new, empty database (SQLAlchemy URL) that is dropped again on the way out."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = admin_url.split("@", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://postgres@{host}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class EtcdMember:
    name: str
    client_port: int
    peer_port: int
    root: Path
    popen: subprocess.Popen[bytes] | None = None
    log_offset: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def launch(self, initial_cluster: str) -> None:
        """Start (or restart, on its existing data) without waiting for the cluster."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        client = f"http://{self.endpoint}"
        args = [
            *("--name", self.name, "--data-dir", str(self.root / self.name)),
            *("--listen-client-urls", client, "--advertise-client-urls", client),
            *("--listen-peer-urls", self.peer_url),
            *("--initial-advertise-peer-urls", self.peer_url),
            *("--initial-cluster", initial_cluster, "--initial-cluster-state", "new"),
            *("--initial-cluster-token", f"einv-{self.root.name}"),
            *("--logger", "zap", "--log-outputs", "stderr"),
        ]
        with self.log.open("ab") as out:
            binary = etcd_binary() or "etcd"
            self.popen = subprocess.Popen([binary, *args], stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ETCD_READY in self.log.read_bytes()[self.log_offset :]:
                return
            if self.popen is None or self.popen.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"etcd member {self.name} did not become ready:\n{tail}")

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        if self.popen is not None and self.running():
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def terminate(self) -> None:
        if self.popen is not None and self.running():
            self.popen.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.popen is None:
            return
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:  # a leader without peers may wait to hand over
            self.kill9()


class EtcdCluster:
    """`size` members on free loopback ports, data under `root`."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.members = [
            EtcdMember(f"m{i + 1}", free_port(), free_port(), root) for i in range(size)
        ]

    @property
    def initial_cluster(self) -> str:
        return ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def endpoints(self) -> str:
        return ",".join(m.endpoint for m in self.members)

    def start(self, members: list[EtcdMember] | None = None) -> EtcdCluster:
        """Start members together (a lone member waits for a quorum before it is ready)."""
        chosen = self.members if members is None else members
        for member in chosen:
            member.launch(self.initial_cluster)
        for member in chosen:
            member.wait_ready()
        return self

    def stop(self) -> None:
        for member in self.members:
            member.terminate()
        for member in self.members:
            member.wait_stopped()

    def raft_leader(self) -> EtcdMember:
        """The member that leads the etcd cluster's own Raft group now."""
        live = [m for m in self.members if m.running()]
        endpoints = ",".join(m.endpoint for m in live)
        out = subprocess.run(
            ["etcdctl", "--endpoints", endpoints, "endpoint", "status", "-w", "json"],
            capture_output=True,
            check=True,
            env={**os.environ, "ETCDCTL_API": "3"},
            timeout=10,
        ).stdout
        statuses = json.loads(out)
        leader_id = statuses[0]["Status"]["leader"]
        for status, member in zip(statuses, live, strict=True):
            if status["Status"]["header"]["member_id"] == leader_id:
                return member
        raise RuntimeError("no etcd member reports itself as the Raft leader")


@dataclass
class Replica:
    """One `einv-hq serve` process; each start gets its own log file."""

    name: str
    address: str
    serve_args: list[str]
    root: Path
    starts: int = 0
    proc: Proc | None = None
    logs: list[Path] = field(default_factory=list)

    def start(self) -> Replica:
        self.starts += 1
        log = self.root / f"{self.name}.{self.starts}.log"
        self.logs.append(log)
        args = ["-m", "hq_server", "serve", "--listen", self.address, *self.serve_args]
        self.proc = Proc(self.name, args, log, "serving on").start()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return (
            self.proc is not None
            and self.proc.popen is not None
            and (self.proc.popen.poll() is None)
        )

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.kill9()

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
            self.proc.stop()

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def replica_args(
    head_ban: str, db_url: str, endpoints: str, lease_ttl: int, extra: list[str] | None = None
) -> list[str]:
    return [
        *("--head-ban", head_ban, "--db", db_url, "--etcd", endpoints),
        *("--lease-ttl", str(lease_ttl)),
        *(extra or []),
    ]


def valid_bans(count: int, start: int = 10_000_000) -> list[str]:
    """`count` distinct 8-digit numbers that pass the MOF check-digit rule, in order."""
    found: list[str] = []
    number = start
    while len(found) < count and number <= 99_999_999:
        digits = f"{number:08d}"
        if ban_check_passes(digits):
            found.append(digits)
        number += 1
    return found
