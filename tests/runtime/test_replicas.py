"""The channel over several HQ replicas: its target, its service config, the pushback it needs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import grpc
import pytest

from demo.procs import Proc, free_port
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime.errors import NotLeader
from runtime.grpc_status import PUSHBACK_KEY, trailers_for
from runtime.replicas import RETRY_POLICY, Replicas, service_config, target_of


async def test_one_address_is_the_target_as_given() -> None:
    assert await target_of(["hq.example:50051"]) == "hq.example:50051"
    assert await target_of(["unix:/run/hq.sock"]) == "unix:/run/hq.sock"


async def test_several_addresses_become_one_static_list_in_order() -> None:
    assert await target_of(["127.0.0.2:2", "localhost:1", "127.0.0.2:2"]) == (
        "ipv4:127.0.0.2:2,127.0.0.1:1"
    )


async def test_an_ipv6_address_makes_the_list_ipv6_with_ipv4_mapped() -> None:
    assert await target_of(["[::1]:5", "127.0.0.1:6"]) == "ipv6:[::1]:5,[::ffff:127.0.0.1]:6"


async def test_a_name_that_does_not_resolve_is_left_out() -> None:
    assert await target_of(["nowhere.invalid:1", "127.0.0.1:2"]) == "ipv4:127.0.0.1:2"


def test_unix_sockets_do_not_mix_with_replicas() -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        Replicas(["unix:/a", "127.0.0.1:1"], None, "{}")


def test_the_service_config_retries_unavailable_on_the_idempotent_methods_only() -> None:
    config = json.loads(service_config("einvoice.v1.BranchService", ["RequestRange"]))
    assert config["loadBalancingConfig"] == [{"pick_first": {}}]
    [method] = config["methodConfig"]
    assert method["name"] == [{"service": "einvoice.v1.BranchService", "method": "RequestRange"}]
    assert method["retryPolicy"] == RETRY_POLICY
    assert RETRY_POLICY["retryableStatusCodes"] == ["UNAVAILABLE"]


def test_a_follower_that_names_the_leader_tells_grpc_not_to_retry_it() -> None:
    named = dict(trailers_for(NotLeader("follows", leader="10.0.0.11:50051")))
    assert named[PUSHBACK_KEY] == "-1"
    assert PUSHBACK_KEY not in dict(trailers_for(NotLeader("no leader known")))


NAMES = ("first", "second")


def replica(name: str, port: int, folder: Path) -> Proc:
    args = ["-m", "tests.runtime.replica_server", str(port), name]
    return Proc(name, args, folder / f"{name}.log", "serving").start()


@pytest.mark.slow
async def test_a_paused_replica_is_given_up_and_the_next_one_serves(tmp_path: Path) -> None:
    """SIGSTOP keeps the connection open (the kernel still acknowledges), so only keepalive
    pings notice; gRPC's defaults stop pinging a quiet stream after two pings."""
    ports = [free_port(), free_port()]
    first, second = (replica(name, port, tmp_path) for name, port in zip(NAMES, ports, strict=True))
    replicas = Replicas(
        [f"127.0.0.1:{port}" for port in ports],
        None,
        service_config("einvoice.v1.BranchService", ["RequestRange", "WatchConfig"]),
        keepalive=5.0,  # the least the servers accept (runtime.tls.ACCEPT_PINGS)
    )
    try:
        stub = branch_pb2_grpc.BranchServiceStub(await replicas.channel())
        request = branch_pb2.RequestRangeRequest(request_id="r")
        assert (await stub.RequestRange(request, timeout=5)).grant_id == "first"
        stream = stub.WatchConfig(branch_pb2.WatchConfigRequest(branch_ban="x"))
        assert (await stream.read()).version == 1
        os.kill(first.pid, signal.SIGSTOP)
        with pytest.raises(grpc.aio.AioRpcError) as broke:
            await asyncio.wait_for(stream.read(), 30)  # a bound: keepalive ends it in ~7.5 s
        assert broke.value.code() is grpc.StatusCode.UNAVAILABLE
        assert (await stub.RequestRange(request, timeout=5)).grant_id == "second"
    finally:
        os.kill(first.pid, signal.SIGCONT)
        await replicas.close()
        first.stop()
        second.stop()
