"""The pages' one way to the data: the AdminService servicer, in-process, under the same table.

Each call is decided by `hq_server.authz.RULES` for the logged-in user exactly as the guard
decides a gRPC call, then runs as that user (`acting_as`), so the audit log names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allocator import DomainError
from hq_server.app import Hq
from hq_server.authz import ADMIN, RULES
from hq_server.grpc_admin import AdminServicer
from runtime.guard import Rule, acting_as, authorize
from runtime.principal import Principal


class Api:
    def __init__(self, hq: Hq, rules: Mapping[str, Rule] = RULES) -> None:
        self.servicer = AdminServicer(hq)
        self.rules = rules

    def may(self, principal: Principal, method: str, request: Any = None) -> None:
        """Raise Forbidden unless `principal` may call `method` (nothing is called)."""
        authorize(self.rules, ADMIN + method, principal, request)

    async def call(self, principal: Principal, method: str, request: Any) -> Any:
        self.may(principal, method, request)
        with acting_as(principal):
            return await getattr(self.servicer, method)(request, None)

    def allowed(self, principal: Principal, method: str) -> bool:
        try:
            self.may(principal, method)
        except DomainError:
            return False
        return True
