"""Processes under test (worker, wall) and what /proc says about them and the machine."""
from __future__ import annotations

import os
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from streams.core.settings import Settings
from tests.support import LoggedProcess, settings_env

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_times() -> dict[str, float]:
    """CPU seconds of the whole machine since boot, from /proc/stat: busy (steal included), total,
    waiting for I/O (idle, counted apart), and taken by the host (steal: a virtual machine's CPU the
    hypervisor gave to another guest)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return {"machine_busy": (total - idle) / TICK, "machine_total": total / TICK,
            "machine_iowait": parts[4] / TICK, "machine_steal": parts[7] / TICK}


def pids_named(*names: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                comm = (d / "comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                out.append(int(d.name))
    return out


def group_cpu(names: tuple[str, ...]) -> dict[int, float]:
    """CPU seconds of every process with one of these names, by pid."""
    return {p: cpu_seconds(p) for p in pids_named(*names)}


def kafka_pid() -> int | None:
    """The stack's Kafka broker (``deploy/stack.sh`` keeps its pid under the run dir)."""
    run = Path(os.environ.get("IOC_RUN_DIR") or ROOT / ".run")
    try:
        return int((run / "kafka" / "kafka.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class CpuMeter:
    """CPU used over an interval by the processes under test, Kafka, PostgreSQL, this process, the rest."""

    pids: dict[str, int]

    def read(self) -> dict[str, Any]:
        kafka = kafka_pid()
        out: dict[str, Any] = {
            **machine_times(),
            "kafka": {kafka: cpu_seconds(kafka)} if kafka else group_cpu(("java",)),
            "postgres": group_cpu(("postgres",)), "bench": {os.getpid(): cpu_seconds(os.getpid())},
            "wall_clock": time.monotonic()}
        for name, pid in self.pids.items():
            out[name] = {pid: cpu_seconds(pid)}
        return out

    @staticmethod
    def share(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        """Cores busy on average (1.0 = one core), per part; ``other`` is everything else on the machine.

        A part's processes are counted by pid: one that started during the interval counts from
        0, one that ended counts no more (its last share goes to ``other``).
        """
        wall = after["wall_clock"] - before["wall_clock"]
        parts = {k: sum(max(0.0, v - before.get(k, {}).get(pid, 0.0)) for pid, v in after[k].items()) / wall
                 for k in after if not k.startswith("machine_") and k != "wall_clock"}
        machine = (after["machine_busy"] - before["machine_busy"]) / wall
        out = {k: round(v, 2) for k, v in parts.items()}
        out["other"] = round(max(0.0, machine - sum(parts.values())), 2)
        out["machine"] = round(machine, 2)
        out["cores"] = round((after["machine_total"] - before["machine_total"]) / wall)
        for key in ("iowait", "steal"):  # not among the busy cores (I/O wait), or busy for another guest
            if f"machine_{key}" in after and f"machine_{key}" in before:
                out[key] = round((after[f"machine_{key}"] - before[f"machine_{key}"]) / wall, 2)
        return out


class Proc(LoggedProcess):
    """A Python entry point of ours in a subprocess, its output kept in a log file."""

    tail_lines = 20

    def __init__(self, name: str, module: str, settings: Settings, workdir: Path, **env: str) -> None:
        self.name = name
        workdir.mkdir(parents=True, exist_ok=True)
        # cwd is the run's work dir: Faust keeps its data dir (<app id>-data) there
        super().__init__([sys.executable, "-m", module], env=settings_env(settings, **env),
                         log_path=workdir / f"{name}.log", cwd=workdir)


def wait_http(url: str, timeout: float, proc: Proc) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.proc.returncode}:\n{proc.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout:.0f} s:\n{proc.log_tail()}")
