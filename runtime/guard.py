"""The one interceptor of every server: who calls, may they, not too often, errors as statuses.

For each call it reads the caller's identity from what TLS verified (`identify`), looks the
method up in the server's authorization table (method -> rule, one dict a reviewer reads on one
screen), charges the caller's rate-limit bucket, makes the identity available to the servicer
(`current_principal`) and turns every domain error the servicer raises into its status, with the
reason as ErrorInfo (`runtime.grpc_status`). A method missing from the table is refused. On a
stream of requests, each message is admitted as a call of its own (the method's rule, the field
checks, the rate limit), so a stream grants nothing its unary twin would not.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message

from allocator import DomainError
from runtime.errors import Forbidden, RateLimited, Unauthenticated
from runtime.fields import check_request
from runtime.grpc_status import abort
from runtime.principal import Kind, Principal, Role
from runtime.ratelimit import RateLimiter

log = logging.getLogger("einv.guard")
_CURRENT: contextvars.ContextVar[Principal] = contextvars.ContextVar("einv_principal")


def current_principal() -> Principal:
    """The caller of the RPC being served (set by the guard for the servicer's task)."""
    try:
        return _CURRENT.get()
    except LookupError:
        raise Unauthenticated("no authenticated caller for this call") from None


def authorize(rules: Mapping[str, Rule], method: str, principal: Principal, request: Any) -> None:
    """The guard's decision for one call, for shells that are not gRPC (the web back office)."""
    rule = rules.get(method)
    if rule is None:
        raise Forbidden(f"{method} has no authorization rule, so nobody may call it")
    rule.check(principal, request)


@contextlib.contextmanager
def acting_as(principal: Principal) -> Iterator[None]:
    """Run servicer code in-process as `principal` (what the guard sets for a gRPC call)."""
    token = _CURRENT.set(principal)
    try:
        yield
    finally:
        _CURRENT.reset(token)


class Rule(Protocol):
    def check(self, principal: Principal, request: Any) -> None:
        """Raise Forbidden unless `principal` may make this call (request may be None)."""


@dataclass(frozen=True, slots=True)
class Anyone:
    """Health checks: any caller the transport let in."""

    def check(self, principal: Principal, request: Any) -> None:
        return None


@dataclass(frozen=True, slots=True)
class AnyRole:
    """Any admin or branch identity (reflection: what the API looks like)."""

    def check(self, principal: Principal, request: Any) -> None:
        if principal.kind not in (Kind.ADMIN, Kind.BRANCH, Kind.INSECURE, Kind.WEB):
            raise Forbidden(f"{principal.actor} may not call this method")


@dataclass(frozen=True, slots=True)
class AtLeast:
    """Admins holding `role` or a higher one."""

    role: Role

    def check(self, principal: Principal, request: Any) -> None:
        if not principal.may(self.role):
            raise Forbidden(
                f"{principal.actor} may not do this: it needs the {self.role.label} role "
                "or a higher one"
            )


@dataclass(frozen=True, slots=True)
class OwnBranch:
    """A branch acting for the BAN of its own certificate (the request names it in `field`)."""

    field: str | None = None

    def check(self, principal: Principal, request: Any) -> None:
        if principal.kind is Kind.INSECURE:
            return
        if principal.kind is not Kind.BRANCH:
            raise Forbidden(f"{principal.actor} is not a branch: only branch agents call this")
        named = getattr(request, self.field) if self.field and request is not None else None
        if named and named != principal.ban:
            raise Forbidden(
                f"branch {principal.ban} may act only for itself, not for branch {named[:20]!r}"
            )


@dataclass(frozen=True, slots=True)
class OwnTerminal:
    """A POS terminal: by its certificate on the store LAN (the request may only repeat its
    id), or any local caller on loopback or the Unix socket (the id is the request's)."""

    field: str | None = None

    def check(self, principal: Principal, request: Any) -> None:
        if principal.kind is Kind.INSECURE:
            return
        if principal.kind is not Kind.TERMINAL:
            raise Forbidden(f"{principal.actor} is not a POS terminal of this store")
        named = getattr(request, self.field) if self.field and request is not None else None
        if named and named != principal.name:
            raise Forbidden(
                f"terminal {principal.name} may act only as itself, not as {named[:64]!r}"
            )


@dataclass(frozen=True, slots=True)
class Enrollee:
    """The holder of a one-time enrolment credential."""

    def check(self, principal: Principal, request: Any) -> None:
        if principal.kind not in (Kind.ENROLLEE, Kind.INSECURE):
            raise Forbidden(f"{principal.actor} holds no enrolment credential")


Identify = Callable[[grpc.aio.ServicerContext], Principal]


class Guard(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        rules: Mapping[str, Rule],
        identify: Identify,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rules = rules
        self._identify = identify
        self._limiter = limiter
        self._clock = clock
        # Each method's guarded handler, made at its first call (a server's handlers are all
        # registered before it starts) instead of for every call.
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        wrapped = self._wrapped.get(details.method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(details)
        if handler is None:
            return None  # type: ignore[return-value]  # unknown method: gRPC says UNIMPLEMENTED
        wrapped = self._wrapped[details.method] = self._wrap(handler, details.method)
        return wrapped

    def admit(self, method: str, context: grpc.aio.ServicerContext, request: Any) -> Principal:
        principal = self._identify(context)
        self._check(method, principal, request)
        return principal

    def _check(self, method: str, principal: Principal, request: Any) -> None:
        authorize(self._rules, method, principal, request)
        if isinstance(request, Message):
            check_request(request)
        if self._limiter is not None:
            wait = self._limiter.take(principal, self._clock())
            if wait > 0:
                raise RateLimited(
                    f"too many calls from {principal.actor}: retry in {wait:.2f} s", wait
                )

    def _enter(
        self, method: str, context: grpc.aio.ServicerContext, request: Any, streaming: bool
    ) -> Any:
        """Admit the call for its task: the request, or a stream's requests each admitted."""
        principal = self.admit(method, context, None if streaming else request)
        _CURRENT.set(principal)
        return self._each(method, principal, request) if streaming else request

    async def _each(
        self, method: str, principal: Principal, requests: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        """A stream's requests, each admitted as a call (its refusal ends the stream)."""
        async for request in requests:
            self._check(method, principal, request)
            yield request

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        kwargs = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method), **kwargs
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(handler.unary_stream, method), **kwargs
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(handler.stream_unary, method, streaming=True), **kwargs
            )
        return grpc.stream_stream_rpc_method_handler(
            self._unary_stream(handler.stream_stream, method, streaming=True), **kwargs
        )

    # The behaviours admit the caller for the call's task (each call runs in a task of its
    # own, with its own copy of the context) and end the call with the status of an error: a
    # try block in each (an async context manager cost more than the rest of the guard).

    def _unary(self, inner: Any, method: str, streaming: bool = False) -> Any:
        async def behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await inner(self._enter(method, context, request, streaming), context)
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                await _end(method, context, error)

        return behavior

    def _unary_stream(self, inner: Any, method: str, streaming: bool = False) -> Any:
        async def behavior(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async for item in inner(self._enter(method, context, request, streaming), context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                await _end(method, context, error)

        return behavior


async def _end(method: str, context: grpc.aio.ServicerContext, error: Exception) -> None:
    """End a call with the status of `error`: a domain error's own, else INTERNAL (logged)."""
    if isinstance(error, DomainError):
        await abort(context, error)
    else:
        log.error("%s failed", method, exc_info=error)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the server log")
