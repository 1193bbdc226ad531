"""The dispatcher against TimescaleDB: claims, retries with backoff, gives up, shares work."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry

from streams.core.metrics import NotifyMetrics
from streams.core.backoff import Backoff
from agents.alerting.notify.channels import WebhookChannel
from agents.alerting.notify.dispatcher import Dispatcher
from agents.alerting.notify.oncall import parse_oncall
from agents.alerting.notify.testing import LocalReceiver
from streams.core.settings import Settings
from tests.notify.conftest import Clock, insert_alert, queue

pytestmark = pytest.mark.integration


def oncall_for(rx: LocalReceiver):
    return parse_oncall({
        "receivers": {"hook": {"channel": "webhook", "url": rx.url("/ioc")},
                      "other": {"channel": "webhook", "url": rx.url("/other")}},
        "levels": [{"receivers": ["hook", "other"]}],
    })


def dispatcher(dsn, rx, *, backoff=Backoff(base_s=5, max_s=600, max_attempts=5), clock=None, metrics=None, batch=20):
    return Dispatcher(dsn, oncall_for(rx), {"webhook": WebhookChannel(Settings(notify_timeout_s=2))},
                      backoff=backoff, clock=clock or Clock(), metrics=metrics, batch=batch)


def outbox(conn):
    return {r["id"]: r for r in conn.execute("SELECT * FROM notification_outbox ORDER BY id").fetchall()}


def test_sends_marks_sent_and_measures(notify_dsn, ndb):
    metrics = NotifyMetrics(CollectorRegistry())
    with LocalReceiver() as rx:
        ids = queue(ndb, insert_alert(ndb), "webhook", "hook", n=3)
        result = dispatcher(notify_dsn, rx, metrics=metrics).run_once()
        got = rx.wait_for(3)
    assert (result.sent, result.retried, result.failed) == (3, 0, 0)
    assert [r.headers["x-ioc-delivery"] for r in got] == [f"ioc-notification-{i}" for i in ids]
    rows = outbox(ndb)
    assert {r["status"] for r in rows.values()} == {"sent"} and all(r["attempts"] == 1 for r in rows.values())
    reg = metrics.registry
    assert reg.get_sample_value("ioc_notify_sent_total", {"channel": "webhook"}) == 3
    assert reg.get_sample_value("ioc_notify_latency_seconds_count", {"channel": "webhook"}) == 3
    assert reg.get_sample_value("ioc_notify_backlog", {"channel": "webhook"}) == 0


def test_backoff_timeline_then_given_up(notify_dsn, ndb):
    clock = Clock()
    rx = LocalReceiver()  # never started: the receiver is down
    (rid,) = queue(ndb, insert_alert(ndb), "webhook", "hook")
    d = dispatcher(notify_dsn, rx, clock=clock)
    waits = []
    for _ in range(5):
        before = clock()
        assert d.run_once().claimed == 1
        row = outbox(ndb)[rid]
        if row["status"] == "failed":
            break
        waits.append((row["next_attempt_at"] - before).total_seconds())
        assert d.run_once().claimed == 0  # not due yet
        clock.now = row["next_attempt_at"]
    assert waits == [5, 10, 20, 40]
    row = outbox(ndb)[rid]
    assert row["status"] == "failed" and row["attempts"] == 5
    assert f"webhook receiver 'hook': cannot reach {rx.url('/ioc')}" in row["last_error"]


def test_rows_of_a_failing_receiver_wait_with_it_and_keep_their_order(notify_dsn, ndb, caplog):
    caplog.set_level("WARNING", logger="ioc.notify")
    clock = Clock()
    with LocalReceiver() as rx:
        rx.respond = lambda req: (503, b"busy") if req.path == "/ioc" else (200, b"{}")
        alert = insert_alert(ndb)
        hook = queue(ndb, alert, "webhook", "hook", n=4)
        queue(ndb, alert, "webhook", "other", n=2)
        d = dispatcher(notify_dsn, rx, clock=clock)
        result = d.run_once()
        assert (result.sent, result.retried, result.deferred) == (2, 1, 3)  # one try, three wait with it
        assert len(rx.received("/ioc")) == 1
        rows = outbox(ndb)
        assert {rows[i]["next_attempt_at"] for i in hook} == {clock() + timedelta(seconds=5)}
        assert [rows[i]["attempts"] for i in hook] == [1, 0, 0, 0]
        rx.respond = lambda req: (200, b"{}")
        clock.advance(5)
        assert d.run_once().sent == 4
        delivered = [r.headers["x-ioc-delivery"] for r in rx.received("/ioc")]
    assert delivered == [f"ioc-notification-{i}" for i in [hook[0], *hook]]
    warnings = [r.getMessage() for r in caplog.records if r.name == "ioc.notify"]
    assert len([w for w in warnings if "attempt 1 failed" in w]) == 1  # one line while it fails
    assert warnings[-1] == "webhook receiver 'hook' delivers again"


def test_rejected_message_fails_at_once(notify_dsn, ndb):
    with LocalReceiver(respond=lambda req: (400, b"bad alert")) as rx:
        (rid,) = queue(ndb, insert_alert(ndb), "webhook", "hook")
        assert dispatcher(notify_dsn, rx).run_once().failed == 1
    row = outbox(ndb)[rid]
    assert row["status"] == "failed" and "HTTP 400" in row["last_error"]


def test_unknown_receiver_is_retried_not_lost(notify_dsn, ndb):
    with LocalReceiver() as rx:
        (rid,) = queue(ndb, insert_alert(ndb), "webhook", "removed-from-file")
        assert dispatcher(notify_dsn, rx).run_once().retried == 1
    row = outbox(ndb)[rid]
    assert row["status"] == "pending" and "no receiver 'removed-from-file'" in row["last_error"]


def test_down_then_up_delivers_every_row_exactly_once_with_two_dispatchers(notify_dsn, ndb):
    """The receiver is down for ~1.5 s while 40 rows queue; two dispatchers share the outbox."""
    rx = LocalReceiver()
    alert = insert_alert(ndb)
    ids = queue(ndb, alert, "webhook", "hook", n=20) + queue(ndb, alert, "webhook", "other", n=20)
    fast = Backoff(base_s=0.2, max_s=0.5, max_attempts=100)
    stop = threading.Event()
    workers = [threading.Thread(target=dispatcher(notify_dsn, rx, backoff=fast, clock=_real_clock(), batch=7).run,
                                args=(stop,), kwargs={"poll_s": 0.05}) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        time.sleep(1.5)
        assert sum(r["attempts"] for r in outbox(ndb).values()) >= 2  # tried while down
        assert not rx.requests
        rx.start()
        got = rx.wait_for(40, timeout=20)
        time.sleep(0.5)  # nothing more arrives
    finally:
        stop.set()
        for w in workers:
            w.join()
        rx.stop()
    keys = [r.headers["x-ioc-delivery"] for r in rx.requests]
    assert len(keys) == 40 and sorted(keys) == sorted(f"ioc-notification-{i}" for i in ids)
    assert len(got) == 40
    assert {r["status"] for r in outbox(ndb).values()} == {"sent"}


def _real_clock():
    from streams.core.clock import utcnow

    return utcnow


def test_a_new_row_wakes_an_idle_dispatcher(notify_dsn, ndb):
    """LISTEN/NOTIFY: with a 30 s poll, a committed row is still sent within a second."""
    stop = threading.Event()
    with LocalReceiver() as rx:
        worker = threading.Thread(target=dispatcher(notify_dsn, rx, clock=_real_clock()).run, args=(stop,),
                                  kwargs={"poll_s": 30})
        worker.start()
        try:
            time.sleep(0.5)  # idle, listening
            started = time.monotonic()
            queue(ndb, insert_alert(ndb), "webhook", "hook")
            rx.wait_for(1, timeout=5)
            assert time.monotonic() - started < 1
        finally:
            stop.set()
            queue(ndb, insert_alert(ndb, entity="dvc"), "webhook", "other")  # wake it to stop now
            worker.join(timeout=10)
    assert not worker.is_alive()


def test_the_alertmanager_resend_keeps_drill_alerts_from_the_real_on_call(notify_dsn, ndb):
    from agents.alerting.notify.channels import AlertmanagerChannel

    run_id = ndb.execute(
        "INSERT INTO drill_run (scenario, run, started_at, ends_at, started_by, targets) "
        "VALUES ('dvc-ddos', 'r1', now(), now() + interval '5 minutes', 't', '{dvc}') RETURNING id").fetchone()["id"]
    insert_alert(ndb, entity="eoffice", fired_at=datetime.now(timezone.utc))
    insert_alert(ndb, entity="dvc", fired_at=datetime.now(timezone.utc), drill_run=run_id, drill="dvc-ddos")
    with LocalReceiver() as real, LocalReceiver() as drill:
        oncall = parse_oncall({"receivers": {"am": {"channel": "alertmanager", "url": real.url()},
                                             "am-drill": {"channel": "alertmanager", "url": drill.url()}},
                               "levels": [{"receivers": ["am"]}], "drill": {"receivers": ["am-drill"]}})
        d = Dispatcher(notify_dsn, oncall, {"alertmanager": AlertmanagerChannel(Settings())})
        assert d.resend_alertmanager() == 2
        (to_real,) = real.wait_for(1)
        (to_drill,) = drill.wait_for(1)
    assert [a["labels"]["entity"] for a in to_real.json()] == ["eoffice"]
    assert sorted((a["labels"]["entity"], a["labels"].get("drill")) for a in to_drill.json()) == [
        ("dvc", "dvc-ddos"), ("eoffice", None)]
