"""HQ's health tells the truth: writes NOT_SERVING once another HQ took office (fenced), reads
still SERVING; GetServerStatus and `einv-admin status` show the same; reflection v1 beside
v1alpha. (A replica losing its etcd lease: tests/cluster/test_health.py.)"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2

from hq_server import migrate
from hq_server.coordinator import LocalCoordinator
from hq_server.health import (
    ADMIN_SERVICE,
    BRANCH_SERVICE,
    READ_SERVICE,
    Readiness,
    ServerHealth,
    StoredTerm,
)
from hq_server.server import build_server
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc
from runtime.version import package_version as version
from tests.fixtures import SecureHq
from tests.hq_server.conftest import HqHandle
from tests.probes import NOT_SERVING, SERVING, einv_admin, health, listed_services, reflect

WRITES = (BRANCH_SERVICE, ADMIN_SERVICE)


@pytest.fixture
async def watched(hq: HqHandle) -> AsyncIterator[tuple[ServerHealth, str]]:
    """A second server on the same HQ whose health the test updates by hand (serve() does it
    every EVERY_SECONDS)."""
    board = ServerHealth(hq.app)
    server, port = await build_server(hq.app, "127.0.0.1:0", board)
    await server.start()
    yield board, f"127.0.0.1:{port}"
    await server.stop(0)


async def statuses(address: str) -> dict[str, str]:
    return {name: await health(address, name) for name in ("", READ_SERVICE, *WRITES)}


def dead_address() -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


async def test_a_fenced_hq_stops_serving_writes_and_keeps_serving_reads(
    hq: HqHandle, watched: tuple[ServerHealth, str]
) -> None:
    board, address = watched
    assert await statuses(address) == dict.fromkeys(("", READ_SERVICE, *WRITES), SERVING)
    usurper = LocalCoordinator(hq.app.store, "other-hq", hq.clock)
    await usurper.start()  # another HQ process takes office on this database
    now = await board.update()
    assert now.fenced and not now.writes and now.leader == "other-hq"
    assert await statuses(address) == {
        "": SERVING,
        READ_SERVICE: SERVING,
        BRANCH_SERVICE: NOT_SERVING,
        ADMIN_SERVICE: NOT_SERVING,
    }
    status = await hq.admin.GetServerStatus(admin_pb2.GetServerStatusRequest())
    assert not status.healthy and status.leader == "other-hq"
    assert status.fencing_token < status.stored_token and status.stored_holder == "other-hq"
    assert any(p.startswith("fenced: the database names token") for p in status.problems)
    await hq.app.coordinator.start()  # this one takes office again (as a restart would)
    await board.update()
    assert await statuses(address) == dict.fromkeys(("", READ_SERVICE, *WRITES), SERVING)


async def test_a_server_shutting_down_is_not_serving_by_any_name(
    watched: tuple[ServerHealth, str],
) -> None:
    board, address = watched
    await board.shutdown()
    assert await statuses(address) == dict.fromkeys(("", READ_SERVICE, *WRITES), NOT_SERVING)
    await board.update()  # a last probe after that changes nothing
    assert await health(address, BRANCH_SERVICE) == NOT_SERVING


async def test_server_status_of_a_single_hq(hq: HqHandle) -> None:
    status = await hq.admin.GetServerStatus(admin_pb2.GetServerStatusRequest())
    assert status.role == admin_pb2.SERVER_ROLE_SINGLE and status.leader == "test-hq"
    assert status.fencing_token == status.stored_token == hq.app.coordinator.token()
    assert status.version == version() and status.head_ban == hq.app.head_ban
    assert status.database_ok and status.schema_revision == status.schema_head == migrate.head()
    assert status.etcd == admin_pb2.ETCD_STATE_NOT_USED
    assert {(h.service, h.serving) for h in status.services} == {
        ("", True),
        (READ_SERVICE, True),
        (BRANCH_SERVICE, True),
        (ADMIN_SERVICE, True),
    }
    assert status.healthy and list(status.problems) == []


async def test_einv_admin_status_of_one_hq_and_of_one_that_is_down(
    hq: HqHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await einv_admin(capsys, "status", "--hq", hq.address)
    assert code == 0
    (line,) = [row for row in out.splitlines() if hq.address in row]
    cells = [c.strip() for c in line.strip("│ ").split("│")]
    token = str(hq.app.coordinator.token())
    assert cells[:5] == [hq.address, "single", "test-hq", token, version()]
    assert cells[5] == f"ok, revision {migrate.head()}" and cells[6] == "-"
    assert cells[7:10] == [SERVING] * 3 and cells[10] == "-"

    dead = dead_address()
    code, out, _ = await einv_admin(capsys, "status", "--hq", f"{hq.address},{dead}", "--json")
    assert code == 6  # a replica did not answer
    first, second = json.loads(out)["endpoints"]
    assert first["endpoint"] == hq.address and first["status"]["healthy"] is True
    assert first["status"]["role"] == "SERVER_ROLE_SINGLE"
    assert second == {
        "endpoint": dead,
        "reachable": False,
        "error": second["error"],
        "status": None,
    }
    assert second["error"].startswith("UNAVAILABLE")
    code, out, _ = await einv_admin(capsys, "status", "--hq", f"{dead},{hq.address}")
    assert code == 6 and "UNREACHABLE" in out and "single" in out


async def test_einv_admin_status_wait_asks_again_until_its_seconds_are_up(
    hq: HqHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code, _, _ = await einv_admin(capsys, "status", "--hq", hq.address, "--wait", "30")
    assert code == 0 and time.monotonic() - started < 25  # healthy: no 30 s wait
    started = time.monotonic()
    code, out, _ = await einv_admin(capsys, "status", "--hq", dead_address(), "--wait", "1.5")
    assert code == 6 and "UNREACHABLE" in out
    assert time.monotonic() - started >= 1.0  # asked again until the time was up


async def test_einv_admin_status_exits_1_for_a_fenced_hq(
    hq: HqHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    await LocalCoordinator(hq.app.store, "other-hq", hq.clock).start()
    code, out, _ = await einv_admin(capsys, "status", "--hq", hq.address)
    assert code == 1 and "fenced: the database names token" in out


async def test_reflection_v1_and_v1alpha_list_the_services(hq: HqHandle) -> None:
    expected = {
        "einvoice.v1.BranchService",
        "einvoice.v1.AdminService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    for version_ in ("v1", "v1alpha"):
        assert set(await listed_services(hq.address, version_)) == expected
    for symbol in ("einvoice.v1.AdminService", "grpc.reflection.v1.ServerReflection"):
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
        reply = await reflect(hq.address, "v1", request)
        assert reply.file_descriptor_response.file_descriptor_proto, symbol


async def test_a_branch_may_not_ask_for_the_status_a_viewer_may(secure_hq: SecureHq) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(
        secure_hq.channel(secure_hq.certs.branch_tls("04595257"))
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetServerStatus(admin_pb2.GetServerStatusRequest())
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    status = await secure_hq.admin_as("vera").GetServerStatus(admin_pb2.GetServerStatusRequest())
    assert status.healthy


def ready(**changes: object) -> Readiness:
    """A healthy cluster leader (token 7 stored, etcd lease alive), with `changes`."""
    base = Readiness(
        cluster=True,
        token=7,
        leader="hq-a:50051",
        etcd_ok=True,
        stored=StoredTerm(7, "hq-a:50051", "0004"),
        db_error="",
        head="0004",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "now", "writes", "reads", "problem"),
    [
        ("leader", ready(), True, True, None),
        ("follower", ready(token=None, leader="hq-b:50051"), False, True, None),
        ("single", ready(cluster=False, etcd_ok=None), True, True, None),
        ("lease lapsed", ready(token=None, etcd_ok=False, leader=None), False, True, "etcd: "),
        ("fenced", ready(stored=StoredTerm(9, "hq-b:50051", "0004")), False, True, "fenced: "),
        ("database down", ready(stored=None, db_error="refused"), False, False, "database: "),
        ("schema behind", ready(stored=StoredTerm(7, "a", "0003")), True, True, "database sc"),
        ("no leader", ready(token=None, leader=None), False, True, "no leader known"),
        ("single, fenced", ready(cluster=False, etcd_ok=None, token=None), False, True, "not in"),
    ],
)
def test_the_rule_of_each_name(
    case: str, now: Readiness, writes: bool, reads: bool, problem: str | None
) -> None:
    assert now.serving() == {
        "": True,
        READ_SERVICE: reads,
        BRANCH_SERVICE: writes,
        ADMIN_SERVICE: writes,
    }, case
    found = now.problems()
    assert now.healthy is (problem is None), (case, found)
    if problem is not None:
        assert any(p.startswith(problem) for p in found), (case, found)
