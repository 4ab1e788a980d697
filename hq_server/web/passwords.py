"""Password hashes: scrypt (stdlib) with a random salt, the parameters kept with the hash.

    scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>

A hash made with other parameters still verifies (they are read back from it), so they can be
raised later without locking anyone out. Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from allocator import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Cost:
    n: int = 2**14  # 16 MiB of memory per hash (128 * n * r bytes), ~50 ms here
    r: int = 8
    p: int = 1


DEFAULT = Cost()
KEY_BYTES = 32


def check_policy(password: str) -> None:
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters")
    if password.strip() != password:
        raise InvalidInput("a password must not start or end with white space")


def hash_password(password: str, cost: Cost = DEFAULT, salt: bytes | None = None) -> str:
    check_policy(password)
    salt = secrets.token_bytes(16) if salt is None else salt
    key = _derive(password, salt, cost)
    return "$".join(["scrypt", str(cost.n), str(cost.r), str(cost.p), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        found = _derive(
            password, base64.b64decode(salt, validate=True), Cost(int(n), int(r), int(p))
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


# Verifying a user that does not exist takes as long as one that does.
DUMMY_HASH = "scrypt$16384$8$1$" + "A" * 22 + "==$" + "A" * 43 + "="


def _derive(password: str, salt: bytes, cost: Cost) -> bytes:
    return hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=256 * 1024 * 1024,
        dklen=KEY_BYTES,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
