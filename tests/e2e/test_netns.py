"""HQ and two stores on hosts of their own (network namespaces on one bridge), over mutual TLS.

The HQ is reachable only at its address on that network. The stores enrol with one-time
tokens, take ranges, serve POS calls and report usage; a client on a third host without a
certificate gets nothing. Without netns support (root, iproute2) this test fails; it never skips.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from demo.netns import Lan
from demo.procs import Proc
from demo.trust import Certs
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from tests.conftest import BRANCH_BANS, HEAD_BAN

pytestmark = pytest.mark.slow
STORES = BRANCH_BANS[:2]
PORT = 50051


@pytest.fixture
def lan() -> Iterator[Lan]:
    with Lan(["hq", "s1", "s2", "x"]) as made:
        yield made


def run_on(lan: Lan, host: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*lan.prefix(host), sys.executable, *argv], capture_output=True, text=True, timeout=60
    )


def test_stores_on_their_own_hosts_enrol_serve_and_report(lan: Lan, tmp_path: Path) -> None:
    hq_address = f"{lan.address('hq')}:{PORT}"
    certs = Certs.create(tmp_path, hosts=(lan.address("hq"),))
    hq = Proc(
        "hq",
        ["-m", "hq_server", "serve", "--head-ban", HEAD_BAN, "--db",
         f"sqlite:///{tmp_path / 'hq.db'}", "--listen", hq_address, "--certs-dir",
         str(certs.folder)],
        tmp_path / "hq.log", "serving on", prefix=lan.prefix("hq"),
    )  # fmt: skip
    agents: list[Proc] = []
    try:
        hq.start()
        admin = ["-m", "admin_cli", "--hq", hq_address, *certs.admin_args()]
        assert run_on(lan, "hq", *admin, "assignment-add", "--period", "11512", "--track", "AB",
                      "--begin", "00000000", "--end", "00049999").returncode == 0  # fmt: skip
        for host, ban in zip(("s1", "s2"), STORES, strict=True):
            added = run_on(lan, "hq", *admin, "branch-add", "--ban", ban, "--name", host,
                           "--per-request", "2", "--per-period", "100")  # fmt: skip
            assert added.returncode == 0, added.stderr
            token = run_on(lan, "hq", *admin, "branch-enroll-token", "--ban", ban)
            assert token.returncode == 0, token.stderr
            enrolled = run_on(lan, host, "-m", "branch_agent", "enroll", "--hq", hq_address,
                              "--ca-cert", str(certs.ca_cert), "--token", token.stdout.strip(),
                              "--data", str(tmp_path / host))  # fmt: skip
            assert enrolled.returncode == 0, enrolled.stderr
            agent = Proc(
                f"agent {host}",
                ["-m", "branch_agent", "serve", "--hq", hq_address, "--data",
                 str(tmp_path / host), "--listen", "127.0.0.1:50061", "--report-interval", "1"],
                tmp_path / f"agent-{host}.log", "serving POS", prefix=lan.prefix(host),
            )  # fmt: skip
            agents.append(agent.start())
        issued = {}
        for host in ("s1", "s2"):
            got = pos_numbers(lan, host, 5)
            issued[host] = got
        assert len(set(issued["s1"]) | set(issued["s2"])) == 10  # none twice across stores
        usage = wait_for_usage(lan, admin, {ban: 5 for ban in STORES})
        assert {u["branch_ban"]: int(u.get("issued", 0)) for u in usage} == dict.fromkeys(STORES, 5)
        audit = json.loads(run_on(lan, "hq", *admin, "audit", "--json").stdout)
        grant_actors = {e["actor"] for e in audit["entries"] if e["action"] == "grant"}
        assert grant_actors == {f"branch:{ban}" for ban in STORES}
        assert_intruder_gets_nothing(lan, hq_address, certs)
        assert_not_reachable_from_this_host(hq_address)
    finally:
        for proc in [*agents, hq]:
            proc.stop()


def pos_numbers(lan: Lan, host: str, count: int) -> list[str]:
    deadline = time.monotonic() + 20
    while True:
        got = run_on(lan, host, "-m", "branch_agent.pos.cli", "--agent", "127.0.0.1:50061",
                     "next", "--count", str(count), "--json")  # fmt: skip
        if got.returncode == 0:
            return [n["invoice_number"] for n in json.loads(got.stdout)["numbers"]]
        assert time.monotonic() < deadline, got.stderr
        time.sleep(0.3)  # the first refill may still be under way


def wait_for_usage(lan: Lan, admin: list[str], wanted: dict[str, int]) -> list[dict]:
    deadline = time.monotonic() + 20
    while True:
        shown = run_on(lan, "hq", *admin, "usage", "--period", "11512", "--json")
        assert shown.returncode == 0, shown.stderr
        usage = json.loads(shown.stdout)["branches"]
        if all(int(u.get("issued", 0)) == wanted[u["branch_ban"]] for u in usage):
            return usage
        assert time.monotonic() < deadline, usage
        time.sleep(0.3)


INTRUDER = """
import sys, grpc
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
target, ca = sys.argv[1], open(sys.argv[2], "rb").read()
request = branch_pb2.RequestRangeRequest(request_id="x", branch_ban="%s", year_month="11512",
                                         invoice_type=7, booklets=100)
for channel in (grpc.insecure_channel(target),
                grpc.secure_channel(target, grpc.ssl_channel_credentials(ca))):
    try:
        branch_pb2_grpc.BranchServiceStub(channel).RequestRange(request, timeout=5)
        print("GRANTED")
    except grpc.RpcError as error:
        print(error.code().name)
"""


def assert_intruder_gets_nothing(lan: Lan, hq_address: str, certs: Certs) -> None:
    """From a third host, with no certificate: plaintext and TLS without one are both refused."""
    script = INTRUDER % STORES[0]
    seen = run_on(lan, "x", "-c", script, hq_address, str(certs.ca_cert))
    assert seen.stdout.split() == ["UNAVAILABLE", "UNAVAILABLE"], seen.stdout + seen.stderr


def assert_not_reachable_from_this_host(hq_address: str) -> None:
    channel = grpc.insecure_channel(hq_address)
    try:
        stub = branch_pb2_grpc.BranchServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.RequestRange(branch_pb2.RequestRangeRequest(request_id="y"), timeout=2)
        assert info.value.code() in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )
    finally:
        channel.close()
