"""Helpers for integration tests and the benchmarks: run our processes (the real worker, the wall …)
with their logs kept, free ports, wait for conditions."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from streams.core.settings import Settings

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
#: the plan file of 2023 (274/KH-UBND), whose targets tests check against
PLAN_2023 = ROOT / "agents" / "indicators" / "data" / "plans" / "2023-274-KH-UBND.yaml"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a child process of ours: this one's, the settings as ``IOC_*`` variables,
    this checkout first on ``PYTHONPATH`` (whatever the child's working directory), then ``extra``."""
    env = {**os.environ, **settings.to_env()}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return {**env, **extra}


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Signal a child that still runs and wait for it; killed when it does not end within ``timeout``."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LoggedProcess:
    """A child process with its output kept in a log file, for failure messages."""

    #: lines of the log that ``log_tail`` shows by default
    tail_lines = 40

    def __init__(self, argv: list[str], *, env: dict[str, str], log_path: Path, cwd: Path = ROOT) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=cwd)
        self.pid = self.proc.pid

    def log_tail(self, n: int | None = None) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-(n or self.tail_lines):])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        stop_process(self.proc, sig, timeout)
        self._log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


class WorkerProcess(LoggedProcess):
    """``ioc worker`` (or another ``ioc`` command) in a subprocess, with its log kept for failure messages."""

    def __init__(self, settings: Settings, log_path: Path, *, command: tuple[str, ...] = ("worker",),
                 **env: str) -> None:
        super().__init__([sys.executable, "-m", "streams.cli.main", *command], env=settings_env(settings, **env),
                         log_path=log_path)


def wait_for(fn: Callable[[], T], *, timeout: float = 60, interval: float = 0.5, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last value {last!r}")


DeadLetter = tuple[dict[str, str], bytes]  # (headers, value) of one record of the dead-letter topic


def read_dead_letters(settings: Settings, enough: Callable[[list[DeadLetter]], bool], *, timeout: float, what: str,
                      logs: Callable[[], str], **consumer: Any) -> list[DeadLetter]:
    """The run's dead-letter topic read from the start until ``enough`` of what was read so far; on a
    timeout the assertion names ``what``, the headers read and the ``logs`` of the processes."""
    from kafka import KafkaConsumer

    from streams.core.topics import topic_name

    reader = KafkaConsumer(topic_name(settings, "deadletter"), bootstrap_servers=settings.bootstrap_servers,
                           group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=500, **consumer)
    read: list[DeadLetter] = []

    def poll() -> bool:
        read.extend(({k: v.decode() for k, v in record.headers}, record.value) for record in reader)
        return enough(read)

    try:
        wait_for(poll, timeout=timeout, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; read {[h for h, _ in read]}\n{logs()}") from None
    finally:
        reader.close()
    return read


@contextlib.contextmanager
def own_database(settings: Settings, prefix: str) -> Iterator[Settings]:
    """``settings`` on a fresh, migrated database of the caller's own, dropped on leaving: for tests whose
    figures must not see what other tests of the run wrote in the shared one."""
    import uuid

    from pydantic import SecretStr

    from streams.db.scratch import scratch_database
    from tests.conftest import ADMIN_DSN

    with scratch_database(ADMIN_DSN, f"ioc_test_{prefix}_{uuid.uuid4().hex[:8]}") as dsn:
        yield settings.model_copy(update={"database_url": SecretStr(dsn)})
