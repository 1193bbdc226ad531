"""``ioc users …`` through ``streams.cli.main.main`` against the real database."""
import uuid

import pytest

from ioc_dash.auth.store import UserStore
from streams.cli import users as cli_users
from streams.cli.main import main
from tests.ioc_dash.conftest import FAST_PASSWORDS, PASSWORD, ioc_runner


@pytest.fixture
def ioc(test_settings, monkeypatch, capsys):
    return ioc_runner(test_settings.dsn, monkeypatch, capsys, "users")


def test_create_admin_from_stdin_then_manage_users(ioc, test_settings):
    admin, op = f"admin-{uuid.uuid4().hex[:6]}", f"op-{uuid.uuid4().hex[:6]}"
    assert ioc("create-admin", "--name", admin, "--password-stdin", stdin=PASSWORD + "\n")[:2] == \
        (0, f"users: {admin} added as admin\n")
    assert ioc("add", "--name", op, "--role", "operator", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    code, out, _ = ioc("list")
    assert code == 0 and f"{admin:24} admin" in out and f"{op:24} operator  active" in out
    assert ioc("set-role", "--name", op, "--role", "viewer")[1] == f"users: {op} is now viewer\n"
    assert ioc("disable", "--name", op)[1] == f"users: {op} disabled; its sessions ended\n"
    assert f"{op:24} viewer    disabled" in ioc("list")[1]
    assert ioc("enable", "--name", op)[0] == 0
    assert ioc("set-password", "--name", op, "--password-stdin", stdin="another long passphrase\n")[0] == 0
    users = UserStore(test_settings.dsn, FAST_PASSWORDS)
    assert users.login(op, "another long passphrase", address="127.0.0.5").role == "viewer"
    audit = ioc("audit", "--limit", "20")[1]
    assert f"user_added           {admin}" in audit and f"sign-in ok            {op}" in audit
    assert "another long passphrase" not in audit and PASSWORD not in audit


def test_errors_print_one_line_and_exit_1(ioc):
    name = f"x-{uuid.uuid4().hex[:6]}"
    assert ioc("add", "--name", name, "--role", "viewer", "--password-stdin", stdin="short\n")[::2] == \
        (1, "AuthError: password too short: at least 10 characters\n")
    assert ioc("create-admin", "--name=-bad", "--password-stdin", stdin=PASSWORD + "\n")[0] == 1
    assert ioc("set-role", "--name", "nobody-at-all", "--role", "admin")[2] == \
        "AuthError: no user named 'nobody-at-all'\n"
    assert ioc("create-admin", "--name", name, "--password-stdin", stdin="\n")[2] == "AuthError: no password on stdin\n"
    with pytest.raises(SystemExit):  # argparse: a role outside the three
        main(["users", "add", "--name", name, "--role", "root"])


def test_create_admin_asks_twice_on_the_terminal(ioc, monkeypatch):
    name = f"adm-{uuid.uuid4().hex[:6]}"
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr(cli_users.getpass, "getpass", lambda prompt="": next(answers))
    assert ioc("create-admin", "--name", name)[2] == "AuthError: the two passwords differ; nothing changed\n"
    answers = iter([PASSWORD, PASSWORD])
    assert ioc("create-admin", "--name", name)[0] == 0


def test_wall_tokens_are_shown_once_and_revoked(ioc, test_settings):
    name = f"wall-{uuid.uuid4().hex[:6]}"
    code, out, _ = ioc("wall-token", "create", "--name", name, "--port", "8099")
    token = out.splitlines()[1]
    assert code == 0 and f"http://127.0.0.1:8099/wall?token={token}" in out
    users = UserStore(test_settings.dsn)
    assert users.wall_principal(token).name == f"wall:{name}"
    listed = ioc("wall-token", "list")[1]
    assert name in listed and "active" in listed and token not in listed
    assert ioc("wall-token", "revoke", "--name", name)[1] == f"wall token {name} revoked\n"
    assert users.wall_principal(token) is None
    assert ioc("wall-token", "revoke", "--name", name)[0] == 1


def test_the_demo_gets_a_fresh_wall_token_each_time(test_settings):
    first = cli_users.demo_wall_url(test_settings, name="demo-test")
    second = cli_users.demo_wall_url(test_settings, name="demo-test")
    users = UserStore(test_settings.dsn)
    assert second.startswith("http://127.0.0.1:8050/wall?token=")
    assert users.wall_principal(first.split("token=")[1]) is None  # the previous one is revoked
    assert users.wall_principal(second.split("token=")[1]).name == "wall:demo-test"
