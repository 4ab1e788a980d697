"""Who is calling: the identities a certificate can carry, as SPIFFE IDs, and the admin roles.

Every certificate the HQ's CA signs names its holder in one URI SAN (SPIFFE style), so the
servers read the identity from what TLS verified, never from a request field:

    spiffe://einv/branch/<BAN>                 a store's agent (統一編號 of the branch)
    spiffe://einv/admin/<role>/<name>          an HQ admin: viewer, operator or admin
    spiffe://einv/enrol/<BAN>/<token id>       a one-time enrolment credential of a branch
    spiffe://einv/hq                           an HQ replica (server certificate)
    spiffe://einv-pos/<BAN>/terminal/<id>      a POS terminal on the store LAN (the agent's CA)

The trust domain is the CA itself: another HQ's certificates fail the TLS handshake before any
of this is read.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from allocator import Ban, InvalidInput

TRUST_DOMAIN = "einv"
POS_TRUST_DOMAIN = "einv-pos"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_TOKEN_ID = re.compile(r"[0-9a-f]{16}")
_TERMINAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
RESERVED_NAMES = frozenset({"ca", "hq", "branch", "node"})


class Role(enum.IntEnum):
    """What an admin may do; each role may also do everything of the roles below it."""

    VIEWER = 1  # reads: pools, branches, usage, audit, reports' state
    OPERATOR = 2  # also changes: assignments, branches, quotas, range status, imports, reports
    ADMIN = 3  # also manages certificates and enrolment

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.upper()]
        except KeyError:
            raise InvalidInput(f"role {text!r} must be viewer, operator or admin") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Kind(enum.Enum):
    BRANCH = "branch"
    ADMIN = "admin"
    ENROLLEE = "enrol"
    HQ = "hq"
    TERMINAL = "terminal"
    WEB = "web"  # a back-office user logged in with a password (same roles as admins)
    SYSTEM = "system"  # the server itself (schedulers)
    INSECURE = "insecure"  # --insecure: nobody is authenticated, everything is allowed


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `actor` is what the audit log records."""

    kind: Kind
    name: str
    role: Role | None = None
    ban: str | None = None  # branches, enrollees and terminals: the branch they act for
    token_id: str | None = None  # enrollees: the one-time token their credential belongs to

    @property
    def actor(self) -> str:
        if self.kind in (Kind.ADMIN, Kind.WEB) and self.role is not None:
            return f"{self.kind.value}:{self.name} ({self.role.label})"
        return f"{self.kind.value}:{self.name}"

    def may(self, role: Role) -> bool:
        """Whether an admin (or a logged-in web user) holds `role` or a higher one."""
        if self.kind is Kind.INSECURE:
            return True
        return self.kind in (Kind.ADMIN, Kind.WEB) and self.role is not None and self.role >= role

    @property
    def spiffe_id(self) -> str:
        if self.kind is Kind.BRANCH:
            return f"spiffe://{TRUST_DOMAIN}/branch/{self.ban}"
        if self.kind is Kind.ADMIN and self.role is not None:
            return f"spiffe://{TRUST_DOMAIN}/admin/{self.role.label}/{self.name}"
        if self.kind is Kind.ENROLLEE:
            return f"spiffe://{TRUST_DOMAIN}/enrol/{self.ban}/{self.token_id}"
        if self.kind is Kind.HQ:
            return f"spiffe://{TRUST_DOMAIN}/hq"
        if self.kind is Kind.TERMINAL:
            return f"spiffe://{POS_TRUST_DOMAIN}/{self.ban}/terminal/{self.name}"
        raise InvalidInput(f"{self.actor} has no certificate identity")


def branch(ban: str) -> Principal:
    return Principal(Kind.BRANCH, Ban.parse(ban).value, ban=Ban.parse(ban).value)


def admin(name: str, role: Role) -> Principal:
    return Principal(Kind.ADMIN, admin_name(name), role=role)


def enrollee(ban: str, token_id: str) -> Principal:
    if not _TOKEN_ID.fullmatch(token_id):
        raise InvalidInput(f"enrolment token id {token_id[:40]!r} must be 16 hex digits")
    value = Ban.parse(ban).value
    return Principal(Kind.ENROLLEE, f"{value}/{token_id}", ban=value, token_id=token_id)


def terminal(ban: str, terminal_id: str) -> Principal:
    return Principal(Kind.TERMINAL, terminal_name(terminal_id), ban=Ban.parse(ban).value)


HQ = Principal(Kind.HQ, "hq")
INSECURE = Principal(Kind.INSECURE, "loopback")
SCHEDULER = Principal(Kind.SYSTEM, "scheduler")


def admin_name(name: str) -> str:
    """Admin and web user names: lower-case letters, digits, '.', '_', '-'; up to 63."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in RESERVED_NAMES:
        shown = name[:40] if isinstance(name, str) else name
        raise InvalidInput(
            f"user name {shown!r} must be 1..63 lower-case letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit, and not one of {sorted(RESERVED_NAMES)}"
        )
    return name


def terminal_name(terminal_id: str) -> str:
    if not isinstance(terminal_id, str) or not _TERMINAL.fullmatch(terminal_id):
        shown = terminal_id[:40] if isinstance(terminal_id, str) else terminal_id
        raise InvalidInput(f"terminal id {shown!r} must be 1..64 letters, digits, '.', '_' or '-'")
    return terminal_id


def from_spiffe_id(uri: str) -> Principal:
    """The principal a verified certificate's SPIFFE ID names; InvalidInput if none."""
    prefix = "spiffe://"
    if not uri.startswith(prefix):
        raise InvalidInput(f"identity {uri[:80]!r} is not a SPIFFE ID")
    domain, _, path = uri[len(prefix) :].partition("/")
    parts = path.split("/")
    try:
        if domain == TRUST_DOMAIN:
            return _einv(parts)
        if domain == POS_TRUST_DOMAIN and len(parts) == 3 and parts[1] == "terminal":
            return terminal(parts[0], parts[2])
    except InvalidInput as error:
        raise InvalidInput(f"identity {uri[:80]!r}: {error}") from None
    raise InvalidInput(f"identity {uri[:80]!r} names no einv principal")


def _einv(parts: list[str]) -> Principal:
    match parts:
        case ["branch", ban]:
            return branch(ban)
        case ["admin", role, name]:
            return admin(name, Role.parse(role))
        case ["enrol", ban, token_id]:
            return enrollee(ban, token_id)
        case ["hq"]:
            return HQ
    raise InvalidInput("unknown path")
