"""``ioc users``: console users, roles and wall-screen tokens.  There is no default password.

    ioc users create-admin --name N [--password-stdin]   the first admin (prompts twice)
    ioc users add --name N --role viewer|operator|admin [--password-stdin]
    ioc users list
    ioc users disable --name N | enable --name N         disabling ends the user's sessions
    ioc users set-role --name N --role R
    ioc users set-password --name N [--password-stdin]   ends the user's sessions
    ioc users wall-token create --name wall-1            prints the token once, with the wall URL
    ioc users wall-token list | revoke --name wall-1
    ioc users audit                                      recent changes and sign-in attempts
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from streams.cli.common import command, group, option
from streams.core.errors import AuthError

ROLES = ("viewer", "operator", "admin")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def _store(settings):
    from ioc_dash.auth.store import UserStore

    return UserStore(settings.dsn, max_connections=1)


def read_password(args: argparse.Namespace) -> str:
    """One line from stdin with --password-stdin; otherwise asked twice on the terminal."""
    prompt = getpass.getpass
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AuthError("no password on stdin")
        return password
    first = prompt(f"password for {args.name}: ")
    if first != prompt("again: "):
        raise AuthError("the two passwords differ; nothing changed")
    return first


def _fmt(ts) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if ts else "-"


def cmd_add(args: argparse.Namespace, settings) -> int:
    role = getattr(args, "role", None) or "admin"
    from ioc_dash.auth.passwords import check_name, check_password

    name = check_name(args.name)
    password = check_password(name, read_password(args))  # refuse before hashing or connecting
    user = _store(settings).add_user(name, role, password, actor=_actor())
    print(f"users: {user['name']} added as {user['role']}")
    return 0


def cmd_list(args: argparse.Namespace, settings) -> int:
    for u in _store(settings).users():
        state = "disabled" if u["disabled"] else "active"
        print(f"{u['name']:24} {u['role']:9} {state:9} last sign-in {_fmt(u['last_login_at'])}")
    return 0


def cmd_disable(args: argparse.Namespace, settings) -> int:
    disabled = args.users_command == "disable"
    u = _store(settings).set_disabled(args.name, disabled, actor=_actor())
    print(f"users: {u['name']} {'disabled; its sessions ended' if disabled else 'enabled'}")
    return 0


def cmd_set_role(args: argparse.Namespace, settings) -> int:
    u = _store(settings).set_role(args.name, args.role, actor=_actor())
    print(f"users: {u['name']} is now {u['role']}")
    return 0


def cmd_set_password(args: argparse.Namespace, settings) -> int:
    u = _store(settings).set_password(args.name, read_password(args), actor=_actor())
    print(f"users: password of {u['name']} changed; its sessions ended")
    return 0


def cmd_token_create(args: argparse.Namespace, settings) -> int:
    token = _store(settings).create_wall_token(args.name, actor=_actor())
    print(f"wall token {args.name} (shown only now; keep it like a password):\n{token}\n"
          f"open on the wall screen: http://{settings.dash_host}:{settings.dash_port}/wall?token={token}")
    return 0


def print_tokens(rows) -> int:
    for t in rows:
        state = f"revoked {_fmt(t['revoked_at'])}" if t["revoked_at"] else "active"
        print(f"{t['name']:20} {state:24} created {_fmt(t['created_at'])} by {t['created_by']}, "
              f"last used {_fmt(t['last_used_at'])}")
    return 0


def cmd_token_list(args: argparse.Namespace, settings) -> int:
    return print_tokens(_store(settings).wall_tokens())


def cmd_token_revoke(args: argparse.Namespace, settings) -> int:
    _store(settings).revoke_wall_token(args.name, actor=_actor())
    print(f"wall token {args.name} revoked")
    return 0


def cmd_api_create(args: argparse.Namespace, settings) -> int:
    token = _store(settings).create_api_token(args.name, actor=_actor())
    print(f"API token {args.name} (shown only now; keep it like a password):\n{token}\n"
          f"use it as: curl -H 'Authorization: Bearer <token>' "
          f"http://{settings.dash_host}:{settings.dash_port}/api/v1/indicators")
    return 0


def cmd_api_list(args: argparse.Namespace, settings) -> int:
    return print_tokens(_store(settings).api_tokens())


def cmd_api_revoke(args: argparse.Namespace, settings) -> int:
    _store(settings).revoke_api_token(args.name, actor=_actor())
    print(f"API token {args.name} revoked")
    return 0


def demo_wall_url(settings, name: str = "demo-wall") -> str:
    """A fresh read-only wall token for ``ioc demo`` (the previous demo token is revoked)."""
    store = _store(settings)
    try:
        store.revoke_wall_token(name, actor=_actor())
    except AuthError:
        pass  # none yet
    token = store.create_wall_token(name, actor=_actor())
    return f"http://{settings.dash_host}:{settings.dash_port}/wall?token={token}"


def cmd_audit(args: argparse.Namespace, settings) -> int:
    store = _store(settings)
    for e in reversed(store.events(args.limit)):
        print(f"{_fmt(e['at'])} {e['actor']:20} {e['kind']:20} {e['subject']} {dict(e['detail']) or ''}")
    for a in reversed(store.attempts(args.limit)):
        print(f"{_fmt(a['at'])} sign-in {a['outcome']:13} {a['username']:20} from {a['address']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    usub = group(sub, "users", "console users, roles and wall-screen tokens",
                 description="console users, roles and wall-screen tokens (no default password)")

    def action(parent, name: str, fn, help_: str, *, name_arg: bool = True, password: bool = False,
               role: bool = False) -> argparse.ArgumentParser:
        p = command(parent, name, fn, help_, db=True, log_level=False)
        if name_arg:
            p.add_argument("--name", required=True, help="user (or token) name: 2-64 of a-z 0-9 . _ @ -")
        if role:
            p.add_argument("--role", required=True, choices=ROLES)
        if password:
            p.add_argument("--password-stdin", action="store_true",
                           help="read the password from one line of stdin instead of asking twice")
        return p

    action(usub, "create-admin", cmd_add, "create an admin (the first one after installing)", password=True)
    action(usub, "add", cmd_add, "add a user with a role", password=True, role=True)
    action(usub, "list", cmd_list, "list users", name_arg=False)
    action(usub, "disable", cmd_disable, "disable a user and end its sessions")
    action(usub, "enable", cmd_disable, "enable a disabled user")
    action(usub, "set-role", cmd_set_role, "change a user's role", role=True)
    action(usub, "set-password", cmd_set_password, "set a new password and end the user's sessions", password=True)
    au = action(usub, "audit", cmd_audit, "recent user changes and sign-in attempts", name_arg=False)
    au.add_argument("--limit", type=int, default=50, help="rows of each kind (default 50)")

    wsub = group(usub, "wall-token", "read-only tokens for wall screens (never sign out)", dest="token_command")
    c = action(wsub, "create", cmd_token_create, "create a wall token and print it once")
    option(c, "--port", "dash_port", "dashboard port shown in the URL", type=int)
    action(wsub, "list", cmd_token_list, "list wall tokens", name_arg=False)
    action(wsub, "revoke", cmd_token_revoke, "revoke a wall token: its screens sign out within seconds")

    asub = group(usub, "api-token", "read tokens of the API for upper levels (/api/v1, docs/api.md)",
                 dest="api_command")
    c = action(asub, "create", cmd_api_create, "create an API read token and print it once")
    option(c, "--port", "dash_port", "dashboard port shown in the example", type=int)
    action(asub, "list", cmd_api_list, "list API tokens", name_arg=False)
    action(asub, "revoke", cmd_api_revoke, "revoke an API token: refused from its next request")
