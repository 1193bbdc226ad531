"""Fixtures of the deployment tests: isolated runs with their own database, topics and group."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from streams.core.settings import Settings
from tests.conftest import ADMIN_DSN


@pytest.fixture
def isolated(stack) -> Iterator:
    """``isolated(**overrides)`` -> Settings with a fresh database, topics and consumer group."""
    from streams.kafka.admin import create_topics, delete_topics
    from streams.db.scratch import scratch_database

    with ExitStack() as cleanup:
        def make(**overrides) -> Settings:
            run = uuid.uuid4().hex[:8]
            dsn = cleanup.enter_context(scratch_database(ADMIN_DSN, f"ioc_deploy_{run}"))
            base = dict(database_url=dsn, topic_prefix=f"d{run}.", app_id=f"ioc-deploy-{run}", metrics_port=0,
                        detect_interval_s=5)
            settings = Settings(**{**base, **overrides})
            cleanup.callback(_delete_topics, delete_topics, settings)
            create_topics(settings, log_fn=lambda *_: None)
            return settings

        yield make


def _delete_topics(delete_topics, settings: Settings) -> None:
    try:
        delete_topics(settings)
    except Exception:  # noqa: BLE001 — cleanup must not hide the test's own failure
        pass

