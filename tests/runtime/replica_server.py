"""A BranchService replica for the channel tests, in a process of its own (so a test can pause
it): `python -m tests.runtime.replica_server PORT NAME`. RequestRange answers with its NAME as
the grant id; WatchConfig sends one copy and then stays quiet, as HQ does between changes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import grpc

from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime.tls import server_options


class Replica(branch_pb2_grpc.BranchServiceServicer):
    def __init__(self, name: str) -> None:
        self.name = name

    async def RequestRange(
        self, request: branch_pb2.RequestRangeRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.Grant:
        return branch_pb2.Grant(grant_id=self.name, request_id=request.request_id)

    async def WatchConfig(
        self, request: branch_pb2.WatchConfigRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[branch_pb2.BranchConfig]:
        yield branch_pb2.BranchConfig(branch_ban=request.branch_ban, version=1)
        await asyncio.Event().wait()


async def serve(port: str, name: str) -> None:
    server = grpc.aio.server(options=server_options())
    branch_pb2_grpc.add_BranchServiceServicer_to_server(Replica(name), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print(f"replica {name} serving", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
