"""The whole product for the end-to-end drill tests: worker, alert engine, notifier, a webhook
receiver and the wall, in a database and topics of their own (drills fill them with alerts that
other tests must not see)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agents.alerting.notify.testing import LocalReceiver
from streams.core.settings import Settings
from tests.conftest import ADMIN_DSN
from tests.support import WorkerProcess

ALERT_INTERVAL_S = 5  # the engine's evaluation period in these tests (10 s in production)

ONCALL = """receivers:
  ops:
    channel: webhook
    url: {ops}
    description: on-call (the test's receiver)
  drill:
    channel: webhook
    url: {drill}
    description: the drill's own channel (the test's receiver)
levels:
  - name: trực ban
    after: 0s
    receivers: [ops]
drill:
  receivers: [drill]
  notify_oncall: false
"""


@dataclass
class Pipeline:
    settings: Settings
    receiver: LocalReceiver
    workdir: Path
    procs: dict[str, WorkerProcess] = field(default_factory=dict)

    def start(self, name: str, *command: str, **env: str) -> WorkerProcess:
        proc = WorkerProcess(self.settings, self.workdir / f"{name}.log", command=command, **env)
        self.procs[name] = proc
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if not name.startswith("drill") and not proc.alive():
                raise AssertionError(f"{name} exited with {proc.proc.returncode}:\n{proc.log_tail()}")

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()


@pytest.fixture(scope="module")
def pipeline(stack, tmp_path_factory) -> Iterator[Pipeline]:
    from streams.kafka.admin import create_topics
    from streams.db.scratch import scratch_database

    run = uuid.uuid4().hex[:8]
    workdir = tmp_path_factory.mktemp("e2e")
    receiver = LocalReceiver().start()
    oncall = workdir / "oncall.yaml"
    oncall.write_text(ONCALL.format(ops=receiver.url("/oncall"), drill=receiver.url("/drill")))
    with scratch_database(ADMIN_DSN, f"ioc_e2e_{run}") as dsn:
        settings = Settings(database_url=dsn, topic_prefix=f"e{run}.", app_id=f"ioc-e2e-{run}", metrics_port=0,
                            alerts_metrics_port=0, notify_metrics_port=0, topic_partitions=2,
                            detect_interval_s=5, alert_interval_s=ALERT_INTERVAL_S, oncall_file=oncall,
                            run_dir=workdir)
        create_topics(settings, log_fn=lambda *_: None)
        pipe = Pipeline(settings, receiver, workdir)
        try:
            pipe.start("worker", "worker")
            pipe.start("alerts", "alerts", "run")
            pipe.start("notify", "notify", "run")
            yield pipe
        finally:
            pipe.stop()
            receiver.stop()
