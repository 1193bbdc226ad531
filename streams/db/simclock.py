"""A database whose ``now()`` is a simulated clock, for replaying a recording through the read side
(``ioc alerts backtest``): the indicator queries measure their windows from ``now()``.

``install_clock(dsn)`` adds the schema ``ioc_clock`` with a function ``now()`` returning the session
setting ``ioc.now``.  A connection made from ``clock_dsn(dsn, at)`` has ``ioc.now`` set to ``at`` and
the search path ``public, ioc_clock, pg_catalog``, so every unqualified ``now()`` of its queries is
``at``: ``pg_catalog`` is listed explicitly, after the clock (left out, it would be searched first);
``public`` comes first and holds no ``now()``, so it stays the current schema (``current_schema()``),
where tables are looked up and created.  ``set_clock`` moves a session's clock.  The function is a
plain SQL expression, inlined by the planner: a window such as ``time >= now() - interval '5
minutes'`` costs what it costs with the real clock.

What it does not move: ``CURRENT_TIMESTAMP``, ``transaction_timestamp()``, ``statement_timestamp()``
and ``clock_timestamp()`` (no indicator query uses them), and the ``DEFAULT now()`` of a column,
bound to ``pg_catalog.now()`` when its table was created (``created_at`` and the like: when a row was
written, which no indicator reads).
"""
from __future__ import annotations

from datetime import datetime

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from streams.db.connect import Connection, connect

SETTING = "ioc.now"

INSTALL = """
CREATE SCHEMA IF NOT EXISTS ioc_clock;
CREATE OR REPLACE FUNCTION ioc_clock.now() RETURNS timestamptz
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT current_setting('ioc.now')::timestamptz $$;
"""

#: moves the clock of a session (parameter: the time, ISO 8601 with its offset)
SET_CLOCK = "SELECT set_config('ioc.now', %s, false)"

#: the search path of a clock connection: the tables, the clock, then the catalogue
SEARCH_PATH = "public,ioc_clock,pg_catalog"


def install_clock(dsn: str) -> None:
    """Add the simulated clock to the database of ``dsn`` (created and migrated before)."""
    with connect(dsn, what="cannot install the simulated clock", role="backtest", autocommit=True) as conn:
        conn.execute(INSTALL)


def clock_dsn(dsn: str, at: datetime) -> str:
    """``dsn`` for connections whose ``now()`` is ``at`` (other options of ``dsn`` kept).  Their commits
    do not wait for the disk (``synchronous_commit=off``): the database is a throw-away one, and a
    simulated hour is hundreds of rounds of several transactions each."""
    if at.tzinfo is None:
        raise ValueError("the simulated time needs a UTC offset")
    own = conninfo_to_dict(dsn).get("options") or ""
    clock = f"-c search_path={SEARCH_PATH} -c {SETTING}={at.isoformat()} -c synchronous_commit=off"
    return make_conninfo(dsn, options=f"{own} {clock}".strip())


def set_clock(conn: Connection, at: datetime) -> None:
    """Move the clock of ``conn``'s session (made from ``clock_dsn``) to ``at``, once its transaction commits."""
    if at.tzinfo is None:
        raise ValueError("the simulated time needs a UTC offset")
    conn.execute(SET_CLOCK, (at.isoformat(),))
