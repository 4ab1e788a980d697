"""Signed session tokens and CSRF tokens: HMAC-SHA256 with the HQ's session key.

The key lives in the HQ database (hq_settings, made at the first start), so every replica
verifies every token and a restart logs nobody out. A token names the user, a random session
id and its issue and expiry instants; the server still reads the user's row on every request
(role, lock-out, a password changed after the token was issued ends the session).
A CSRF token is the HMAC of the session id: bound to the session, checked on every POST.
Time is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SESSION_LIFETIME = timedelta(hours=8)
MAX_TOKEN = 1024
CLOCK_SLACK = timedelta(minutes=5)  # replicas' clocks may differ a little


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    sid: str
    issued_at: datetime
    expires_at: datetime


def new_session(user: str, now: datetime, lifetime: timedelta = SESSION_LIFETIME) -> Session:
    return Session(user, secrets.token_hex(16), now, now + lifetime)


def sign(key: bytes, session: Session) -> str:
    payload = json.dumps(
        {
            "u": session.user,
            "s": session.sid,
            "i": int(session.issued_at.timestamp()),
            "e": int(session.expires_at.timestamp()),
        },
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, b'session:' + payload))}"


def verify(key: bytes, token: str, now: datetime) -> Session | None:
    """The session a token carries, or None if it is forged, malformed or expired."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    try:
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(mac), _mac(key, b"session:" + payload)):
            return None
        data = json.loads(payload)
        session = Session(
            str(data["u"]),
            str(data["s"]),
            datetime.fromtimestamp(int(data["i"]), UTC),
            datetime.fromtimestamp(int(data["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError):
        return None
    fresh = session.issued_at <= now + CLOCK_SLACK and now < session.expires_at
    return session if fresh else None


def csrf_token(key: bytes, sid: str) -> str:
    return _b64(_mac(key, b"csrf:" + sid.encode()))


def csrf_ok(key: bytes, sid: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(key, sid), str(given))


def new_key() -> bytes:
    return secrets.token_bytes(32)


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
