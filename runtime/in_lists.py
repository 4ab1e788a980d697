"""Bounded IN (...) lists: SQLite and PostgreSQL cap the parameters of one statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

IN_LIST_MAX = 500  # values per IN (...) list, well under SQLite's 32,766 parameters

T = TypeVar("T")


def in_batches(values: Sequence[T], size: int = IN_LIST_MAX) -> Iterator[Sequence[T]]:
    """`values` in consecutive slices of at most `size`, for one IN list each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
