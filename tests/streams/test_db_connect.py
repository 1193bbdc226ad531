"""``streams.db.connect`` and ``streams.db.errors``: the one way into the database and the one
translation of the driver's errors, and that the rest of the code uses them."""
from __future__ import annotations

import time

import psycopg
import pytest

from streams.core.errors import SinkError, SinkUnavailable
from streams.db.connect import Pool, connect, connection_options
from streams.db.errors import translated

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
    assert connection_options(CLOSED, role="alerts") == {"connect_timeout": 5, "application_name": "ioc-alerts"}
    assert connection_options(CLOSED, role="dash", timeout_s=3, dict_rows=True)["connect_timeout"] == 3
    assert "row_factory" in connection_options(CLOSED, role="dash", dict_rows=True)
    # a URL that names its own application keeps it
    assert "application_name" not in connection_options(CLOSED + "?application_name=mine", role="x")


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
