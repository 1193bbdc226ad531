"""The Faust application factory.  Topics are created up front (``ioc topics create``).

The app's consumer is ``agents.worker.batches.BatchConsumer``: feed topics reach their agents in
runs of messages, not one message at a time.

TLS and SASL to the brokers come from the settings (``streams/kafka/security.py``).
"""
from __future__ import annotations

import os
from pathlib import Path

import faust

from agents.worker import offsets
from agents.worker.batches import BatchTransport
from streams.kafka.security import faust_credentials
from streams.core.settings import Settings


def _datadir(settings: Settings) -> Path:
    """Faust keeps a directory per app even with a memory store: under the run directory, not the
    working directory (``APP_DATADIR``, Faust's own variable, still wins)."""
    datadir = Path(os.environ.get("APP_DATADIR") or settings.run_dir / "faust" / f"{settings.app_id}-data")
    datadir.mkdir(parents=True, exist_ok=True)
    return datadir


class FeedApp(faust.App):
    """Faust's app whose consumer delivers feed topics in runs (``BatchTransport``)."""

    def _new_transport(self) -> BatchTransport:
        return BatchTransport(self.conf.broker_consumer, self)


def create_app(settings: Settings, **overrides) -> faust.App:
    offsets.install()  # only stored messages are committed: agents/worker/offsets.py
    conf = dict(
        broker=[f"kafka://{s}" for s in settings.bootstrap_servers],
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.kafka_session_timeout_s,  # Faust's default is 60 s
        broker_heartbeat_interval=settings.kafka_session_timeout_s / 5,
        # aiokafka asks the old leader again and again for a partition's first offset after a leader
        # change (its offset reset only logs NotLeaderForPartition, it does not refresh the metadata),
        # until the metadata is refreshed: every 5 min by default (docs/reliability.md)
        consumer_metadata_max_age_ms=int(settings.kafka_metadata_max_age_s * 1000),
        stream_wait_empty=False,
        producer_linger_ms=5,
        logging_config=None,
        datadir=_datadir(settings),
    )
    credentials = faust_credentials(settings)
    if credentials is not None:
        conf["broker_credentials"] = credentials
    conf.update(overrides)
    return FeedApp(settings.app_id, **conf)
