"""Helpers for integration tests and the benchmarks: run our processes (the real worker, the wall …)
with their logs kept, free ports, wait for conditions."""
from __future__ import annotations

import contextlib
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

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


class PrometheusProcess(LoggedProcess):
    """``prometheus`` (the stack's binary, ``deploy/stack.sh install prometheus``) on a free loopback port,
    ready when it returns: it scrapes ``targets`` (a port: on the loopback; else ``host:port``) as the job
    ``job`` every ``interval`` seconds (timeout 90 % of it) and evaluates ``rules`` (files or globs) as often.
    ``rule_for`` (alert name -> duration) replaces the ``for:`` of those alerts, in copies of the rule files.
    Its config, log and rule copies are kept in ``folder``; its data in ``data`` (default ``folder / "data"``)."""

    def __init__(self, folder: Path, targets: Sequence[int | str], *, rules: Sequence[Path | str],
                 interval: float = 1.0, rule_for: Mapping[str, str] | None = None, job: str = "ioc-worker",
                 data: Path | None = None, timeout: float = 60) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        rule_files = [str(r) for r in rules] if not rule_for else _with_for(rules, rule_for, folder / "rules")
        config = folder / "prometheus.yml"
        config.write_text(json.dumps({  # YAML is a superset of JSON
            "global": {"scrape_interval": _duration(interval), "evaluation_interval": _duration(interval),
                       "scrape_timeout": _duration(interval * 0.9)},
            "rule_files": rule_files,
            "scrape_configs": [{"job_name": job, "static_configs": [
                {"targets": [f"127.0.0.1:{t}" if isinstance(t, int) else t for t in targets]}]}],
        }))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data or folder / 'data'}",
                          f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                         env=dict(os.environ), log_path=folder / "prometheus.log")
        try:
            wait_for(self._ready, timeout=timeout, interval=0.2, what=f"Prometheus to be ready (log {self.log_path})")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        assert self.alive(), f"Prometheus exited:\n{self.log_tail()}"
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of ``/api/v1/<path>?<params>``; asserted successful."""
        url = f"{self.url}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]


def _duration(seconds: float) -> str:
    """``seconds`` as a Prometheus duration: ``1s``, ``900ms``."""
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _with_for(rules: Sequence[Path | str], rule_for: Mapping[str, str], folder: Path) -> list[str]:
    """Copies in ``folder`` of the rule files (globs expanded) with the ``for:`` of the alerts of ``rule_for``
    replaced; every one of those alerts must be found."""
    folder.mkdir(parents=True, exist_ok=True)
    copies, found = [], set()
    for path in (Path(p) for r in rules for p in sorted(glob.glob(str(r)))):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") in rule_for:
                    rule["for"] = rule_for[rule["alert"]]
                    found.add(rule["alert"])
        copy = folder / path.name
        copy.write_text(yaml.safe_dump(doc, sort_keys=False))
        copies.append(str(copy))
    missing = set(rule_for) - found
    assert not missing, f"no such alert in {[str(r) for r in rules]}: {sorted(missing)}"
    return copies


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
