"""Producing simulated events to Kafka (kafka-python, batched with linger)."""
from __future__ import annotations

from streams.core.errors import BrokerError
from streams.kafka.security import kafka_python_config
from streams.core.metrics import SimulatorMetrics
from streams.core.settings import Settings
from streams.core.topics import topic_name


class KafkaSender:
    """A ``send(family, key, value)`` callable that produces to the family's topic."""

    def __init__(self, settings: Settings, metrics: SimulatorMetrics | None = None) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        self.settings = settings
        self.metrics = metrics
        try:
            self.producer = KafkaProducer(
                bootstrap_servers=settings.bootstrap_servers,
                client_id="ioc-simulator",
                acks="all",  # every in-sync replica (min.insync.replicas of them at least) has it
                enable_idempotence=True,  # a batch retried after a leader change is written once
                linger_ms=20,
                batch_size=512 * 1024,
                max_request_size=settings.max_message_bytes,
                # retried until delivered or delivery_timeout_ms (120 s) passed: a leader killed with
                # SIGKILL is replaced only after the controller's broker session timeout (9 s)
                delivery_timeout_ms=120_000,
                **kafka_python_config(settings),
            )
        except KafkaError as exc:
            raise BrokerError(f"cannot connect to Kafka at {settings.kafka_bootstrap}: {exc}") from exc
        self._topics: dict[str, str] = {}
        self.errors = 0

    def __call__(self, family: str, key: str, value: bytes) -> None:
        topic = self._topics.get(family)
        if topic is None:
            topic = self._topics[family] = topic_name(self.settings, family)
        fut = self.producer.send(topic, key=key.encode(), value=value)
        if self.metrics:
            fut.add_errback(lambda exc, f=family: self._failed(f))
            self.metrics.messages_sent.labels(family).inc()

    def _failed(self, family: str) -> None:
        self.errors += 1
        if self.metrics:
            self.metrics.send_errors.labels(family).inc()

    def flush(self, timeout_s: float = 30) -> None:
        self.producer.flush(timeout=timeout_s)

    def close(self) -> None:
        self.producer.flush(timeout=30)
        self.producer.close(timeout=10)
