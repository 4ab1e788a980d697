"""What an operator's tools ask a server: grpc.health.v1 statuses and reflection (v1alpha, v1).

Plain gRPC clients, as grpc_health_probe or grpcurl would be, for any server of ours.
"""

from __future__ import annotations

import asyncio
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

SERVING = "SERVING"
NOT_SERVING = "NOT_SERVING"


async def health(address: str, service: str, timeout: float = 3.0) -> str:
    """The status name a Health/Check gives, or the gRPC code's name if the call fails."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.aio.AioRpcError as error:
            return error.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


async def until_health(address: str, service: str, wanted: str, timeout: float = 15.0) -> float:
    """Poll Health/Check until `service` says `wanted` (bounded); seconds it took."""
    started = time.monotonic()
    seen = ""
    while time.monotonic() - started < timeout:
        seen = await health(address, service)
        if seen == wanted:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{address} {service!r} still {seen} after {timeout} s, not {wanted}")


async def reflect(
    address: str, version: str, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    """One ServerReflectionInfo exchange over grpc.reflection.<version> (v1 and v1alpha have
    the same messages, byte for byte)."""
    method = f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo"
    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.stream_stream(
            method,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )(iter([request]), timeout=5)
        async for reply in call:
            return reply
    raise AssertionError("no reflection reply")


async def listed_services(address: str, version: str) -> list[str]:
    reply = await reflect(
        address, version, reflection_pb2.ServerReflectionRequest(list_services="")
    )
    return [s.name for s in reply.list_services_response.service]
