"""Layer 4 of Directive 14/CT-TTg: security findings forwarded to the upstream SOC as they happen.

A trigger (migration 011) copies each new finding, and each change of a finding's severity, into
``soc_outbox`` inside the detector's transaction.  The forwarder sends unsent rows in id order to
a webhook or a Kafka topic and stamps them sent; while the link is down nothing is stamped, it
retries with backoff and never gives up.  An idle link sends a heartbeat every
``soc_heartbeat_s``, so its health is always current: ``soc_link`` (up, last success, last error)
and the metrics ``ioc_soc_link_up``, ``ioc_soc_last_success_timestamp_seconds``, ``ioc_soc_backlog``.

Only one forwarder sends at a time (it holds the ``soc_link`` row), so the order is kept.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from streams.core.clock import utcnow
from streams.core.errors import ConfigError, NotifyError
from streams.core.metrics import NotifyMetrics
from streams.core.backoff import Backoff
from agents.alerting.notify.channels import Clock
from agents.alerting.notify.transport import SIGNATURE_HEADER, json_body, post, signature
from agents.alerting.notify.wakeup import Wakeup, run_loop
from streams.core.settings import Settings
from streams.db.connect import Connection, connect
from streams.db.errors import translated

log = logging.getLogger("ioc.soc")
LINK = "soc"
FIELDS = ("time", "kind", "subject", "target", "severity", "layer", "value", "threshold", "detail",
          "first_seen", "last_seen")


# --- messages (pure) ----------------------------------------------------------------------------

def envelope(row: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """The message for one ``soc_outbox`` row; ``id`` is stable, so the SOC can drop repeats."""
    f = row["finding"]
    return {
        "type": "security_finding",
        "source": source,
        "id": f"{source}:{row['id']}",
        "op": row["op"],
        "detected_at": row["created_at"].isoformat(),
        "finding": {k: f.get(k) for k in FIELDS},
    }


def heartbeat(*, source: str, now: datetime, backlog: int) -> dict[str, Any]:
    return {"type": "heartbeat", "source": source, "at": now.isoformat(), "backlog": backlog}


def message_key(msg: Mapping[str, Any]) -> str:
    f = msg.get("finding")
    return f"{f['kind']}|{f['subject']}|{f['target']}" if f else msg["type"]


# --- where they go ------------------------------------------------------------------------------

class SocSink(Protocol):
    target: str

    def send(self, messages: list[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class WebhookSocSink:
    """One POST per batch: ``{"source": …, "messages": […]}``, signed when a secret is set."""

    def __init__(self, url: str, *, source: str, secret: str = "", timeout: float = 10) -> None:
        self.target, self.source, self.secret, self.timeout = url, source, secret, timeout

    def send(self, messages: list[dict[str, Any]]) -> None:
        body = json_body({"source": self.source, "messages": messages})
        headers = {"X-IOC-Batch": f"{messages[0].get('id', 'heartbeat')}..{messages[-1].get('id', 'heartbeat')}"}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        post(self.target, body, channel="soc-webhook", receiver=self.target, timeout=self.timeout, headers=headers)

    def close(self) -> None:
        pass


class KafkaSocSink:
    """One message per finding, keyed by kind|subject|target, acknowledged by all replicas.

    ``client_config``: TLS/SASL keyword arguments for the producer (``kafka_python_config``).
    """

    def __init__(self, bootstrap: str, topic: str, *, timeout: float = 10,
                 client_config: Mapping[str, Any] | None = None) -> None:
        self.bootstrap, self.topic, self.timeout = bootstrap, topic, timeout
        self.client_config = dict(client_config or {})
        self.target = f"kafka://{bootstrap}/{topic}"
        self._producer = None

    def _error(self, message: str, exc: Exception) -> NotifyError:
        self.close()  # a fresh producer next time
        return NotifyError(f"{message}: {type(exc).__name__}: {exc}", channel="soc-kafka", receiver=self.target)

    def send(self, messages: list[dict[str, Any]]) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        try:
            if self._producer is None:
                ms = int(self.timeout * 1000)
                extra = {"bootstrap_timeout_ms": ms} if "bootstrap_timeout_ms" in KafkaProducer.DEFAULT_CONFIG else {}
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap.split(","), client_id="ioc-soc-forwarder", acks="all",
                    linger_ms=5, retries=3, request_timeout_ms=ms, max_block_ms=ms, **extra,
                    **self.client_config,
                )
            futures = [self._producer.send(self.topic, key=message_key(m).encode(), value=json_body(m))
                       for m in messages]
            self._producer.flush(timeout=self.timeout)
            for fut in futures:
                fut.get(timeout=self.timeout)
        except KafkaError as exc:
            raise self._error("not accepted", exc) from exc

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=5)
            except Exception:  # noqa: BLE001 — closing a broken producer must not hide the real error
                pass
            self._producer = None


def build_sink(settings: Settings) -> SocSink | None:
    """The sink of ``IOC_SOC_MODE`` (``None`` when off)."""
    if settings.soc_mode == "webhook":
        if not settings.soc_url:
            raise ConfigError("IOC_SOC_MODE=webhook needs IOC_SOC_URL")
        return WebhookSocSink(settings.soc_url, source=settings.soc_source,
                              secret=settings.soc_secret.get_secret_value(), timeout=settings.notify_timeout_s)
    if settings.soc_mode == "kafka":
        from streams.kafka.security import kafka_python_config

        # our own cluster takes our TLS/SASL settings; an upstream cluster is reached as configured there
        own = not settings.soc_kafka_bootstrap
        return KafkaSocSink(settings.soc_kafka_bootstrap or settings.kafka_bootstrap, settings.soc_topic,
                            timeout=settings.notify_timeout_s,
                            client_config=kafka_python_config(settings) if own else None)
    return None


# --- the forwarder ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkHealth:
    up: bool
    backlog: int
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    failures: int


class SocForwarder:
    def __init__(self, dsn: str, sink: SocSink, *, source: str, batch: int = 200,
                 heartbeat_every: timedelta = timedelta(seconds=60), backoff: Backoff = Backoff(5, 60),
                 metrics: NotifyMetrics | None = None, clock: Clock = utcnow) -> None:
        self.dsn, self.sink, self.source, self.batch = dsn, sink, source, batch
        self.heartbeat_every, self.backoff, self.metrics, self.clock = heartbeat_every, backoff, metrics, clock

    @classmethod
    def from_settings(cls, settings: Settings, *, metrics: NotifyMetrics | None = None,
                      clock: Clock = utcnow) -> SocForwarder | None:
        sink = build_sink(settings)
        if sink is None:
            return None
        return cls(settings.dsn, sink, source=settings.soc_source, batch=settings.soc_batch,
                   heartbeat_every=timedelta(seconds=settings.soc_heartbeat_s),
                   backoff=Backoff(5, settings.soc_retry_max_s), metrics=metrics, clock=clock)

    def _connect(self) -> Connection:
        return connect(self.dsn, what="SOC outbox unavailable", table="soc_outbox", role="soc", dict_rows=True)

    def run_once(self) -> int:
        """Forward one batch (or a heartbeat when idle); returns the findings forwarded."""
        now = self.clock()
        with translated("SOC outbox", table="soc_outbox"), self._connect() as conn:
            with conn.transaction():
                sent = self._round(conn, now)
            self._observe(conn)
        return sent

    def _round(self, conn: Connection, now: datetime) -> int:
        conn.execute("INSERT INTO soc_link (link, target) VALUES (%s, %s) ON CONFLICT (link) DO NOTHING",
                     (LINK, self.sink.target))
        link = conn.execute("SELECT * FROM soc_link WHERE link = %s FOR UPDATE SKIP LOCKED", (LINK,)).fetchone()
        if link is None or link["next_attempt_at"] > now:
            return 0  # another forwarder is at it, or we are waiting out a failure
        rows = conn.execute("SELECT id, op, finding, created_at FROM soc_outbox WHERE sent_at IS NULL "
                            "ORDER BY id LIMIT %s", (self.batch,)).fetchall()
        idle = link["up"] and link["last_attempt_at"] and now - link["last_attempt_at"] < self.heartbeat_every
        if not rows and idle:
            return 0
        messages = ([envelope(r, source=self.source) for r in rows] if rows
                    else [heartbeat(source=self.source, now=now, backlog=0)])
        try:
            self.sink.send(messages)
        except NotifyError as exc:
            failures = link["failures"] + 1
            conn.execute(
                """UPDATE soc_link SET up = false, failures = %s, last_attempt_at = %s, last_error = %s,
                          next_attempt_at = %s, target = %s WHERE link = %s""",
                (failures, now, str(exc)[:1000], now + self.backoff.delay(failures), self.sink.target, LINK),
            )
            log.warning("SOC link down (%d failures in a row): %s", failures, exc)
            if self.metrics:
                self.metrics.soc_errors.inc()
            return 0
        done = self.clock()
        if rows:
            conn.execute("UPDATE soc_outbox SET sent_at = %s WHERE id = ANY(%s)", (done, [r["id"] for r in rows]))
        conn.execute(
            """UPDATE soc_link SET up = true, failures = 0, last_attempt_at = %s, last_success_at = %s,
                      last_error = NULL, next_attempt_at = %s, forwarded = forwarded + %s, target = %s
               WHERE link = %s""",
            (now, done, done, len(rows), self.sink.target, LINK),
        )
        if self.metrics:
            self.metrics.soc_forwarded.inc(len(rows))
        return len(rows)

    def _observe(self, conn: Connection) -> LinkHealth:
        link = conn.execute("SELECT * FROM soc_link WHERE link = %s", (LINK,)).fetchone() or {}
        backlog = conn.execute("SELECT count(*) AS n FROM soc_outbox WHERE sent_at IS NULL").fetchone()["n"]
        health = LinkHealth(bool(link.get("up")), backlog, link.get("last_success_at"), link.get("last_attempt_at"),
                            link.get("last_error"), link.get("failures", 0))
        if self.metrics:
            self.metrics.soc_up.set(1 if health.up else 0)
            self.metrics.soc_backlog.set(backlog)
            if health.last_success_at:
                self.metrics.soc_last_success.set(health.last_success_at.timestamp())
        return health

    def health(self) -> LinkHealth:
        """The link as the wall and the rules see it (also refreshes the metrics)."""
        with translated("SOC link health", table="soc_link"), self._connect() as conn:
            return self._observe(conn)

    def prune(self, keep: timedelta = timedelta(days=7)) -> int:
        """Delete rows sent more than ``keep`` ago; unsent rows are never deleted."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM soc_outbox WHERE sent_at < %s", (self.clock() - keep,)).rowcount

    def run(self, stop: threading.Event, *, poll_s: float = 1.0, prune_every_s: float = 3600) -> None:
        """Forward until ``stop`` is set; sent rows older than a week are pruned every hour."""
        next_prune = self.clock()

        def step() -> bool:
            nonlocal next_prune
            if self.clock() >= next_prune:
                next_prune = self.clock() + timedelta(seconds=prune_every_s)
                self.prune()
            return self.run_once() >= self.batch

        run_loop(step, stop=stop, wakeup=Wakeup(self.dsn, "ioc_soc_outbox", stop), poll_s=poll_s,
                 what="SOC forwarder")
