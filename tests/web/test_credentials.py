"""The pure parts of the login: password hashes, session tokens, CSRF tokens, the lock-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from allocator import InvalidInput
from hq_server.schema import audit
from hq_server.store import Store
from hq_server.web import passwords, sessions, users
from hq_server.web.app import safe_next
from runtime.principal import Role

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
KEY = b"k" * 32
FAST = passwords.Cost(n=2**10, r=8, p=1)  # the same code at a lower cost, for speed


def test_a_hash_verifies_its_password_only() -> None:
    stored = passwords.hash_password("correct horse battery", FAST)
    scheme, n, r, p, _salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")  # the parameters travel with it
    assert passwords.verify_password("correct horse battery", stored)
    assert not passwords.verify_password("correct horse batterY", stored)
    assert not passwords.verify_password("correct horse battery", stored.replace(key, "AAAA"))
    assert not passwords.verify_password("x", "md5$whatever")
    assert not passwords.verify_password("x", passwords.DUMMY_HASH)


def test_every_hash_has_its_own_salt() -> None:
    one, two = (passwords.hash_password("the same password", FAST) for _ in range(2))
    assert one != two
    assert passwords.hash_password("the same password", FAST, salt=b"s" * 16) == (
        passwords.hash_password("the same password", FAST, salt=b"s" * 16)
    )


@pytest.mark.parametrize("bad", ["short", " leading space!", "x" * 1025])
def test_the_password_policy(bad: str) -> None:
    with pytest.raises(InvalidInput):
        passwords.hash_password(bad, FAST)


def test_a_session_token_is_signed_and_expires() -> None:
    session = sessions.new_session("alice", NOW)
    token = sessions.sign(KEY, session)
    assert sessions.verify(KEY, token, NOW + timedelta(hours=1)) == replace(
        session, issued_at=NOW, expires_at=NOW + sessions.SESSION_LIFETIME
    )
    assert sessions.verify(KEY, token, NOW + sessions.SESSION_LIFETIME) is None  # expired
    assert sessions.verify(b"another key" * 3, token, NOW) is None  # another HQ's
    body, mac = token.split(".")
    forged = sessions.sign(KEY, replace(session, user="root")).split(".")[0] + "." + mac
    assert sessions.verify(KEY, forged, NOW) is None
    for junk in ("", "a.b", "....", "x" * 5000, body):
        assert sessions.verify(KEY, junk, NOW) is None


def test_a_csrf_token_is_bound_to_its_session() -> None:
    one, two = sessions.new_session("alice", NOW), sessions.new_session("alice", NOW)
    token = sessions.csrf_token(KEY, one.sid)
    assert sessions.csrf_ok(KEY, one.sid, token)
    assert not sessions.csrf_ok(KEY, two.sid, token)
    assert not sessions.csrf_ok(KEY, one.sid, None)
    assert not sessions.csrf_ok(KEY, one.sid, "")


@pytest.mark.parametrize(
    ("given", "safe"),
    [("/branches?page=2", "/branches?page=2"), ("//evil.example/x", "/pools"),
     ("https://evil.example", "/pools"), ("/\\\\evil", "/pools"), (None, "/pools")],
)  # fmt: skip
def test_after_login_only_a_path_of_this_site(given: str | None, safe: str) -> None:
    assert safe_next(given) == safe


def test_the_fifth_failure_locks_and_a_new_password_unlocks(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    token = store.take_office("test", NOW)
    digest = passwords.hash_password("correct horse battery", FAST)
    try:
        store.write_sync(
            token,
            lambda c: users.add_user(c, NOW, "admin:root (admin)", "alice", Role.VIEWER, digest),
        )
        for attempt in range(1, 5):
            after = store.write_sync(token, lambda c: users.record_login(c, NOW, "alice", False))
            assert after.failed_attempts == attempt and not after.locked(NOW)
        after = store.write_sync(token, lambda c: users.record_login(c, NOW, "alice", False))
        assert after.locked(NOW) and after.locked(NOW + users.LOCK_FOR - timedelta(seconds=1))
        assert not after.locked(NOW + users.LOCK_FOR)
        store.write_sync(
            token, lambda c: users.set_password(c, NOW, "admin:root (admin)", "alice", digest)
        )
        again = store.read_sync(lambda c: users.find_user(c, "alice"))
        assert again is not None and again.failed_attempts == 0 and not again.locked(NOW)
        actions = store.read_sync(lambda c: [r.action for r in c.execute(select(audit))])
        assert actions == ["add_web_user", "web_user_locked", "set_web_password"]
        key = store.write_sync(token, users.ensure_session_key)
        assert store.write_sync(token, users.ensure_session_key) == key and len(key) == 32
    finally:
        store.close()
