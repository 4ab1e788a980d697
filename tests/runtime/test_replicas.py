"""The channel over several HQ replicas: its target, its service config, the pushback it needs."""

from __future__ import annotations

import json

import pytest

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
