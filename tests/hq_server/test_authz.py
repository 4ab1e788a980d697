"""The authorization table covers every method HQ serves, and nothing else."""

from __future__ import annotations

from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from hq_server.authz import RULES
from protos.einvoice.v1 import admin_pb2, branch_pb2
from runtime import reflection
from runtime.guard import AtLeast, Enrollee, OwnBranch
from runtime.principal import Role


def methods(*descriptors: object) -> set[str]:
    return {
        f"/{service.full_name}/{method.name}"
        for descriptor in descriptors
        for service in descriptor.services_by_name.values()  # type: ignore[attr-defined]
        for method in service.methods
    }


def test_every_served_method_has_a_rule() -> None:
    served = methods(admin_pb2.DESCRIPTOR, branch_pb2.DESCRIPTOR, health_pb2.DESCRIPTOR)
    served |= methods(reflection_pb2.DESCRIPTOR) | set(reflection.METHODS)  # v1alpha and v1
    assert served - RULES.keys() == set()


def test_branch_methods_are_for_branches_and_admin_methods_need_a_role() -> None:
    for name, rule in RULES.items():
        if name.startswith("/einvoice.v1.BranchService/"):
            assert isinstance(rule, OwnBranch | Enrollee), name
        if name.startswith("/einvoice.v1.AdminService/"):
            assert isinstance(rule, AtLeast), name
    writes = {"AddAssignment", "SetQuota", "SetRangeStatus", "DisableBranch", "ImportE0501"}
    for method in writes:
        assert RULES[f"/einvoice.v1.AdminService/{method}"] == AtLeast(Role.OPERATOR)
    assert RULES["/einvoice.v1.AdminService/CreateEnrollToken"] == AtLeast(Role.ADMIN)
