from datetime import datetime, timedelta, timezone

import pytest

from streams.core import sketch
from agents.indicators.health import HEALTH_FEED
from streams.core.errors import SinkUnavailable
from streams.core.contracts.health import RequestLog
from streams.core.tables import SourceStats
from agents.worker.sinks.timescale import TimescaleSink

T0 = datetime(2026, 11, 27, 2, 0, 0, tzinfo=timezone.utc)


def req(i, latency):
    return RequestLog(id=f"sink-{i}", type="RequestLog", system="baocao", endpoint="/", dateObserved=T0 + timedelta(
        milliseconds=i), method="GET", status_code=200 if i % 5 else 502, latency_ms=latency, client_ip="10.1.2.3")


async def test_write_is_idempotent_and_sql_quantiles_match_python(test_settings, db):
    sink = TimescaleSink(test_settings.dsn)
    events = [req(i, 1.0 + i * 3.7) for i in range(500)]
    stats = SourceStats("health", T0, len(events), 0)
    try:
        first = await sink.write(HEALTH_FEED, events[:300], stats)
        second = await sink.write(HEALTH_FEED, events, stats)  # 300 already there
        third = await sink.write(HEALTH_FEED, events + events[:10], stats)  # everything twice
    finally:
        await sink.close()
    assert (first.fresh, second.fresh, second.duplicates, third.fresh, third.duplicates) == (300, 200, 300, 0, 510)
    requests, errors, p50, p95, p99 = db.execute(
        """SELECT requests, errors, ioc_hist_quantile(latency_hist, .5), ioc_hist_quantile(latency_hist, .95),
                  ioc_hist_quantile(latency_hist, .99)
           FROM health_window WHERE system = 'baocao' AND endpoint = '*' AND window_s = 60 AND time = %s""", (T0,)
    ).fetchone()
    assert (requests, errors) == (500, 100)
    hist = sketch.from_values(e.latency_ms for e in events)
    assert [p50, p95, p99] == pytest.approx([sketch.quantile(hist, q) for q in (0.5, 0.95, 0.99)], rel=1e-9)


async def test_of_two_copies_in_a_batch_the_first_is_stored_and_counted(test_settings, db):
    sink = TimescaleSink(test_settings.dsn)
    first = req(9001, 5.0).model_copy(update={"id": "sink-twice", "system": "twice"})
    later = first.model_copy(update={"dateObserved": first.dateObserved + timedelta(milliseconds=1), "latency_ms": 900.0})
    others = [req(9002 + i, 7.0).model_copy(update={"system": "twice"}) for i in range(3)]
    stats = SourceStats("health", T0, 5, 0)
    try:
        result = await sink.write(HEALTH_FEED, [first, others[0], later, *others[1:]], stats)
        again = await sink.write(HEALTH_FEED, [later, first], stats)  # both copies again: duplicates
    finally:
        await sink.close()
    assert (result.fresh, result.duplicates, again.fresh, again.duplicates) == (4, 1, 0, 2)
    rows = db.execute("SELECT time, latency_ms FROM health_event WHERE id = 'sink-twice'").fetchall()
    assert rows == [(first.dateObserved, 5.0)]
    counted = db.execute("SELECT requests, ioc_hist_quantile(latency_hist, 1) FROM health_window "
                         "WHERE system = 'twice' AND endpoint = '*' AND window_s = 60").fetchone()
    assert counted[0] == 4 and counted[1] < 10


async def test_unreachable_database_is_reported_as_unavailable():
    sink = TimescaleSink("postgresql://ioc@127.0.0.1:1/nowhere")
    with pytest.raises(SinkUnavailable):
        await sink.open(wait_s=1)
    await sink.close()


async def test_a_sink_that_could_not_connect_keeps_trying_afterwards():
    # psycopg_pool closes a pool whose first wait times out: a worker started while the database
    # was down then reported "the pool is already closed" for ever, even once the database was back
    sink = TimescaleSink("postgresql://ioc@127.0.0.1:1/nowhere")
    for _ in range(3):
        with pytest.raises(SinkUnavailable, match="not reachable"):
            await sink.open(wait_s=0.3)
    await sink.close()


def test_counter_rows_are_merged_per_key_in_key_order():
    from agents.indicators.network import NETWORK_WINDOW
    from agents.worker.sinks.timescale import merged_rows
    t1, t2 = T0, T0 + timedelta(minutes=1)
    row = {"link": "b", "window_s": 60, "time": t1, "polls": 1, "polls_up": 1, "loss_sum": 0.0, "loss_n": 0,
           "latency_sum": 2.5, "latency_n": 1, "utilisation_max": 0.2, "last_event": t1}
    rows = merged_rows(NETWORK_WINDOW, [row, {**row, "link": "a"}, {**row, "utilisation_max": 0.7, "latency_sum": 1.0},
                                        {**row, "time": t2}])
    assert [(r["link"], r["time"]) for r in rows] == [("a", t1), ("b", t1), ("b", t2)]
    assert (rows[1]["polls"], rows[1]["latency_sum"], rows[1]["utilisation_max"]) == (2, 3.5, 0.7)


def test_keys_holding_none_are_ordered_with_none_last():
    """A key column may hold None (a citizen report without an agency): such keys are ordered as the
    others, None after every value, whichever rows the batch holds."""
    from agents.indicators.network import NETWORK_WINDOW
    from agents.worker.sinks.timescale import merged_rows
    row = {"link": "b", "window_s": 60, "time": T0, "polls": 1}
    links = ["b", None, "a", None, "c"]
    rows = merged_rows(NETWORK_WINDOW, [{**row, "link": link} for link in links])
    assert [(r["link"], r["polls"]) for r in rows] == [("a", 1), ("b", 1), ("c", 1), (None, 2)]
    apart = merged_rows(NETWORK_WINDOW, [{**row, "link": None, "window_s": w} for w in (600, 60)])
    assert [r["window_s"] for r in apart] == [60, 600]


def test_column_arrays_hold_one_type_each():
    from agents.indicators.health import HEALTH_WINDOW
    from agents.worker.sinks.timescale import column_arrays, converter, param_type
    types = {"system": "text", "endpoint": "text", "window_s": "integer", "time": "timestamp with time zone",
             "probes": "integer", "probes_ok": "integer", "requests": "bigint", "errors": "integer",
             "latency_hist": "integer[]", "last_event": "timestamp with time zone",
             "last_ok": "timestamp with time zone", "last_failed": "timestamp with time zone"}
    row = {"system": "s", "endpoint": "*", "window_s": 10, "time": T0, "probes": True, "probes_ok": 0,
           "requests": 2, "errors": False, "latency_hist": [0, 2, 1], "last_event": T0, "last_ok": None,
           "last_failed": None}
    arrays = dict(zip(HEALTH_WINDOW.columns, column_arrays(HEALTH_WINDOW.columns, [row], types)))
    assert arrays["probes"] == [1] and type(arrays["probes"][0]) is int and type(arrays["errors"][0]) is int
    assert arrays["latency_hist"] == ["{0,2,1}"] and arrays["last_ok"] == [None]
    assert converter("double precision")(3) == 3.0 and converter("inet")("10.0.0.1") == "10.0.0.1"
    assert [param_type(t) for t in ("integer[]", "inet", "real", "jsonb")] == ["text", "text", "real", "text"]


def test_raw_rows_are_staged_in_binary_types():
    from agents.indicators.security import SECURITY_EVENT
    from agents.worker.sinks.timescale import copy_types, stage_sql
    types = copy_types(SECURITY_EVENT)
    assert types[0] == "integer" and len(types) == len(SECURITY_EVENT.columns) + 1
    assert dict(zip(["ord", *SECURITY_EVENT.column_names], types))["src_ip"] == "text"
    assert "ON COMMIT DELETE ROWS" in stage_sql(SECURITY_EVENT).as_string(None)


def test_array_literals_quote_what_is_not_a_number():
    from agents.worker.sinks.timescale import converter
    assert converter("integer[]")([0, 3, None]) == "{0,3,NULL}"
    assert converter("text[]")(['a,b', 'say "x"', "back\\slash"]) == '{"a,b","say \\"x\\"","back\\\\slash"}'
    assert converter("jsonb")({"a": [1, 2]}) == '{"a":[1,2]}' and converter("jsonb")("[1]") == "[1]"


@pytest.mark.parametrize("size, twice", [(3, True), (40, True), (40, False)])
async def test_copied_and_array_batches_store_and_count_alike(test_settings, db, size, twice):
    """A batch goes by COPY into the staging table or, when small, as array parameters: same rows,
    same counters, same de-duplication (a copy later in the batch, a replayed batch); a copied batch
    whose events are all fresh is stored whole, one with a second copy only its first copies."""
    def batch(path):
        system = f"{path}-{size}-{twice}"
        events = [req(i, 1.0 + i * 11.3).model_copy(update={"id": f"{system}-{i}", "system": system})
                  for i in range(size)]
        return events + [events[1].model_copy(update={"latency_ms": 999.0})] * twice  # a second copy: not counted

    outcomes, stored = {}, {}
    for path, copy_from in (("copied", 1), ("arrays", 10**9)):
        sink = TimescaleSink(test_settings.dsn, copy_from=copy_from)
        events = batch(path)
        try:
            first = await sink.write(HEALTH_FEED, events, SourceStats("health", T0, len(events), 0))
            again = await sink.write(HEALTH_FEED, events, SourceStats("health", T0, len(events), 0))
        finally:
            await sink.close()
        outcomes[path] = (first.fresh, first.duplicates, again.fresh, again.duplicates)
        stored[path] = (
            db.execute("SELECT replace(id, %s, ''), time, status_code, latency_ms, client_ip FROM health_event "
                       "WHERE system = %s ORDER BY id", (path, f"{path}-{size}-{twice}")).fetchall(),
            db.execute("SELECT endpoint, window_s, time, requests, errors, latency_hist FROM health_window "
                       "WHERE system = %s ORDER BY 1, 2, 3", (f"{path}-{size}-{twice}",)).fetchall())
    assert outcomes["copied"] == outcomes["arrays"] == (size, int(twice), 0, size + twice)
    assert stored["copied"] == stored["arrays"]
    assert len(stored["arrays"][0]) == size and stored["arrays"][1]
    assert 999.0 not in [row[3] for row in stored["copied"][0]]  # the first copy is the one stored


def test_histograms_add_in_sql_as_in_python(db):
    """``ioc_hist_add`` (and the ``ioc_hist_sum`` aggregate over it) add bucket by bucket: the longer
    length, a missing or NULL bucket as 0, NULL only for two NULLs."""
    import random

    rng = random.Random(39)
    pairs = [([rng.choice([0, 0, 0, 0, 1, 7, 250]) for _ in range(rng.choice([0, 3, 120]))],
              [rng.choice([0, 0, 0, 2, 40]) for _ in range(rng.choice([0, 5, 120]))]) for _ in range(200)]
    got = db.execute("SELECT ioc_hist_add(a, b) FROM unnest(%s::text[], %s::text[]) AS p (ta, tb), "
                     "LATERAL (SELECT ta::int[] AS a, tb::int[] AS b) AS c",
                     (["{" + ",".join(map(str, a)) + "}" for a, _ in pairs],
                      ["{" + ",".join(map(str, b)) + "}" for _, b in pairs])).fetchall()

    def add(a, b):
        n = max(len(a), len(b))
        return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)]

    assert [row[0] for row in got] == [add(a, b) for a, b in pairs]
    edge = db.execute("SELECT ioc_hist_add(NULL, '{1,2}'), ioc_hist_add('{1,2}', NULL), ioc_hist_add(NULL, NULL), "
                      "ioc_hist_add('{1,NULL}', '{NULL,0,4}'), ioc_hist_add('{NULL}', '{0}')").fetchone()
    assert edge == ([1, 2], [1, 2], None, [1, 0, 4], [0])
    total = db.execute("SELECT ioc_hist_sum(h) FROM unnest(%s::text[]) AS t (x), LATERAL (SELECT x::int[] AS h) AS c",
                       (["{" + ",".join(map(str, a)) + "}" for a, _ in pairs],)).fetchone()[0]
    expected: list[int] = []
    for a, _ in pairs:
        expected = add(expected, a)
    assert total == expected


async def test_a_copied_batch_of_new_ids_takes_the_plain_ledger_insert_and_a_replay_falls_back(test_settings, db):
    """The usual batch goes into the ledger with one plain insert; a replayed one (or one with an id
    twice) fails it on the unique key, its savepoint is rolled back, and the ledger's answer decides."""
    sink = TimescaleSink(test_settings.dsn, copy_from=1)
    took: list[bool] = []
    plain = sink._ledger_takes_all

    async def spy(conn, spec):
        took.append(await plain(conn, spec))
        return took[-1]

    sink._ledger_takes_all = spy
    events = [req(7000 + i, 3.0).model_copy(update={"id": f"plain-{i}", "system": "plain"}) for i in range(20)]
    newer = [req(7100 + i, 3.0).model_copy(update={"id": f"plain-new-{i}", "system": "plain"}) for i in range(5)]
    try:
        first = await sink.write(HEALTH_FEED, events, SourceStats("health", T0, 20, 0))
        again = await sink.write(HEALTH_FEED, events[:10] + newer, SourceStats("health", T0, 15, 0))
    finally:
        await sink.close()
    assert took == [True, False]
    assert (first.fresh, first.duplicates, again.fresh, again.duplicates) == (20, 0, 5, 10)
    assert db.execute("SELECT count(*) FROM health_event WHERE system = 'plain'").fetchone()[0] == 25
    assert db.execute("SELECT count(*) FROM event_id_ledger WHERE family = 'health' AND id LIKE 'plain-%'"
                      ).fetchone()[0] == 25
