"""The one way into the database: connections and pools with the project's options.

- ``connect(dsn, what=…)``: one connection (a command, a round of the alert engine or of the
  notifier, a LISTEN); a server that cannot be reached is ``SinkUnavailable("<what>: …")``;
- ``Pool``: a thread-safe pool opened on first use (the wall, the user store);
- ``AsyncPool``: the worker's asyncio pool, made anew after a start that timed out.

Every connection has a connect timeout (``CONNECT_TIMEOUT_S`` unless the caller says otherwise)
and an ``application_name`` of ``ioc-<role>``, so ``pg_stat_activity`` tells which part of the IOC
holds it (a DSN that names its own ``application_name`` keeps it).  ``dict_rows`` gives rows as
dicts.  Errors of the driver are translated by ``streams.db.errors.translated``.

A primary with a standby: the DSN names both hosts with ``target_session_attrs=read-write``
(``postgresql://ioc@h1:5433,h2:5434/ioc?target_session_attrs=read-write``); libpq tries them in
order and skips a standby, so every new connection finds the primary after a promotion.  What
keeps a connection to the dead primary from lingering: TCP keepalives (``KEEPALIVE``, a peer gone
without a word is noticed in about 25 s) and the pools' check of a connection before handing it
out (an idle one broken by the failover is replaced, not given to a caller).
"""
from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from streams.core.errors import SinkUnavailable
from streams.db.errors import translated

CONNECT_TIMEOUT_S = 5.0
APPLICATION = "ioc"
#: TCP keepalives of every connection unless the DSN sets its own: idle 10 s, then 3 probes 5 s apart
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}

Connection = psycopg.Connection
AsyncConnection = psycopg.AsyncConnection


def connection_options(dsn: str, *, role: str, timeout_s: float = CONNECT_TIMEOUT_S,
                       dict_rows: bool = False) -> dict[str, Any]:
    """Keyword arguments of a connection: connect timeout, application name, row factory."""
    try:
        given = conninfo_to_dict(dsn)
    except psycopg.Error:  # a URL the driver cannot read: connecting says what is wrong with it
        given = {"application_name": None, "keepalives": None}
    options: dict[str, Any] = {"connect_timeout": max(1, round(timeout_s))}
    if "application_name" not in given:
        options["application_name"] = f"{APPLICATION}-{role}"
    if not any(name in given for name in KEEPALIVE):
        options.update(KEEPALIVE)
    if dict_rows:
        options["row_factory"] = dict_row
    return options


def connect(dsn: str, *, what: str, role: str, table: str | None = None, timeout_s: float = CONNECT_TIMEOUT_S,
            autocommit: bool = False, dict_rows: bool = False) -> psycopg.Connection:
    """A new connection; ``SinkUnavailable("<what>: …", table=table)`` when the server cannot be reached."""
    options = connection_options(dsn, role=role, timeout_s=timeout_s, dict_rows=dict_rows)
    with translated(what, table=table, refused=None):
        return psycopg.connect(dsn, autocommit=autocommit, **options)


class Pool:
    """A thread-safe pool of up to ``max_size`` connections, opened on first use.

    ``connection()`` waits at most ``timeout_s`` for a connection; the driver's errors come out
    as they are (callers translate them with ``translated``, naming what failed)."""

    def __init__(self, dsn: str, *, role: str, max_size: int, min_size: int = 0,
                 timeout_s: float = CONNECT_TIMEOUT_S, dict_rows: bool = False) -> None:
        self.timeout_s = timeout_s
        self._pool = ConnectionPool(dsn, min_size=min_size, max_size=max_size, open=False,
                                    check=ConnectionPool.check_connection, kwargs=connection_options(dsn, role=role, timeout_s=timeout_s,
                                                              dict_rows=dict_rows))
        self._opened = False
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            if not self._opened:
                self._pool.open(wait=False)
                self._opened = True
        with self._pool.connection(timeout=self.timeout_s) as conn:
            yield conn

    def close(self) -> None:
        if self._opened:
            self._pool.close()


class AsyncPool:
    """The worker's asyncio pool (``min_size`` connections kept open, up to ``max_size``).

    ``open(wait_s)`` waits for the first connections, ``SinkUnavailable`` after ``wait_s``.
    psycopg_pool closes a pool whose first wait timed out; this one then starts afresh on the
    next ``open``, so a worker started while the database was down connects once it is back."""

    def __init__(self, dsn: str, *, role: str, min_size: int = 1, max_size: int = 4,
                 timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        kwargs = connection_options(dsn, role=role, timeout_s=timeout_s)
        self._new = lambda: AsyncConnectionPool(dsn, min_size=min_size, max_size=max_size, open=False, kwargs=kwargs,
                                                check=AsyncConnectionPool.check_connection)
        self._pool = self._new()
        self._opened = False

    @property
    def opened(self) -> bool:
        return self._opened

    async def open(self, wait_s: float = 30) -> None:
        pool = self._pool
        if not self._opened:
            await pool.open(wait=False)
            self._opened = True
        try:
            with translated(f"database not reachable within {wait_s:.0f} s"):
                await pool.wait(timeout=wait_s)
        except SinkUnavailable:  # PoolClosed: another caller's wait timed out
            if self._pool is pool:  # closed by psycopg_pool: start afresh next time
                self._pool, self._opened = self._new(), False
            raise

    async def ensure_open(self, wait_s: float = 30) -> None:
        """Open the pool unless it is open (``open`` otherwise)."""
        if not self._opened:
            await self.open(wait_s)

    @asynccontextmanager
    async def connection(self, timeout: float) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection of the pool, waited for at most ``timeout`` seconds (errors as the driver raises them)."""
        async with self._pool.connection(timeout=timeout) as conn:
            yield conn

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
            self._opened = False
