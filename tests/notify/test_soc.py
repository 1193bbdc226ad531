"""Layer-4 forwarding: findings captured by the trigger, sent upstream, nothing lost while down."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from streams.core.metrics import NotifyMetrics
from agents.alerting.notify.soc import KafkaSocSink, SocForwarder, WebhookSocSink, build_sink
from agents.alerting.notify.testing import LocalReceiver
from agents.alerting.notify.transport import signature
from streams.core.settings import Settings
from tests.notify.conftest import T0, Clock
from tests.support import free_port

pytestmark = pytest.mark.integration

UPSERT = """INSERT INTO security_finding (time, kind, subject, target, severity, layer, value, threshold, detail,
                                          first_seen, last_seen)
            VALUES (%s, %s, %s, %s, %s, 2, %s, 20, 'failed logins', %s, %s)
            ON CONFLICT (kind, subject, target, time) DO UPDATE SET
              value = greatest(security_finding.value, EXCLUDED.value), severity = EXCLUDED.severity,
              last_seen = greatest(security_finding.last_seen, EXCLUDED.last_seen)"""


def finding(conn, subject: str, severity: str = "high", value: float = 30, minute: int = 0) -> None:
    t = T0 + timedelta(minutes=minute)
    conn.execute(UPSERT, (t, "brute_force", subject, "eoffice", severity, value, t, t + timedelta(seconds=30)))


def test_trigger_captures_new_findings_and_severity_changes_only(ndb):
    finding(ndb, "10.0.0.1")
    finding(ndb, "10.0.0.1", value=60)  # same finding, higher count: not news
    finding(ndb, "10.0.0.1", severity="critical", value=150)
    rows = ndb.execute("SELECT op, finding FROM soc_outbox ORDER BY id").fetchall()
    assert [(r["op"], r["finding"]["severity"], r["finding"]["value"]) for r in rows] == [
        ("new", "high", 30), ("update", "critical", 150)]


def test_link_down_then_up_forwards_everything_once_in_order(notify_dsn, ndb):
    clock = Clock()
    metrics = NotifyMetrics(CollectorRegistry())
    rx = LocalReceiver()  # the upstream SOC, down at first
    sink = WebhookSocSink(rx.url("/soc"), source="kien-giang-ioc", secret="k", timeout=2)
    fwd = SocForwarder(notify_dsn, sink, source="kien-giang-ioc", batch=4, metrics=metrics, clock=clock)
    for i in range(10):
        finding(ndb, f"10.0.0.{i}", minute=i)

    assert fwd.run_once() == 0
    health = fwd.health()
    assert (health.up, health.backlog, health.failures) == (False, 10, 1)
    assert "soc-webhook receiver" in health.last_error and "cannot reach" in health.last_error
    reg = metrics.registry
    assert reg.get_sample_value("ioc_soc_link_up") == 0 and reg.get_sample_value("ioc_soc_backlog") == 10
    assert fwd.run_once() == 0  # waiting out the backoff: not even tried
    clock.advance(5)
    assert fwd.run_once() == 0 and fwd.health().failures == 2  # 2nd try, still down; next wait 10 s

    rx.start()
    try:
        clock.advance(10)
        assert [fwd.run_once() for _ in range(4)] == [4, 4, 2, 0]
        got = rx.received("/soc")
    finally:
        rx.stop()
    messages = [m for r in got for m in r.json()["messages"]]
    assert [m["finding"]["subject"] for m in messages] == [f"10.0.0.{i}" for i in range(10)]
    assert len({m["id"] for m in messages}) == 10 and all(m["op"] == "new" for m in messages)
    assert messages[0]["finding"]["kind"] == "brute_force" and messages[0]["finding"]["layer"] == 2
    assert all(r.headers["x-ioc-signature-256"] == signature("k", r.body) for r in got)
    health = fwd.health()
    assert (health.up, health.backlog, health.failures, health.last_error) == (True, 0, 0, None)
    assert reg.get_sample_value("ioc_soc_link_up") == 1 and reg.get_sample_value("ioc_soc_backlog") == 0
    assert reg.get_sample_value("ioc_soc_forwarded_total") == 10
    assert reg.get_sample_value("ioc_soc_last_success_timestamp_seconds") == pytest.approx(clock().timestamp())


def test_idle_link_sends_heartbeats(notify_dsn, ndb):
    clock = Clock()
    with LocalReceiver() as rx:
        fwd = SocForwarder(notify_dsn, WebhookSocSink(rx.url("/soc"), source="kg"), source="kg",
                           heartbeat_every=timedelta(seconds=60), clock=clock)
        fwd.run_once()
        clock.advance(30)
        fwd.run_once()
        clock.advance(31)
        fwd.run_once()
        beats = [r.json()["messages"][0] for r in rx.received()]
    assert [b["type"] for b in beats] == ["heartbeat", "heartbeat"]
    assert fwd.health().up


def test_kafka_mode_produces_one_keyed_message_per_finding(test_settings, notify_dsn, ndb):
    from kafka import KafkaAdminClient, KafkaConsumer
    from kafka.admin import NewTopic

    topic = f"{test_settings.topic_prefix}soc-{uuid.uuid4().hex[:6]}"
    admin = KafkaAdminClient(bootstrap_servers=test_settings.bootstrap_servers)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    settings = Settings(soc_mode="kafka", soc_topic=topic, kafka_bootstrap=test_settings.kafka_bootstrap,
                        database_url=notify_dsn, notify_timeout_s=10)
    fwd = SocForwarder.from_settings(settings, clock=Clock())
    try:
        finding(ndb, "10.9.9.9")
        finding(ndb, "10.9.9.9", severity="critical", value=200)
        assert fwd.run_once() == 2
    finally:
        fwd.sink.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=test_settings.bootstrap_servers, auto_offset_reset="earliest",
                             consumer_timeout_ms=10000)
    got = []
    for msg in consumer:
        got.append((msg.key.decode(), json.loads(msg.value)))
        if len(got) == 2:
            break
    consumer.close()
    assert [k for k, _ in got] == ["brute_force|10.9.9.9|eoffice"] * 2
    assert [(m["op"], m["finding"]["severity"]) for _, m in got] == [("new", "high"), ("update", "critical")]


def test_kafka_down_is_a_link_failure(notify_dsn, ndb):
    sink = KafkaSocSink(f"127.0.0.1:{free_port()}", "soc.x", timeout=2)
    fwd = SocForwarder(notify_dsn, sink, source="kg", clock=Clock())
    finding(ndb, "10.1.1.1")
    assert fwd.run_once() == 0
    health = fwd.health()
    assert not health.up and health.backlog == 1 and "soc-kafka receiver" in health.last_error


def test_build_sink_from_settings():
    assert build_sink(Settings()) is None
    assert isinstance(build_sink(Settings(soc_mode="webhook", soc_url="https://soc.example/in")), WebhookSocSink)
    from streams.core.errors import ConfigError

    with pytest.raises(ConfigError, match="IOC_SOC_URL"):
        build_sink(Settings(soc_mode="webhook"))
