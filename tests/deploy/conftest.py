"""Fixtures of the deployment tests: isolated runs with their own database, topics and group."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from streams.settings import Settings
from tests.conftest import ADMIN_DSN


@pytest.fixture
def isolated(stack) -> Iterator:
    """``isolated(**overrides)`` -> Settings with a fresh database, topics and consumer group."""
    from streams.admin import create_topics, delete_topics
    from streams.db.migrate import migrate

    made: list[tuple[str, Settings]] = []

    def make(**overrides) -> Settings:
        run = uuid.uuid4().hex[:8]
        dbname = f"ioc_deploy_{run}"
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        base = dict(database_url=ADMIN_DSN.rsplit("/", 1)[0] + f"/{dbname}", topic_prefix=f"d{run}.",
                    app_id=f"ioc-deploy-{run}", metrics_port=0, batch_within_s=0.2, detect_interval_s=5)
        settings = Settings(**{**base, **overrides})
        made.append((dbname, settings))
        migrate(settings.dsn, log=lambda *_: None)
        create_topics(settings, log_fn=lambda *_: None)
        return settings

    yield make
    for dbname, settings in made:
        try:
            delete_topics(settings)
        except Exception:  # noqa: BLE001 — cleanup must not hide the test's own failure
            pass
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

