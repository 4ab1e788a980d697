"""Errors of MOF sync: a MIG document that breaks a rule, and a hand-off the tracker refuses.

`MigError` is an `InvalidInput`, so the gRPC layer maps it like every other bad value; its
message always names the file, the element path inside it and the problem, because the person
who reads it has to find the spot in an XML file they did not write.
"""

from __future__ import annotations

from allocator.errors import InvalidInput, Refused


class MigError(InvalidInput):
    """A MIG document (read or about to be written) that is malformed or breaks a rule."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path}: {problem}")


class UnsafeXml(MigError):
    """A document with a DOCTYPE: entity declarations could expand (XML bomb) or read files."""


class AlreadySent(Refused):
    """A key already handed to Turnkey: only an explicit correction (next revision) may follow."""
