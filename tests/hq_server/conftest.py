"""The in-process HQ fixtures live in tests/fixtures.py (a plugin of the root conftest)."""

from __future__ import annotations

from tests.fixtures import HqHandle

__all__ = ["HqHandle"]
