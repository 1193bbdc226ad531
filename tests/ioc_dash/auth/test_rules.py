"""Pure auth logic: roles, the password policy and hashing, the login rate limit, tokens."""
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

from ioc_dash.auth.passwords import Passwords, check_name, check_password
from ioc_dash.auth.ratelimit import Limit, Verdict, login_verdict, verdict
from ioc_dash.auth.roles import ROLES, Principal, can, check_role, require
from ioc_dash.auth.tokens import new_token, session_hash, session_key, wall_hash
from streams.core.errors import AuthError, ConfigError, Forbidden
from streams.core.settings import Settings

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.mark.parametrize("role, view, act, drills", [
    ("viewer", True, False, False), ("operator", True, True, False), ("admin", True, True, True)])
def test_roles_matrix(role, view, act, drills):
    p = Principal("an", role)
    assert (can(p, "view"), can(p, "alerts.act"), can(p, "drills.run"), can(p, "users.manage")) == \
        (view, act, drills, drills)


def test_a_wall_token_only_views_and_nobody_is_anonymous():
    wall = Principal("wall:hall", "admin", kind="wall")  # even a wrong role stored for a wall cannot act
    assert can(wall, "view") and not can(wall, "alerts.act")
    assert not can(None, "view")
    with pytest.raises(Forbidden, match=r"anonymous \(none\) may not view"):
        require(None, "view")
    with pytest.raises(Forbidden) as err:
        require(Principal("lan", "viewer"), "alerts.act")
    assert err.value.permission == "alerts.act" and err.value.role == "viewer"
    assert require(Principal("an", "operator"), "alerts.act").name == "an"
    with pytest.raises(ValueError, match="unknown permission"):
        can(wall, "alerts.delete")
    assert check_role("operator") == "operator" and ROLES == ("viewer", "operator", "admin")
    with pytest.raises(AuthError, match="unknown role 'root'"):
        check_role("root")


def test_names_and_password_policy():
    assert check_name("  Nguyen.An@IOC ") == "nguyen.an@ioc"
    for bad in ("a", "-an", "an toàn", "x" * 65, ""):
        with pytest.raises(AuthError):
            check_name(bad)
    with pytest.raises(AuthError, match="at least 10"):
        check_password("an", "short")
    with pytest.raises(AuthError, match="user name"):
        check_password("operator01", "Operator01")
    assert check_password("an", "a long enough passphrase") == "a long enough passphrase"


def test_argon2_hashes_verify_and_upgrade():
    pw = Passwords(FAST)
    stored = pw.hash("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert pw.verify(stored, "correct horse battery") == (True, None)
    assert pw.verify(stored, "wrong horse battery") == (False, None)
    assert pw.verify(None, "correct horse battery") == (False, None)  # unknown user: same work, no match
    assert pw.verify("not a hash", "x") == (False, None)
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1))
    ok, rehashed = stronger.verify(stored, "correct horse battery")
    assert ok and rehashed and "t=2" in rehashed  # old parameters: a new hash to store


def _ago(*seconds):
    return [NOW - timedelta(seconds=s) for s in seconds]


def test_rate_limit_counts_failures_in_a_sliding_window():
    limit = Limit(5, timedelta(minutes=5))
    assert verdict(_ago(10, 20, 30, 40), NOW, limit) == Verdict(True)
    assert verdict(_ago(10, 20, 30, 40, 400), NOW, limit).allowed  # one is outside the window
    blocked = verdict(_ago(10, 20, 30, 40, 50), NOW, limit)
    assert not blocked.allowed and blocked.retry_after == 250  # when the oldest of the five leaves
    many = verdict(_ago(1, 2, 3, 4, 5, 6, 7, 299), NOW, limit)
    assert many.retry_after == 295  # the fifth most recent decides
    by_address = login_verdict(_ago(10), _ago(10, 20, 30, 40, 100), NOW, limit)
    assert not by_address.allowed and by_address.retry_after == 200
    assert login_verdict([], [], NOW, limit).allowed


def test_tokens_and_their_hashes():
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 40
    assert session_hash(b"k" * 32, a) != session_hash(b"j" * 32, a)  # a new key ends every session
    assert wall_hash(a) == wall_hash(a) and wall_hash(a) != session_hash(b"k" * 32, a)


def test_session_key_from_settings_or_generated_once(tmp_path):
    assert session_key(Settings(dash_session_key="s" * 40, run_dir=tmp_path)) == b"s" * 40
    with pytest.raises(ConfigError, match="too short"):
        session_key(Settings(dash_session_key="short", run_dir=tmp_path))
    settings = Settings(run_dir=tmp_path / "run")
    first = session_key(settings)
    assert len(first) >= 48 and session_key(settings) == first
    key_file = tmp_path / "run" / "dash_session_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert "k" * 40 not in repr(Settings(dash_session_key="k" * 40))  # a secret: masked
