"""The processes the command line starts, run in threads on a database of their own: the alert
engine (one active at a time, by the advisory lock) and the notifier, both until stopped."""
from __future__ import annotations

import threading
import uuid

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from agents.alerting.notify.runner import run_notifier
from agents.alerting.runner import run_engine
from tests.conftest import ADMIN_DSN
from tests.support import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(test_settings):
    """The run's settings on a fresh database: an engine's rounds must not touch the shared one."""
    from streams.db.scratch import scratch_database

    with scratch_database(ADMIN_DSN, f"ioc_test_runners_{uuid.uuid4().hex[:8]}") as dsn:
        yield test_settings.model_copy(update={
            "database_url": SecretStr(dsn), "alerts_metrics_port": 0, "notify_metrics_port": 0,
            "alert_interval_s": 0.2, "notify_poll_s": 0.1, "alertmanager_url": "http://127.0.0.1:1"})


class Running:
    """``run(settings, stop, registry=…)`` in a thread, with its own stop event and registry."""

    def __init__(self, run, settings) -> None:
        self.stop, self.registry, self.result = threading.Event(), CollectorRegistry(), []
        self.thread = threading.Thread(target=lambda: self.result.append(run(settings, self.stop,
                                                                             registry=self.registry)), daemon=True)
        self.thread.start()

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def finish(self) -> list[int]:
        self.stop.set()
        self.thread.join(timeout=30)
        return self.result


def test_one_alert_engine_evaluates_the_other_waits_for_the_lock(settings):
    first = Running(run_engine, settings)
    try:
        wait_for(lambda: (first.sample("ioc_alert_rounds_total", outcome="ok") or 0) >= 2, timeout=60,
                 what="rounds of the first engine")
        assert first.sample("ioc_alert_rules_valid") == 1.0
        standby = Running(run_engine, settings)
        try:
            threading.Event().wait(1.0)  # five of the first engine's rounds
            assert standby.sample("ioc_alert_rounds_total", outcome="ok") is None  # waiting, hot
            assert first.finish() == [0]
            wait_for(lambda: (standby.sample("ioc_alert_rounds_total", outcome="ok") or 0) >= 1, timeout=30,
                     what="the standby taking over")
        finally:
            assert standby.finish() == [0]
    finally:
        first.finish()


def test_the_notifier_dispatches_until_stopped(settings):
    notifier = Running(run_notifier, settings)
    try:
        # a round done: the backlog of every channel of the on-call file is known (0)
        wait_for(lambda: notifier.sample("ioc_notify_backlog", channel="webhook") is not None, timeout=30,
                 what="a dispatcher round")
        assert notifier.sample("ioc_notify_backlog", channel="webhook") == 0.0
        assert notifier.thread.is_alive()
    finally:
        assert notifier.finish() == [0]
    assert not notifier.thread.is_alive()
