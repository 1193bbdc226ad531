"""The simulated clock's connection options, and a scratch database's beside the live one.  The clock
itself is exercised by ``ioc alerts backtest``'s test, whose scenario is dated long before the wall
clock."""
from datetime import datetime, timezone

import pytest
from psycopg.conninfo import conninfo_to_dict

from streams.db.simclock import clock_dsn

AT = datetime(2024, 6, 3, 2, 0, tzinfo=timezone.utc)


def test_a_clock_connection_keeps_the_dsn_and_its_own_options():
    got = conninfo_to_dict(clock_dsn("postgresql://ioc@db.example:5433/ioc_backtest_1?sslmode=verify-full"
                                     "&options=-c%20work_mem%3D64MB", AT))
    assert (got["host"], got["port"], got["dbname"], got["sslmode"]) == ("db.example", "5433", "ioc_backtest_1",
                                                                          "verify-full")
    assert got["options"].split() == ["-c", "work_mem=64MB", "-c", "search_path=public,ioc_clock,pg_catalog",
                                      "-c", "ioc.now=2024-06-03T02:00:00+00:00", "-c", "synchronous_commit=off"]
    with pytest.raises(ValueError, match="UTC offset"):
        clock_dsn("postgresql://ioc@db/x", datetime(2024, 6, 3))


def test_a_scratch_database_is_reached_like_the_one_it_sits_beside():
    from streams.db.scratch import sibling_dsn

    assert sibling_dsn("postgresql://ioc@db.example:5433/ioc?sslmode=verify-full&sslrootcert=/ca.pem",
                       "ioc_backtest_1") == ("postgresql://ioc@db.example:5433/ioc_backtest_1"
                                             "?sslmode=verify-full&sslrootcert=/ca.pem")
    assert sibling_dsn("postgresql://ioc@127.0.0.1:5433/ioc", "x") == "postgresql://ioc@127.0.0.1:5433/x"
