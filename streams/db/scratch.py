"""Throw-away databases for tests, benchmarks and calm runs: created, migrated, dropped.

``scratch_database(admin_dsn, name)`` creates ``name`` next to the admin connection's database,
applies the schema (``migrate=False`` leaves it empty) and yields its DSN; on leaving, the database
is dropped, open connections and all, unless ``keep``.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import sql

from streams.db.connect import Connection, connect
from streams.db.migrate import migrate as apply_migrations


def sibling_dsn(admin_dsn: str, name: str) -> str:
    """The DSN of database ``name`` on the server of ``admin_dsn`` (same user, host, port and
    parameters, ``?sslmode=…`` included)."""
    base, sep, query = admin_dsn.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + sep + query


def _admin(admin_dsn: str) -> Connection:
    return connect(admin_dsn, what="cannot reach the database server", role="scratch", timeout_s=10,
                   autocommit=True)


def create_database(admin_dsn: str, name: str, *, migrate: bool = True) -> str:
    """Create database ``name`` (with the schema unless ``migrate=False``); return its DSN."""
    with _admin(admin_dsn) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = sibling_dsn(admin_dsn, name)
    if migrate:
        apply_migrations(dsn, log=lambda *_: None)
    return dsn


def drop_database(admin_dsn: str, name: str) -> None:
    with _admin(admin_dsn) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(admin_dsn: str, name: str, *, migrate: bool = True, keep: bool = False) -> Iterator[str]:
    try:
        yield create_database(admin_dsn, name, migrate=migrate)
    finally:
        if not keep:
            drop_database(admin_dsn, name)
