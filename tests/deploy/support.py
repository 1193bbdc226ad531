"""Helpers of the deployment tests: real processes started with an environment built from scratch,
Prometheus metrics read over HTTP."""
from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from streams.core.settings import Settings
from tests.support import LoggedProcess


def env_of(settings: Settings, *, drop: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """The environment of a child process: ours without any IOC_*, then the settings, then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update((k, v) for k, v in settings.to_env().items() if k not in drop)
    env.update(extra)
    return env


class Proc(LoggedProcess):
    """``ioc <args>`` in a subprocess with its own working directory (Faust's data dir) and log."""

    def __init__(self, args: list[str], env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__([sys.executable, "-m", "streams.cli.main", *args], env=env, log_path=workdir / "process.log",
                         cwd=workdir)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, n: int = 30) -> str:
        return self.log_tail(n)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples of a /metrics page: (name, sorted labels) -> value; {} when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def total(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in samples.items()
               if n == name and all(dict(lab).get(k) == want for k, want in labels.items()))
