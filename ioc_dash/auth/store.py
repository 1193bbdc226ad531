"""Users, sessions, wall tokens, login attempts and their audit in the database.

Every query is parameterised.  Changes to users and tokens are written to ``auth_event`` in the
same transaction; every login attempt, good or bad, is a row of ``login_attempt``, which is also
what the rate limit counts.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ioc_dash.auth.passwords import NAME, Passwords, check_name, check_password, normalise_name
from ioc_dash.auth.ratelimit import Limit, login_verdict
from ioc_dash.auth.roles import Principal, check_role
from ioc_dash.auth.tokens import new_token, wall_hash
from streams.core.errors import AuthError, LoginRateLimited
from streams.core.inputs import check_all, recordable
from streams.db.connect import Connection, Pool
from streams.db.errors import translated


@dataclass(frozen=True, slots=True)
class TokenKind:
    table: sql.Identifier
    said: str  # in messages
    audit: str  # the auth_event kinds: <audit>_created, <audit>_revoked


WALL_TOKENS = TokenKind(sql.Identifier("wall_token"), "wall token", "wall_token")
API_TOKENS = TokenKind(sql.Identifier("api_token"), "API token", "api_token")

FAILED = ("bad_password", "unknown_user", "disabled")
WRONG = "wrong user name or password"


class UserStore:
    def __init__(self, dsn: str, passwords: Passwords | None = None, *, max_connections: int = 4) -> None:
        self.pool = Pool(dsn, role="users", max_size=max_connections, timeout_s=5, dict_rows=True)
        self._passwords = passwords

    @property
    def passwords(self) -> Passwords:
        if self._passwords is None:  # hashing the timing dummy costs a few ms: only when needed
            self._passwords = Passwords()
        return self._passwords

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        with translated("user store unavailable", table="users", refused=None, limit=200), \
                self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()

    @staticmethod
    def _audit(conn, actor: str, kind: str, subject: str, detail: dict[str, Any] | None = None) -> None:
        check_all({"actor": actor, "kind": kind, "subject": subject, "detail": detail})
        conn.execute("INSERT INTO auth_event (actor, kind, subject, detail) VALUES (%s, %s, %s, %s)",
                     (actor, kind, subject, Jsonb(detail or {})))

    def audit(self, actor: str, kind: str, subject: str = "", detail: dict[str, Any] | None = None) -> None:
        with self._conn() as conn:
            self._audit(conn, actor, kind, subject, detail)

    # --- users -----------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, *, actor: str) -> dict[str, Any]:
        name, role = check_name(name), check_role(role)
        check_password(name, password)
        hashed = self.passwords.hash(password)
        with self._conn() as conn, conn.transaction():
            row = conn.execute(
                "INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING "
                "RETURNING id, name, role, disabled, created_at", (name, role, hashed)).fetchone()
            if row is None:
                raise AuthError(f"user {name!r} exists already")
            self._audit(conn, actor, "user_added", name, {"role": role})
        return row

    def users(self) -> list[dict[str, Any]]:
        with self._conn() as conn:
            return conn.execute(
                "SELECT id, name, role, disabled, created_at, password_changed_at, last_login_at FROM users "
                "ORDER BY name").fetchall()

    def _change(self, name: str, actor: str, kind: str, sql: str, params: tuple, detail: dict[str, Any],
                end_sessions: bool) -> dict[str, Any]:
        name = normalise_name(name)
        if not NAME.match(name):  # no user can have it (nor can a NUL reach the database)
            raise AuthError(f"no user named {name!r}")
        with self._conn() as conn, conn.transaction():
            row = conn.execute(sql, (*params, name)).fetchone()
            if row is None:
                raise AuthError(f"no user named {name!r}")
            if end_sessions:
                conn.execute("DELETE FROM user_session WHERE user_id = %s", (row["id"],))
            self._audit(conn, actor, kind, name, detail)
        return row

    def set_role(self, name: str, role: str, *, actor: str) -> dict[str, Any]:
        check_role(role)
        return self._change(name, actor, "role_set", "UPDATE users SET role = %s WHERE name = %s RETURNING id, name, role",
                            (role,), {"role": role}, end_sessions=False)

    def set_disabled(self, name: str, disabled: bool, *, actor: str) -> dict[str, Any]:
        """Disabling also ends the user's sessions at once."""
        return self._change(name, actor, "user_disabled" if disabled else "user_enabled",
                            "UPDATE users SET disabled = %s WHERE name = %s RETURNING id, name, role, disabled",
                            (disabled,), {}, end_sessions=disabled)

    def set_password(self, name: str, password: str, *, actor: str) -> dict[str, Any]:
        check_password(name, password)
        return self._change(name, actor, "password_set",
                            "UPDATE users SET password_hash = %s, password_changed_at = now() WHERE name = %s "
                            "RETURNING id, name, role", (self.passwords.hash(password),), {}, end_sessions=True)

    # --- login and sessions ------------------------------------------------------------------------

    def login(self, name: str, password: str, *, address: str, user_agent: str = "",
              limit: Limit = Limit()) -> Principal:
        """The user, if not rate-limited and the password matches; every attempt is recorded."""
        name = recordable(normalise_name(name)[:64])  # a NUL cannot be stored: it matches no user either
        ua, address = recordable(user_agent[:300]), recordable(address)
        with self._conn() as conn, conn.transaction():
            now = conn.execute("SELECT now() AS now").fetchone()["now"]
            rows = conn.execute(
                "SELECT username = %s AS by_user, address = %s AS by_address, at FROM login_attempt "
                "WHERE (username = %s OR address = %s) AND outcome = ANY(%s) AND at > %s",
                (name, address, name, address, list(FAILED), now - limit.window)).fetchall()
            decision = login_verdict([r["at"] for r in rows if r["by_user"]],
                                     [r["at"] for r in rows if r["by_address"]], now, limit)
            user = None
            if not decision.allowed:
                outcome = "rate_limited"
            else:
                user = conn.execute("SELECT * FROM users WHERE name = %s", (name,)).fetchone()
                ok, rehash = self.passwords.verify(user["password_hash"] if user else None, password)
                outcome = "unknown_user" if user is None else "bad_password" if not ok else \
                    "disabled" if user["disabled"] else "ok"
            self._attempt(conn, name, address, outcome, ua)
            if outcome == "ok":
                conn.execute("UPDATE users SET last_login_at = now(), password_hash = coalesce(%s, password_hash) "
                             "WHERE id = %s", (rehash, user["id"]))
        if outcome == "rate_limited":
            raise LoginRateLimited(decision.retry_after)
        if outcome != "ok":
            raise AuthError(WRONG)
        return Principal(user["name"], user["role"], "user", user["id"])

    @staticmethod
    def _attempt(conn, name: str, address: str, outcome: str, ua: str) -> None:
        conn.execute("INSERT INTO login_attempt (username, address, outcome, user_agent) VALUES (%s, %s, %s, %s)",
                     (name, address, outcome, ua))

    def attempts(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._conn() as conn:
            return conn.execute("SELECT * FROM login_attempt ORDER BY id DESC LIMIT %s", (limit,)).fetchall()

    def start_session(self, principal: Principal, token_hash: bytes, *, idle_s: float, address: str = "",
                      user_agent: str = "") -> None:
        user_agent = recordable(user_agent)
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO user_session (token_hash, user_id, expires_at, address, user_agent) "
                "VALUES (%s, %s, now() + make_interval(secs => %s), %s, %s)",
                (token_hash, principal.id, idle_s, address, user_agent[:300]))

    def session_principal(self, token_hash: bytes, *, idle_s: float) -> Principal | None:
        """The session's user if it is live and the user enabled; the idle timer starts again."""
        with self._conn() as conn:
            row = conn.execute(
                "UPDATE user_session s SET last_seen = now(), expires_at = now() + make_interval(secs => %s) "
                "FROM users u WHERE s.token_hash = %s AND u.id = s.user_id AND s.expires_at > now() "
                "AND NOT u.disabled RETURNING u.id, u.name, u.role", (idle_s, token_hash)).fetchone()
        return Principal(row["name"], row["role"], "user", row["id"]) if row else None

    def end_session(self, token_hash: bytes, *, actor: str) -> None:
        with self._conn() as conn, conn.transaction():
            if conn.execute("DELETE FROM user_session WHERE token_hash = %s", (token_hash,)).rowcount:
                self._audit(conn, actor, "logout", actor)
            conn.execute("DELETE FROM user_session WHERE expires_at < now() - interval '1 day'")

    def live_sessions(self, *, wall_seen_s: float = 300) -> dict[str, int]:
        """Console sessions not yet expired, and wall tokens used within ``wall_seen_s`` (a wall
        screen that is on checks its token every few seconds)."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM user_session WHERE expires_at > now()) AS console, "
                "(SELECT count(*) FROM wall_token WHERE revoked_at IS NULL "
                "AND last_used_at > now() - make_interval(secs => %s)) AS wall", (wall_seen_s,)).fetchone()
        return {"console": row["console"], "wall": row["wall"]}

    # --- wall tokens --------------------------------------------------------------------------------

    def create_wall_token(self, name: str, *, actor: str) -> str:
        """A new token, returned once: only its hash is kept."""
        return self._create_token(WALL_TOKENS, name, actor)

    def wall_tokens(self) -> list[dict[str, Any]]:
        return self._tokens(WALL_TOKENS)

    def revoke_wall_token(self, name: str, *, actor: str) -> None:
        self._revoke_token(WALL_TOKENS, name, actor)

    # --- both kinds of token: a table, and how the token is named in messages and in the audit

    def _create_token(self, kind: TokenKind, name: str, actor: str) -> str:
        name = check_name(name)
        token = new_token()
        with self._conn() as conn, conn.transaction():
            row = conn.execute(
                sql.SQL("INSERT INTO {} (name, token_hash, created_by) VALUES (%s, %s, %s) "
                        "ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING id").format(kind.table),
                (name, wall_hash(token), actor)).fetchone()
            if row is None:
                raise AuthError(f"{kind.said} {name!r} exists already; revoke it first")
            self._audit(conn, actor, f"{kind.audit}_created", name)
        return token

    def _tokens(self, kind: TokenKind) -> list[dict[str, Any]]:
        with self._conn() as conn:
            return conn.execute(sql.SQL("SELECT id, name, created_by, created_at, last_used_at, revoked_at FROM {} "
                                        "ORDER BY revoked_at IS NOT NULL, name, id").format(kind.table)).fetchall()

    def _revoke_token(self, kind: TokenKind, name: str, actor: str) -> None:
        name = normalise_name(name)
        with self._conn() as conn, conn.transaction():
            if not NAME.match(name) or not conn.execute(
                    sql.SQL("UPDATE {} SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL").format(kind.table),
                    (name,)).rowcount:
                raise AuthError(f"no active {kind.said} named {name!r}")
            self._audit(conn, actor, f"{kind.audit}_revoked", name)

    def wall_principal(self, token: str) -> Principal | None:
        with self._conn() as conn:
            row = conn.execute("UPDATE wall_token SET last_used_at = now() WHERE token_hash = %s "
                               "AND revoked_at IS NULL RETURNING id, name", (wall_hash(token),)).fetchone()
        return Principal(f"wall:{row['name']}", "viewer", "wall", row["id"]) if row else None

    # --- read-API tokens ----------------------------------------------------------------------------

    def create_api_token(self, name: str, *, actor: str) -> str:
        """A new read token of the API, returned once: only its hash is kept."""
        return self._create_token(API_TOKENS, name, actor)

    def api_tokens(self) -> list[dict[str, Any]]:
        return self._tokens(API_TOKENS)

    def revoke_api_token(self, name: str, *, actor: str) -> None:
        self._revoke_token(API_TOKENS, name, actor)

    def api_use(self, token: str, per_minute: int) -> tuple[str, float] | None:
        """(the token's name, seconds until it may ask again: 0 when within its rate) for an active token,
        counted as one request; None for a token that is unknown or revoked."""
        with self._conn() as conn:
            row = conn.execute(
                "UPDATE api_token SET last_used_at = now(), "
                "  window_count = CASE WHEN window_start > now() - interval '60 seconds' THEN window_count + 1 ELSE 1 END, "
                "  window_start = CASE WHEN window_start > now() - interval '60 seconds' THEN window_start ELSE now() END "
                "WHERE token_hash = %s AND revoked_at IS NULL "
                "RETURNING name, window_count, extract(epoch FROM window_start + interval '60 seconds' - now()) AS wait",
                (wall_hash(token),)).fetchone()
        if row is None:
            return None
        return row["name"], (max(1.0, float(row["wait"])) if row["window_count"] > per_minute else 0.0)

    def events(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._conn() as conn:
            return conn.execute("SELECT * FROM auth_event ORDER BY id DESC LIMIT %s", (limit,)).fetchall()
