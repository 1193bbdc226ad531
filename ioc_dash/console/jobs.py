"""Drills and replays started from the console: one ``ioc`` subprocess at a time, output kept.

No Flask here.  The runner lives in the dashboard process that started the run, so behind a
multi-process server (gunicorn) the console's drill page belongs on one worker.
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from streams.core.errors import IOCError
from streams.core.clock import utcnow

IOC = [sys.executable, "-m", "streams.cli.main"]
STOP_GRACE_S = 15.0  # SIGINT first: a drill releases its forced conditions before exiting


@dataclass
class Job:
    id: int
    title: str
    argv: list[str]
    started_by: str
    proc: subprocess.Popen
    started_at: datetime = field(default_factory=utcnow)
    lines: deque = field(default_factory=lambda: deque(maxlen=400))

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    @property
    def running(self) -> bool:
        return self.returncode is None

    def output(self) -> str:
        return "\n".join(self.lines)


class JobRunner:
    def __init__(self, env: dict[str, str], cwd: Path | None = None) -> None:
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.cwd = cwd
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._next = 1
        atexit.register(self.stop)  # a dashboard that exits interrupts its run (Ctrl-C reaches it anyway)

    def current(self) -> Job | None:
        return self._job

    def start(self, title: str, args: Sequence[str], started_by: str) -> Job:
        """Run ``ioc ARGS``; refused while another run is in progress."""
        with self._lock:
            if self._job and self._job.running:
                raise IOCError(f"{self._job.title} is still running; stop it first")
            argv = [*IOC, *args]
            proc = subprocess.Popen(argv, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, bufsize=1)
            job = Job(self._next, title, argv, started_by, proc)
            self._next += 1
            self._job = job
        threading.Thread(target=self._pump, args=(job,), name=f"job-{job.id}", daemon=True).start()
        return job

    @staticmethod
    def _pump(job: Job) -> None:
        assert job.proc.stdout is not None
        for line in job.proc.stdout:
            job.lines.append(line.rstrip("\n"))
        job.proc.wait()

    def stop(self) -> bool:
        """Interrupt the current run (then terminate it if it does not end); False if none runs."""
        job = self._job
        if job is None or not job.running:
            return False
        job.proc.send_signal(signal.SIGINT)

        def reap() -> None:
            try:
                job.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                job.proc.terminate()

        threading.Thread(target=reap, name=f"job-{job.id}-stop", daemon=True).start()
        return True

    def list_output(self, args: Sequence[str], timeout: float = 30) -> str:
        """Output of a short ``ioc`` command (``drill --list``)."""
        try:
            done = subprocess.run([*IOC, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise IOCError(f"ioc {' '.join(args)} did not answer within {timeout:.0f} s") from exc
        if done.returncode != 0:
            raise IOCError(f"ioc {' '.join(args)} failed: {done.stderr.strip()[-300:]}")
        return done.stdout
