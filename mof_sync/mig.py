"""MIG message types, versions and namespaces.

Documents are read whatever their version (the namespace's last segment); they are written in
MIG 4.1 unless 4.0 is asked for. MIG 4.0 and 4.1 differ only in the namespace.
"""

from __future__ import annotations

import enum
import re

_VERSION = re.compile(r"\d+\.\d+")


class MigVersion(enum.Enum):
    """The MIG version a document is written in: 4.1 is what the tax bureaus ask for from 2026."""

    V4_0 = "4.0"
    V4_1 = "4.1"

    @classmethod
    def parse(cls, text: str) -> MigVersion:
        for member in cls:
            if member.value == text:
                return member
        raise ValueError(f"MIG version {text!r} is not one of 4.0, 4.1")


DEFAULT_VERSION = MigVersion.V4_1


class MessageType(enum.Enum):
    """The three allocation messages: branch allocations, blank ranges, MOF assignment."""

    E0401 = "E0401"
    E0402 = "E0402"
    E0501 = "E0501"

    @property
    def root(self) -> str:
        return _ROOTS[self]

    @property
    def namespace_base(self) -> str:
        # E0501 has no eInvoiceMessage segment (MIG 4.0 XSD): urn:GEINV:E0501:4.0.
        if self is MessageType.E0501:
            return "urn:GEINV:E0501"
        return f"urn:GEINV:eInvoiceMessage:{self.value}"

    def namespace(self, version: MigVersion) -> str:
        return f"{self.namespace_base}:{version.value}"


_ROOTS = {
    MessageType.E0401: "BranchTrack",
    MessageType.E0402: "BranchTrackBlank",
    MessageType.E0501: "InvoiceAssignNo",
}

ENVELOPE_ROOT = "InvoiceEnvelope"
ENVELOPE_NAMESPACE_BASE = "urn:GEINV:InvoiceEnvelope"


def namespace_version(namespace: str | None, base: str) -> str | None:
    """The version segment when `namespace` is `<base>:<version>`, else None."""
    if namespace is None or not namespace.startswith(base + ":"):
        return None
    version = namespace[len(base) + 1 :]
    return version if _VERSION.fullmatch(version) else None
