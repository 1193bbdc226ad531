"""Test fixtures.  Unit tests need nothing; integration tests share one real stack per run.

The stack (Kafka, TimescaleDB) is started once per session by ``deploy/stack.sh start``
(idempotent: a running stack is reused).  Each session gets its own database and topic
prefix, so runs never see each other's data.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from streams.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get("IOC_TEST_ADMIN_DSN", "postgresql://ioc@127.0.0.1:5433/postgres")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.fspath) or item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> None:
    """The local stack, started once for the whole run."""
    result = subprocess.run([str(ROOT / "deploy" / "stack.sh"), "start"], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"local stack did not start:\n{result.stdout}\n{result.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def test_settings(stack) -> Settings:
    """Settings of this run: a fresh database with the schema, fresh topics."""
    from streams.kafka.admin import create_topics
    from streams.db.scratch import scratch_database

    run = uuid.uuid4().hex[:8]
    with scratch_database(ADMIN_DSN, f"ioc_test_{run}") as dsn:
        settings = Settings(
            database_url=dsn,
            topic_prefix=f"t{run}.",
            app_id=f"ioc-test-{run}",
            metrics_port=0,
            topic_partitions=2,
            detect_interval_s=2,
            rollup_interval_s=3,
        )
        create_topics(settings, log_fn=lambda *_: None)
        yield settings


@pytest.fixture
def db(test_settings):
    with psycopg.connect(test_settings.dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def worker(test_settings, tmp_path_factory):
    """One real ``ioc worker`` process for the run, consuming this run's topics."""
    from tests.support import WorkerProcess

    proc = WorkerProcess(test_settings, tmp_path_factory.mktemp("worker") / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def producer(test_settings):
    from simulators.kafka import KafkaSender

    sender = KafkaSender(test_settings)
    yield sender
    sender.close()
