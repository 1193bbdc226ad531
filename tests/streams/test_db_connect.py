"""``streams.db.connect`` and ``streams.db.errors``: the one way into the database and the one
translation of the driver's errors, and that the rest of the code uses them."""
from __future__ import annotations

import ast
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from agents.indicators.housekeeping import run_housekeeping
from agents.worker.housekeeping import HousekeepingStore
from streams.core.errors import IOCError, SinkError, SinkUnavailable
from streams.db.connect import KEEPALIVE, AsyncPool, Pool, connect, connection_options
from streams.db.errors import translated
from tests.support import ROOT

CLOSED = "postgresql://ioc@127.0.0.1:1/nowhere"  # nothing listens on port 1


# --- the translation ---------------------------------------------------------------------------

def test_a_lost_connection_is_unavailable_and_names_the_table_reached():
    with pytest.raises(SinkUnavailable, match=r"^retention failed: server closed the connection \(table b\)$") as err:
        with translated("retention failed", table="a") as where:
            where.table = "b"
            raise psycopg.OperationalError("server closed the connection\n")
    assert err.value.table == "b" and isinstance(err.value.__cause__, psycopg.OperationalError)


def test_a_refusal_is_unavailable_an_error_or_left_as_it_is():
    refusal = psycopg.errors.UndefinedTable('relation "drill_run" does not exist\nLINE 1: SELECT …')
    with pytest.raises(SinkUnavailable, match='^cannot x: relation "drill_run" does not exist\nLINE 1'):
        with translated("cannot x"):
            raise refusal
    with pytest.raises(SinkError, match='^write failed: relation "drill_run" does not exist \\(table t\\)$') as err:
        with translated("database unavailable", table="t", refused=SinkError, refused_what="write failed"):
            raise refusal
    assert type(err.value) is SinkError  # not retried: a retry will not mend it
    with pytest.raises(psycopg.errors.UndefinedTable):
        with translated("user store unavailable", refused=None):
            raise refusal
    with pytest.raises(SinkUnavailable, match=r"^user store unavailable: gone \(table users\)$"):
        with translated("user store unavailable", table="users", refused=None):
            raise psycopg.OperationalError("gone")


def test_a_message_can_be_cut_and_carry_a_hint():
    with pytest.raises(SinkUnavailable, match=r"^cannot y: abcde \(ioc db migrate\?\)$"):
        with translated("cannot y", limit=5, hint=" (ioc db migrate?)"):
            raise psycopg.OperationalError("abcdefgh")


def test_other_errors_pass_through():
    with pytest.raises(KeyError):
        with translated("anything"):
            raise KeyError("not the database's")


# --- connections and pools ---------------------------------------------------------------------

def test_connections_carry_a_timeout_and_the_name_of_their_part():
    assert connection_options(CLOSED, role="alerts") == {"connect_timeout": 5, "application_name": "ioc-alerts",
                                                         **KEEPALIVE}
    assert connection_options(CLOSED, role="dash", timeout_s=3, dict_rows=True)["connect_timeout"] == 3
    assert "row_factory" in connection_options(CLOSED, role="dash", dict_rows=True)
    # a URL that names its own application keeps it
    assert "application_name" not in connection_options(CLOSED + "?application_name=mine", role="x")
    # and one that sets its own keepalives keeps those
    own = connection_options(CLOSED + "?keepalives_idle=60", role="x")
    assert not set(KEEPALIVE) & set(own)
    # a primary and its standby: the options are the same for both hosts
    assert connection_options("postgresql://ioc@127.0.0.1:1,127.0.0.1:2/ioc?target_session_attrs=read-write",
                              role="dash")["application_name"] == "ioc-dash"


def test_an_unreachable_server_is_unavailable_at_once():
    started = time.monotonic()
    with pytest.raises(SinkUnavailable, match="^alert store unavailable: ") as err:
        connect(CLOSED, what="alert store unavailable", table="alert", role="alerts")
    assert err.value.table == "alert" and time.monotonic() - started < 5


def test_a_pool_of_an_unreachable_server_raises_the_driver_error_for_its_caller_to_name():
    pool = Pool(CLOSED, role="dash", max_size=1, timeout_s=1)
    try:
        with pytest.raises(SinkUnavailable, match="^dashboard cannot read the database: "):
            with translated("dashboard cannot read the database"), pool.connection() as conn:
                conn.execute("SELECT 1")
    finally:
        pool.close()


@pytest.mark.integration
def test_connections_say_which_part_holds_them(test_settings):
    with connect(test_settings.dsn, what="x", role="probe", dict_rows=True) as conn:
        row = conn.execute("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()
    assert row == {"application_name": "ioc-probe"}
    pool = Pool(test_settings.dsn, role="dash", max_size=1, dict_rows=True)
    try:
        with pool.connection() as conn:
            assert conn.execute("SELECT current_setting('application_name') AS a").fetchone() == {"a": "ioc-dash"}
    finally:
        pool.close()


@pytest.mark.integration
def test_a_pool_replaces_an_idle_connection_the_server_dropped(test_settings):
    """What a failover does to a pooled connection: the server behind it is gone.  The next caller
    gets a working connection, not the dead one."""
    pool = Pool(test_settings.dsn, role="dash", max_size=1)
    try:
        with pool.connection() as conn:
            first = conn.info.backend_pid
        with connect(test_settings.dsn, what="x", role="probe", autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        with pool.connection() as conn:
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != first
    finally:
        pool.close()


@pytest.mark.integration
async def test_the_worker_pool_replaces_an_idle_connection_the_server_dropped(test_settings):
    pool = AsyncPool(test_settings.dsn, role="worker", min_size=1, max_size=1)
    try:
        await pool.open(10)
        async with pool.connection(timeout=5) as conn:
            first = conn.info.backend_pid
        with connect(test_settings.dsn, what="x", role="probe", autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        async with pool.connection(timeout=5) as conn:
            assert (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0] != first
    finally:
        await pool.close()


# --- the worker's housekeeping when the database is away ---------------------------------------

async def test_maintenance_rules_of_an_unreachable_database_are_unavailable():
    # a pool that never opened (the worker started while the database was down) ...
    store = HousekeepingStore(AsyncPool(CLOSED, role="worker"))
    with pytest.raises(SinkUnavailable, match="^maintenance windows not readable: ") as err:
        await store.maintenance_rules()
    assert err.value.table == "maintenance_window"
    # ... and an open pool whose database went away: no connection within the wait
    pool = AsyncPool(CLOSED, role="worker", min_size=0)
    await pool.open(wait_s=1)  # nothing to wait for with no connection kept
    try:
        with pytest.raises(SinkUnavailable, match="^maintenance windows not readable: "):
            await HousekeepingStore(pool, wait_s=0.5).maintenance_rules()
    finally:
        await pool.close()


async def test_housekeeping_of_an_unreachable_database_is_an_ioc_error():
    """What ``Worker.housekeeping`` catches (``IOCError``): it logs it and tries at the next interval."""
    store = HousekeepingStore(AsyncPool(CLOSED, role="worker"))
    with pytest.raises(IOCError):
        await run_housekeeping(store, {}, datetime.now(timezone.utc), login_attempt_days=30, raw_tables={},
                               future_tolerance=timedelta(minutes=5))


# --- one home ----------------------------------------------------------------------------------

PACKAGES = ("streams", "agents", "simulators", "ioc_dash")
#: what a module outside streams/db may take from the driver: composing SQL and JSON parameters
ALLOWED = {("psycopg", "sql"), ("psycopg.types.json", "Jsonb")}


class _DriverImports(ast.NodeVisitor):
    """Imports of the database driver that run: those under ``if TYPE_CHECKING:`` do not."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(node.lineno, f"import {a.name}") for a in node.names if _driver(a.name)]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if _driver(node.module or ""):
            self.found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names
                           if (node.module, a.name) not in ALLOWED]


def _driver(module: str) -> bool:
    return module.split(".")[0] in ("psycopg", "psycopg_pool")


def driver_imports(source: str) -> list[tuple[int, str]]:
    """(line, import) of the database driver that run and are not in ALLOWED."""
    visitor = _DriverImports()
    visitor.visit(ast.parse(source))
    return visitor.found


def test_only_streams_db_connects_to_the_database_or_handles_the_driver_errors():
    offenders = []
    for path in (p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))):
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("streams", "db"):
            continue
        offenders += [f"{rel}:{line}: {what}" for line, what in driver_imports(path.read_text(encoding="utf-8"))]
    assert not offenders, ("connect through streams.db.connect and translate errors with streams.db.errors:\n"
                           + "\n".join(offenders))


@pytest.mark.parametrize("code, bad", [
    ("import psycopg", True),
    ("from psycopg_pool import ConnectionPool", True),
    ("from psycopg.rows import dict_row", True),
    ("def f():\n    import psycopg", True),
    ("try:\n    pass\nexcept ValueError:\n    import psycopg", True),
    ("from psycopg import sql", False),
    ("from psycopg.types.json import Jsonb", False),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import psycopg", False),
    ("import psycopgx", False),
])
def test_the_checker(code, bad):
    assert bool(driver_imports(code)) is bad
