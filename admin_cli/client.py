"""The admin's connection to HQ: mutual TLS with the admin's own certificate, failover across
the HQ replicas given, and the refusals turned into one readable line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message

from allocator import InvalidInput
from protos.einvoice.v1 import admin_pb2_grpc
from runtime.grpc_status import refusal
from runtime.tls import Tls, client_tls

TIMEOUT = 30.0
STREAM_TIMEOUT = 3600.0  # a whole export of a large chain, not one reply
# An HQ just started (a script's next line) may take a moment to listen: wait for it this long,
# then make the call anyway, so a refusal (TLS, address) is reported as it is.
CONNECT_WAIT = 5.0
TLS_HINT = (
    "the HQ closed the TLS connection: check that your certificate is current and was made "
    "by this HQ's CA (the HQ's log names the reason), or that the HQ runs with TLS at all"
)

PLAIN_HINT = "the HQ expects mutual TLS: give --certs-dir DIR --user NAME instead of --insecure"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who einv-admin acts as: a certificates directory and a user name, or --insecure."""

    tls: Tls | None
    user: str

    @classmethod
    def resolve(cls, certs_dir: Path | None, user: str | None, insecure: bool) -> Identity:
        """From --certs-dir and --user (or EINV_CERTS_DIR and EINV_USER: the parser reads them)."""
        if insecure:
            return cls(None, "insecure")
        if certs_dir is None or user is None:
            raise InvalidInput(
                "who are you? give --certs-dir DIR --user NAME (files DIR/ca.crt, "
                "DIR/NAME.crt, DIR/NAME.key; or EINV_CERTS_DIR and EINV_USER), or --insecure "
                "for an HQ started with --insecure"
            )
        return cls(client_tls(certs_dir, user), user)


class Admin:
    """An AdminService client that fails over across the HQ addresses it is given."""

    def __init__(self, addresses: Sequence[str], tls: Tls | None = None) -> None:
        if not addresses:
            raise InvalidInput("--hq needs at least one HQ address, e.g. 127.0.0.1:50051")
        self.addresses = list(addresses)
        self.tls = tls

    def channel(self, address: str) -> grpc.Channel:
        if self.tls is None:
            return grpc.insecure_channel(address)
        return grpc.secure_channel(address, self.tls.credentials())

    def stubs(self) -> Iterator[admin_pb2_grpc.AdminServiceStub]:
        """A stub on each HQ address in turn, its channel open until the next one is asked for."""
        for address in self.addresses:
            with self.channel(address) as channel:
                with contextlib.suppress(grpc.FutureTimeoutError):
                    grpc.channel_ready_future(channel).result(timeout=CONNECT_WAIT)
                yield admin_pb2_grpc.AdminServiceStub(channel)

    def call(self, method: str, request: Message, timeout: float = TIMEOUT) -> Any:
        last: grpc.RpcError | None = None
        for stub in self.stubs():
            try:
                return getattr(stub, method)(request, timeout=timeout)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                last = error
        assert last is not None
        raise last

    def stream(self, method: str, request: Message, timeout: float = STREAM_TIMEOUT) -> Any:
        """A server-streaming call's replies, failing over like `call` until the first one
        arrives (after that a failure is the caller's: it has already used some replies)."""
        last: grpc.RpcError | None = None
        for stub in self.stubs():
            replies = getattr(stub, method)(request, timeout=timeout)
            try:
                first = next(replies, None)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                last = error
                continue
            yield from [] if first is None else [first]
            yield from replies
            return
        assert last is not None
        raise last

    def explain(self, error: grpc.RpcError) -> str:
        """One line for a refused call: the code, HQ's message, and a hint where it helps."""
        seen = refusal(error)
        text = f"{seen.code.name}: {seen.message}"
        closed = "Socket closed" in seen.message or "handshake" in seen.message.lower()
        if seen.code is grpc.StatusCode.UNAVAILABLE and closed:
            text += f" ({TLS_HINT if self.tls is not None else PLAIN_HINT})"
        return text
