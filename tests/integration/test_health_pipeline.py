"""Simulator -> real Kafka -> real worker -> real TimescaleDB, checked against an independent count."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from kafka import KafkaConsumer

from streams.core import sketch
from simulators.base import Runner
from simulators.health import HealthSimulator
from streams.core.geography import load_province
from streams.core.topics import topic_name
from tests.support import wait_for


def _feed(settings, n_ticks=40):
    """A deterministic health feed ending now: (events, messages) as the simulator sends them."""
    province = load_province(settings.province_file)
    sim = HealthSimulator(province, random.Random(42), probe_interval_s=2)
    sent = []
    runner = Runner([sim], lambda fam, key, value: sent.append((fam, key, value)), rate=400)
    start = datetime.now(timezone.utc) - timedelta(seconds=n_ticks * 0.1)
    for i in range(n_ticks):
        runner.step(start + timedelta(seconds=i * 0.1), 0.1)
    events = []
    for _, _, value in sent:
        doc = orjson.loads(value)
        events.extend(doc if isinstance(doc, list) else [doc])
    return events, sent


def _send(producer, messages):
    for fam, key, value in messages:
        producer(fam, key, value)
    producer.flush()


def _expected(events):
    """Per-system 60 s totals computed straight from the raw events, without the project's aggregator."""
    exp = {}
    for e in events:
        if e["type"] == "DocumentTally":  # the e-office's tallies count in document_day, not in the windows
            continue
        row = exp.setdefault(e["system"], Counter())
        if e["type"] == "ServiceProbe":
            row["probes"] += 1
            row["probes_ok"] += e["success"]
        else:
            row["requests"] += 1
            row["errors"] += e["status_code"] >= 500
    return exp


def _stored(db, since, systems):
    """Totals of the simulated systems (other tests of the run write other systems)."""
    rows = db.execute(
        """SELECT system, sum(probes), sum(probes_ok), sum(requests), sum(errors)
           FROM health_window WHERE window_s = 60 AND endpoint = '*' AND time >= %s AND system = ANY(%s)
           GROUP BY system""",
        (since, list(systems)),
    ).fetchall()
    return {s: Counter(probes=p, probes_ok=ok, requests=r, errors=e) for s, p, ok, r, e in rows}


def _count(db, since, events):
    ids = [e["id"] for e in events]
    return db.execute("SELECT count(*) FROM health_event WHERE time >= %s AND id = ANY(%s)", (since, ids)
                      ).fetchone()[0]


def test_events_become_exact_indicators_and_replays_change_nothing(worker, producer, db, test_settings):
    events, messages = _feed(test_settings)
    since = min(datetime.fromisoformat(e["dateObserved"]) for e in events) - timedelta(minutes=2)
    _send(producer, messages)
    try:
        wait_for(lambda: _count(db, since, events) >= len(events), timeout=90, what=f"{len(events)} raw rows")
    except AssertionError:
        raise AssertionError(f"rows did not arrive; worker log:\n{worker.log_tail()}") from None

    def strip(d):  # Counter equality ignores zero counts only after +
        return {k: +v for k, v in d.items()}

    expected = _expected(events)
    assert strip(_stored(db, since, expected)) == strip(expected)
    # the 10 s windows add up to the same totals
    ten = db.execute(
        "SELECT sum(requests) FROM health_window WHERE window_s = 10 AND endpoint = '*' AND time >= %s", (since,)
    ).fetchone()[0]
    assert ten == sum(r["requests"] for r in expected.values())
    # percentiles in SQL agree with the pure sketch over the same latencies
    system = max(expected, key=lambda s: expected[s]["requests"])
    lat = [e["latency_ms"] for e in events if e["system"] == system and e["type"] != "DocumentTally"]
    sql_p95 = db.execute(
        """SELECT ioc_hist_quantile(ioc_hist_sum(latency_hist), 0.95) FROM health_window
           WHERE window_s = 60 AND endpoint = '*' AND system = %s AND time >= %s""", (system, since),
    ).fetchone()[0]
    assert sql_p95 == pytest.approx(sketch.quantile(sketch.from_values(lat), 0.95), rel=1e-9)

    # the same messages again (a replay): nothing changes, the duplicates are counted as such
    _send(producer, messages)
    wait_for(
        lambda: db.execute("SELECT sum(duplicates) FROM source_window WHERE source = 'health' AND time >= %s",
                           (since,)).fetchone()[0] >= len(events),
        timeout=60, what="duplicates to be counted",
    )
    assert _count(db, since, events) == len(events)
    assert strip(_stored(db, since, expected)) == strip(expected)
    # the e-office's tallies of the feed: each unit's day holds at least its greatest count, replayed or
    # not (other simulated feeds of the run may have counted more the same day)
    tallies = {e["unit_code"]: e["documents_sent"] for e in events if e["type"] == "DocumentTally"}
    stored = dict(db.execute("SELECT unit_code, max(documents_sent) FROM document_day WHERE unit_code = ANY(%s) "
                             "AND last_event >= %s GROUP BY unit_code", (list(tallies), since)).fetchall())
    assert tallies and set(stored) == set(tallies) and all(stored[u] >= n for u, n in tallies.items())


def test_bad_events_go_to_the_dead_letter_topic_with_their_reason(worker, producer, test_settings, db):
    now = datetime.now(timezone.utc).isoformat()
    good = {"id": "dl-good", "type": "ServiceProbe", "system": "gis", "endpoint": "/", "dateObserved": now,
            "success": True, "latency_ms": 20.0}
    bad_array = orjson.dumps([good, {**good, "id": "dl-bad", "latency_ms": "slow"}])
    consumer = KafkaConsumer(
        topic_name(test_settings, "deadletter"), bootstrap_servers=test_settings.bootstrap_servers,
        auto_offset_reset="earliest", consumer_timeout_ms=1000, group_id=None,
    )
    producer("health", "gis", b"{not json")
    producer("health", "gis", bad_array)
    producer.flush()
    found = {}

    def poll():
        for rec in consumer:
            headers = {k: v for k, v in rec.headers}
            found[rec.value] = headers
        return len(found) >= 2 and found

    wait_for(poll, timeout=60, what="two dead letters")
    consumer.close()
    assert found[b"{not json"]["ioc-reason"] == b"not_json"
    bad = next(v for v in found if v.startswith(b"{") and b"dl-bad" in v)
    assert found[bad]["ioc-reason"] == b"invalid"
    assert found[bad]["ioc-source-index"] == b"1"
    assert b"latency_ms" in found[bad]["ioc-detail"]
    # its neighbour in the array was stored
    wait_for(lambda: db.execute("SELECT count(*) FROM health_event WHERE id = 'dl-good'").fetchone()[0] == 1,
             timeout=30, what="the good neighbour to be stored")


def test_the_worker_keeps_the_hourly_and_daily_rollups(worker, producer, db):
    """Probes of a system of this test's own: its hour and its local day appear in the rollups, equal
    to its windows, without anyone running ``ioc rollup``."""
    system = f"rollup-{random.randrange(16**6):06x}"
    now = datetime.now(timezone.utc)
    probes = [{"id": f"{system}-{i}", "type": "ServiceProbe", "dateObserved": (now - timedelta(seconds=i)).isoformat(),
               "system": system, "endpoint": "/", "success": i % 4 != 0, "latency_ms": 40.0 + i} for i in range(20)]
    producer("health", system, orjson.dumps(probes))
    producer.flush()
    wait_for(lambda: db.execute("SELECT sum(probes) FROM health_window WHERE system = %s AND window_s = 60 "
                                "AND endpoint = '*'", (system,)).fetchone()[0] == 20, timeout=60, what="probes stored")
    day = "SELECT sum(probes), sum(probes_ok) FROM health_day WHERE system = %s AND endpoint = '*'"
    hour = "SELECT sum(probes), sum(probes_ok) FROM health_hour WHERE system = %s AND endpoint = '*'"
    wait_for(lambda: db.execute(day, (system,)).fetchone() == (20, 15), timeout=60,
             what="the worker's rollup job to count them in the day")
    assert db.execute(hour, (system,)).fetchone() == (20, 15)
