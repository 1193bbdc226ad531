"""Processes under test (worker, wall) and what /proc says about them and the machine."""
from __future__ import annotations

import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
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


#: what a PostgreSQL process does, from the title it sets (``postgres: autovacuum worker …``):
#: the server's own work that a drain shares the cores with, apart from the statements it serves
PG_ROLES = (("autovacuum", "autovacuum"), ("checkpointer", "checkpoints and WAL"),
            ("background writer", "checkpoints and WAL"), ("walwriter", "checkpoints and WAL"))


def pg_role(pid: int) -> str:
    """``statements`` (a connection's backend), ``autovacuum``, ``checkpoints and WAL`` or ``other``."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    for needle, role in PG_ROLES:
        if needle in title:
            return role
    return "statements" if "(" in title and ")" in title else "other"  # "postgres: user db host(port) …"


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
    _roles: dict[int, str] = field(default_factory=dict, repr=False)

    def read(self) -> dict[str, Any]:
        kafka = kafka_pid()
        postgres = group_cpu(("postgres",))
        # a role is kept once known; "other" is asked again, as a backend just forked from the server
        # still has the server's title
        roles = {pid: self._roles.get(pid) or pg_role(pid) for pid in postgres}
        self._roles = {pid: role for pid, role in roles.items() if role != "other"}
        out: dict[str, Any] = {
            **machine_times(),
            "kafka": {kafka: cpu_seconds(kafka)} if kafka else group_cpu(("java",)),
            "postgres": postgres, "bench": {os.getpid(): cpu_seconds(os.getpid())},
            "wall_clock": time.monotonic(), "postgres_roles": roles}
        for name, pid in self.pids.items():
            out[name] = {pid: cpu_seconds(pid)}
        return out

    @staticmethod
    def share(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        """Cores busy on average (1.0 = one core), per part; ``other`` is everything else on the machine.

        A part's processes are counted by pid: one that started during the interval counts from
        0, one that ended counts no more (its last share goes to ``other``).
        """
        return CpuMeter.share_over([before, after])

    @staticmethod
    def share_over(readings: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """``share`` from the first reading to the last, each process's CPU summed from one reading to
        the next: a process that started and ended between the first and the last (an autovacuum
        worker) is counted up to its last reading, not given to ``other``.  PostgreSQL's share is
        also given by what its processes do (``postgres_parts``: the statements of the connections,
        autovacuum, checkpoints and WAL, other) when the readings say it."""
        first, last = readings[0], readings[-1]
        wall = last["wall_clock"] - first["wall_clock"]
        keys = [k for k in last if not k.startswith("machine_") and k not in ("wall_clock", "postgres_roles")]
        used = dict.fromkeys(keys, 0.0)
        pg_parts: dict[str, float] = {}
        for a, b in zip(readings, readings[1:]):
            roles = b.get("postgres_roles", {})
            for k in keys:
                for pid, v in b.get(k, {}).items():
                    d = max(0.0, v - a.get(k, {}).get(pid, 0.0))
                    used[k] += d
                    if k == "postgres" and pid in roles:
                        pg_parts[roles[pid]] = pg_parts.get(roles[pid], 0.0) + d
        machine = (last["machine_busy"] - first["machine_busy"]) / wall
        out: dict[str, Any] = {k: round(v / wall, 2) for k, v in used.items()}
        out["other"] = round(max(0.0, machine - sum(used.values()) / wall), 2)
        out["machine"] = round(machine, 2)
        out["cores"] = round((last["machine_total"] - first["machine_total"]) / wall)
        for key in ("iowait", "steal"):  # not among the busy cores (I/O wait), or busy for another guest
            if f"machine_{key}" in last and f"machine_{key}" in first:
                out[key] = round((last[f"machine_{key}"] - first[f"machine_{key}"]) / wall, 2)
        if pg_parts:
            out["postgres_parts"] = {k: round(v / wall, 2) for k, v in sorted(pg_parts.items(), key=lambda x: -x[1])}
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
