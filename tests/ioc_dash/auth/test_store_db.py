"""Users, sessions, wall tokens and login attempts in the real database."""
from datetime import timedelta

import pytest

from ioc_dash.auth.ratelimit import Limit
from ioc_dash.auth.tokens import session_hash
from streams.core.errors import AuthError, LoginRateLimited

PASSWORD = "a long enough passphrase"
KEY = b"k" * 32


def test_users_are_added_hashed_listed_and_audited(users, uniq, db):
    name = uniq("an")
    row = users.add_user(name.upper(), "operator", PASSWORD, actor="cli:test")
    assert row["name"] == name and row["role"] == "operator"
    stored = db.execute("SELECT password_hash FROM users WHERE name = %s", (name,)).fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert name in [u["name"] for u in users.users()]
    with pytest.raises(AuthError, match="exists already"):
        users.add_user(name, "viewer", PASSWORD, actor="cli:test")
    with pytest.raises(AuthError, match="at least 10"):
        users.add_user(uniq("bo"), "viewer", "short", actor="cli:test")
    users.set_role(name, "admin", actor="cli:test")
    with pytest.raises(AuthError, match="no user named"):
        users.set_role("nobody-here", "admin", actor="cli:test")
    kinds = [e["kind"] for e in users.events(50) if e["subject"] == name]
    assert kinds == ["role_set", "user_added"]


def test_login_sessions_and_disabling(users, uniq):
    name, address = uniq("op"), uniq("10.0.0")
    users.add_user(name, "operator", PASSWORD, actor="t")
    p = users.login(name, PASSWORD, address=address, user_agent="pytest")
    assert (p.name, p.role, p.kind) == (name, "operator", "user")
    with pytest.raises(AuthError, match="wrong user name or password"):
        users.login(name, "not the password", address=address)
    with pytest.raises(AuthError, match="wrong user name or password"):  # the same words for an unknown user
        users.login(uniq("ghost"), PASSWORD, address=address)
    h = session_hash(KEY, "cookie-token-" + name)
    users.start_session(p, h, idle_s=60, address=address)
    assert users.session_principal(h, idle_s=60) == p
    assert users.session_principal(session_hash(KEY, "other"), idle_s=60) is None
    users.set_disabled(name, True, actor="admin")  # ends its sessions and refuses new ones
    assert users.session_principal(h, idle_s=60) is None
    with pytest.raises(AuthError):
        users.login(name, PASSWORD, address=uniq("10.0.1"))
    outcomes = [a["outcome"] for a in users.attempts(200) if a["username"] == name]
    assert outcomes == ["disabled", "bad_password", "ok"]


def test_sessions_expire_when_idle(users, uniq, db):
    name = uniq("vi")
    users.add_user(name, "viewer", PASSWORD, actor="t")
    p = users.login(name, PASSWORD, address="127.0.0.9")
    h = session_hash(KEY, name)
    users.start_session(p, h, idle_s=60)
    db.execute("UPDATE user_session SET expires_at = now() - interval '1 second' WHERE token_hash = %s", (h,))
    assert users.session_principal(h, idle_s=60) is None
    users.end_session(h, actor=name)
    assert db.execute("SELECT count(*) FROM user_session WHERE token_hash = %s", (h,)).fetchone()[0] == 0


def test_failed_logins_are_limited_per_user_and_per_address(users, uniq):
    limit = Limit(3, timedelta(minutes=5))
    name = uniq("target")
    users.add_user(name, "admin", PASSWORD, actor="t")
    for i in range(3):  # from three addresses: the user's count reaches the limit
        with pytest.raises(AuthError):
            users.login(name, "guess number %d" % i, address=f"{name}-{i}", limit=limit)
    with pytest.raises(LoginRateLimited) as err:  # even the right password waits now
        users.login(name, PASSWORD, address="198.51.100.7", limit=limit)
    assert 290 < err.value.retry_after <= 300
    sprayer = uniq("203.0.113")
    for i in range(3):  # one address trying three users
        with pytest.raises(AuthError):
            users.login(uniq("user"), "x" * 12, address=sprayer, limit=limit)
    other = uniq("fine")
    users.add_user(other, "viewer", PASSWORD, actor="t")
    with pytest.raises(LoginRateLimited):
        users.login(other, PASSWORD, address=sprayer, limit=limit)
    assert users.login(other, PASSWORD, address=uniq("192.0.2"), limit=limit).name == other
    limited = [a for a in users.attempts(200) if a["outcome"] == "rate_limited" and a["username"] in (name, other)]
    assert len(limited) == 2  # refused attempts are audited too


def test_wall_tokens_view_until_revoked(users, uniq):
    name = uniq("wall")
    token = users.create_wall_token(name, actor="cli:test")
    p = users.wall_principal(token)
    assert p.kind == "wall" and p.name == f"wall:{name}" and p.role == "viewer"
    assert users.wall_principal(token + "x") is None
    with pytest.raises(AuthError, match="exists already"):
        users.create_wall_token(name, actor="cli:test")
    listed = {t["name"]: t for t in users.wall_tokens()}
    assert listed[name]["last_used_at"] is not None and "token_hash" not in listed[name]
    users.revoke_wall_token(name, actor="cli:test")
    assert users.wall_principal(token) is None
    assert users.create_wall_token(name, actor="cli:test") != token  # the name is free again
    with pytest.raises(AuthError, match="no active wall token"):
        users.revoke_wall_token(uniq("none"), actor="cli:test")
