"""The agent's health tells the truth: NOT_SERVING with no number left and no HQ to refill,
SERVING again once HQ is back and the refill came; reflection v1 beside v1alpha."""

from __future__ import annotations

from collections.abc import Callable

from grpc_reflection.v1alpha import reflection_pb2

from tests.branch_agent.conftest import Pos, StartAgent, hq_gone, ready
from tests.branch_agent.hq_double import HqDouble
from tests.probes import NOT_SERVING, SERVING, health, listed_services, reflect, until_health

POS_SERVICE = "einvoice.v1.PosService"


async def test_serving_once_it_holds_numbers(start_agent: StartAgent) -> None:
    agent = await start_agent()
    await ready(agent)
    await until_health(agent.address, POS_SERVICE, SERVING)
    assert await health(agent.address, "") == SERVING
    assert await health(agent.address, "einvoice.v1.Nope") == "NOT_FOUND"


async def test_no_number_and_no_hq_is_not_serving_until_hq_is_back(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await start_agent()
    await ready(agent, 100)
    pos = pos_for(agent)
    await hq_gone(agent, hq)
    await until_health(agent.address, POS_SERVICE, SERVING)  # HQ away, numbers left: fine
    left = (await pos.status()).remaining
    assert len(await pos.next(left)) == left
    await until_health(agent.address, POS_SERVICE, NOT_SERVING)
    assert await health(agent.address, "") == SERVING  # the process itself is alive
    await hq.start()
    await until_health(agent.address, POS_SERVICE, SERVING)
    await ready(agent)
    assert len(await pos.next()) == 1


async def test_reflection_v1_and_v1alpha_list_the_services(start_agent: StartAgent) -> None:
    agent = await start_agent()
    expected = [
        POS_SERVICE,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]
    for version in ("v1", "v1alpha"):
        assert sorted(await listed_services(agent.address, version)) == sorted(expected)
    symbol = reflection_pb2.ServerReflectionRequest(file_containing_symbol=POS_SERVICE)
    reply = await reflect(agent.address, "v1", symbol)
    assert reply.file_descriptor_response.file_descriptor_proto  # grpcurl describe works
