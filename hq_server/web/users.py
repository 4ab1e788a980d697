"""Back-office users: the use cases behind AddUser, SetPassword, ListUsers and the login.

Each function runs inside the caller's transaction and takes `now` from it. Hashing is slow
on purpose, so callers hash (or verify) outside the transaction and pass the result in. The
session key is kept here too: made at the first start, shared by every replica.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from allocator import AlreadyExists, NotFound
from hq_server import audit
from hq_server.schema import hq_settings, web_users
from hq_server.web import sessions
from runtime.principal import Kind, Principal, Role, admin_name

LOCK_AFTER = 5  # the fifth failed attempt in a row locks the account
LOCK_FOR = timedelta(minutes=15)
SESSION_KEY = "web_session_key"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    password_hash: str
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    password_changed_at: datetime

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def principal(self) -> Principal:
        return Principal(Kind.WEB, self.name, role=self.role)


def _user(row: Row[Any]) -> User:
    return User(
        row.name,
        Role.parse(row.role),
        row.password_hash,
        row.failed_attempts,
        row.locked_until,
        row.created_at,
        row.password_changed_at,
    )


def find_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(web_users).where(web_users.c.name == name)).first()
    return None if row is None else _user(row)


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(web_users).order_by(web_users.c.name))]


def add_user(
    conn: Connection, now: datetime, actor: str, name: str, role: Role, password_hash: str
) -> User:
    admin_name(name)
    if find_user(conn, name) is not None:
        raise AlreadyExists(f"back-office user {name} exists: einv-admin users passwd changes it")
    conn.execute(
        insert(web_users).values(
            name=name,
            role=role.label,
            password_hash=password_hash,
            failed_attempts=0,
            locked_until=None,
            created_at=now,
            password_changed_at=now,
        )
    )
    audit.append(conn, now, actor, "add_web_user", name=name, role=role.label)
    return _must(conn, name)


def set_password(
    conn: Connection, now: datetime, actor: str, name: str, password_hash: str
) -> User:
    """A new password (ends the user's sessions, lifts a lock-out)."""
    changed = conn.execute(
        update(web_users)
        .where(web_users.c.name == name)
        .values(
            password_hash=password_hash,
            failed_attempts=0,
            locked_until=None,
            password_changed_at=now,
        )
    )
    if changed.rowcount == 0:
        raise NotFound(f"no back-office user {name!r} (einv-admin users list)")
    audit.append(conn, now, actor, "set_web_password", name=name)
    return _must(conn, name)


def record_login(conn: Connection, now: datetime, name: str, succeeded: bool) -> User | None:
    """After a password check: a success clears the failures, a failure counts, the
    LOCK_AFTER-th in a row locks the account for LOCK_FOR (and is audited)."""
    user = find_user(conn, name)
    if user is None:
        return None
    if succeeded:
        if user.failed_attempts:
            conn.execute(
                update(web_users).where(web_users.c.name == name).values(failed_attempts=0)
            )
        return _must(conn, name)
    failures = user.failed_attempts + 1
    values: dict[str, Any] = {"failed_attempts": failures}
    if failures >= LOCK_AFTER:
        values["locked_until"] = now + LOCK_FOR
        audit.append(
            conn,
            now,
            user.principal.actor,
            "web_user_locked",
            name=name,
            failed_attempts=failures,
            until=(now + LOCK_FOR).isoformat(),
        )
    conn.execute(update(web_users).where(web_users.c.name == name).values(**values))
    return _must(conn, name)


def session_key(conn: Connection) -> bytes | None:
    row = conn.execute(select(hq_settings.c.value).where(hq_settings.c.key == SESSION_KEY)).first()
    return None if row is None else base64.b64decode(row.value)


def ensure_session_key(conn: Connection) -> bytes:
    """The HQ's session key, made on the first call (inside the fenced transaction)."""
    found = session_key(conn)
    if found is not None:
        return found
    key = sessions.new_key()
    conn.execute(insert(hq_settings).values(key=SESSION_KEY, value=base64.b64encode(key).decode()))
    return key


def _must(conn: Connection, name: str) -> User:
    found = find_user(conn, name)
    if found is None:
        raise NotFound(f"no back-office user {name!r}")
    return found
