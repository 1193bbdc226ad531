"""``bench.statements``: PostgreSQL's execution time per event, by statement kind."""
from __future__ import annotations

import pytest

from bench.statements import Statements, kind, per_event
from streams.core.settings import Settings
from streams.db.connect import connect
from tests.support import own_database


@pytest.mark.parametrize("query, expected", [
    ('INSERT INTO "event_id_ledger" (family, id, time) SELECT $1, id, time FROM s', "INSERT INTO event_id_ledger"),
    ('COPY "ioc_stage_health_event" ("ioc_ord", "time") FROM STDIN (FORMAT BINARY)', "COPY ioc_stage_health_event"),
    ("WITH pairs AS MATERIALIZED (SELECT src_ip FROM security_event) SELECT * FROM pairs",
     "SELECT … FROM security_event"),
    ('WITH "ioc_stage_x" AS (SELECT 1) INSERT INTO "camera_event" SELECT * FROM x', "INSERT INTO camera_event"),
    ("SELECT host(src_ip), count(*) FROM security_event GROUP BY 1", "SELECT … FROM security_event"),
    ("SELECT pg_backend_pid()", "SELECT"),
    ("-- 034: the id ledger\nCREATE TABLE IF NOT EXISTS event_id_ledger (id text)", "CREATE TABLE"),
    ("UPDATE soc_outbox SET sent = now()", "UPDATE soc_outbox"),
])
def test_statements_are_grouped_by_what_they_do_to_which_table(query, expected):
    assert kind(query) == expected


def test_time_per_event_ranks_the_kinds_and_keeps_the_rest_together():
    rows = [('INSERT INTO "a" SELECT 1', 10, 30.0, 1000), ('INSERT INTO "a" SELECT 2', 5, 10.0, 500),
            ('COPY "b" FROM STDIN', 10, 20.0, 1500), ("SELECT 1", 3, 5.0, 3), ("UPDATE c SET x = 1", 1, 1.0, 1)]
    out = per_event(rows, 10_000, top=2)
    assert out["statements"] == {"INSERT INTO a": {"us_per_event": 4.0, "calls": 15, "rows": 1500},
                                 "COPY b": {"us_per_event": 2.0, "calls": 10, "rows": 1500}}
    assert out["rest_us_per_event"] == 0.6 and out["total_us_per_event"] == 6.6
    with pytest.raises(ValueError):
        per_event(rows, 0)


def test_a_database_statements_are_cleared_and_read_on_the_stack():
    with own_database(Settings(), "statements") as s:
        st, unavailable = Statements.open(s.dsn)
        assert unavailable is None and st is not None  # the stack preloads pg_stat_statements
        with connect(s.dsn, what="test", role="test", autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_statements_probe (n int)")
            st.reset()
            for _ in range(3):
                conn.execute("INSERT INTO bench_statements_probe SELECT generate_series(1, 100)")
        out = per_event(st.read(), 300)
        probe = out["statements"]["INSERT INTO bench_statements_probe"]
        assert probe["calls"] == 3 and probe["rows"] == 300 and probe["us_per_event"] > 0
        assert "CREATE TABLE" not in " ".join(out["statements"])  # ran before the reset
