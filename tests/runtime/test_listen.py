"""Servers listen on loopback only unless the operator explicitly says otherwise."""

from __future__ import annotations

import pytest

from allocator import InvalidInput
from runtime.listen import require_loopback


@pytest.mark.parametrize("address", ["127.0.0.1:50061", "[::1]:50061", "localhost:1", "unix:/x"])
def test_loopback_addresses_need_no_flag(address: str) -> None:
    require_loopback(address, insecure_any=False)


@pytest.mark.parametrize("address", ["0.0.0.0:50061", "10.1.2.3:1", "[::]:5", "example.com:1"])
def test_other_addresses_need_the_insecure_flag(address: str) -> None:
    with pytest.raises(InvalidInput, match="--insecure-listen-any") as info:
        require_loopback(address, insecure_any=False)
    assert address in str(info.value)
    require_loopback(address, insecure_any=True)
