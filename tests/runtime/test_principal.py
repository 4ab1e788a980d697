"""Identities as SPIFFE IDs: every principal survives the round trip; malformed ones are refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator import InvalidInput
from runtime import principal
from runtime.principal import Kind, Role
from tests.conftest import BRANCH_BANS

NAMES = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True).filter(
    lambda n: n not in principal.RESERVED_NAMES
)


@given(NAMES, st.sampled_from(list(Role)))
def test_admins_round_trip(name: str, role: Role) -> None:
    who = principal.admin(name, role)
    assert principal.from_spiffe_id(who.spiffe_id) == who


@pytest.mark.parametrize("ban", BRANCH_BANS)
def test_branches_enrollees_and_terminals_round_trip(ban: str) -> None:
    for who in (
        principal.branch(ban),
        principal.enrollee(ban, "0123456789abcdef"),
        principal.terminal(ban, "till-3"),
    ):
        assert principal.from_spiffe_id(who.spiffe_id) == who
    assert principal.from_spiffe_id("spiffe://einv/hq") == principal.HQ


@pytest.mark.parametrize(
    "uri",
    [
        "https://einv/branch/04595257",
        "spiffe://other/branch/04595257",
        "spiffe://einv/branch/04595258",  # check digit
        "spiffe://einv/admin/root/alice",  # no such role
        "spiffe://einv/admin/admin/Alice",  # upper case
        "spiffe://einv/admin/admin/ca",  # reserved
        "spiffe://einv/enrol/04595257/xyz",
        "spiffe://einv/branch/04595257/extra",
        "spiffe://einv-pos/04595257/terminal/bad id",
    ],
)
def test_malformed_identities_are_refused(uri: str) -> None:
    with pytest.raises(InvalidInput):
        principal.from_spiffe_id(uri)


def test_roles_are_ordered_and_insecure_may_do_everything() -> None:
    viewer, operator = principal.admin("v", Role.VIEWER), principal.admin("o", Role.OPERATOR)
    assert viewer.may(Role.VIEWER) and not viewer.may(Role.OPERATOR)
    assert operator.may(Role.VIEWER) and operator.may(Role.OPERATOR)
    assert not operator.may(Role.ADMIN)
    assert not principal.branch(BRANCH_BANS[0]).may(Role.VIEWER)
    assert principal.INSECURE.kind is Kind.INSECURE and principal.INSECURE.may(Role.ADMIN)
    assert operator.actor == "admin:o (operator)"
