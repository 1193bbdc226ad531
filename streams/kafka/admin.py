"""Kafka administration: create the project's topics up front, with explicit partitions."""
from __future__ import annotations

import logging
import time

from streams.core.errors import BrokerError
from streams.kafka.security import kafka_python_config
from streams.core.settings import Settings
from streams.core.topics import all_topics

log = logging.getLogger(__name__)


def _admin(settings: Settings, timeout_s: float):
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="ioc-admin",
                                    request_timeout_ms=15000, **kafka_python_config(settings))
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"Kafka at {settings.kafka_bootstrap} not reachable ({exc}); is the stack up? "
                    "Try: deploy/stack.sh start"
                ) from exc
            time.sleep(1)


def create_topics(settings: Settings, *, timeout_s: float = 60, log_fn=print) -> dict[str, int]:
    """Create missing topics and grow ones with too few partitions; returns name -> partitions."""
    from kafka.admin import NewPartitions, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    wanted = all_topics(settings)
    admin = _admin(settings, timeout_s)
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(n, p, settings.topic_replication) for n, p in wanted.items() if n not in existing]
        if missing:
            try:
                admin.create_topics(missing, timeout_ms=30000)
            except TopicAlreadyExistsError:
                pass
            for t in missing:
                log_fn(f"topics: created {t.name} ({t.num_partitions} partitions)")
        present = [n for n in wanted if n in existing]
        if present:
            for desc in admin.describe_topics(present):
                name, have = desc.get("name") or desc.get("topic"), len(desc["partitions"])
                if have < wanted[name]:
                    admin.create_partitions({name: NewPartitions(wanted[name])})
                    log_fn(f"topics: {name} grown from {have} to {wanted[name]} partitions")
    except KafkaError as exc:
        raise BrokerError(f"creating topics failed: {exc}") from exc
    finally:
        admin.close()
    return wanted


def delete_topics(settings: Settings) -> None:
    from kafka.errors import KafkaError

    admin = _admin(settings, 30)
    try:
        existing = set(admin.list_topics())
        names = [n for n in all_topics(settings) if n in existing]
        if names:
            admin.delete_topics(names, timeout_ms=30000)
    except KafkaError as exc:
        raise BrokerError(f"deleting topics failed: {exc}") from exc
    finally:
        admin.close()
