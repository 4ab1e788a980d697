"""What an operator's tools ask a server: grpc.health.v1 statuses and reflection (v1alpha, v1).

Plain gRPC clients, as grpc_health_probe or grpcurl would be, for any server of ours.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

from admin_cli.main import main as admin_main

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


async def einv_admin(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`einv-admin --insecure ARGV` in a thread (an in-process HQ serves on this event loop):
    its exit code, stdout and stderr."""

    def run() -> int:
        try:
            return admin_main(["--insecure", *argv])
        except SystemExit as exit_:  # a check that failed exits from the command
            return int(exit_.code or 0)

    code = await asyncio.to_thread(run)
    out = capsys.readouterr()
    return code, out.out, out.err
