"""The benchmark's own world: a fresh database and topic prefixes, dropped at the end; the machine."""
from __future__ import annotations

import os
import platform
import subprocess
import uuid
from importlib import metadata
from pathlib import Path

from pydantic import SecretStr

from streams.kafka.admin import create_topics, delete_topics
from streams.core.errors import IOCError
from streams.db.connect import connect
from streams.db.scratch import create_database, drop_database, sibling_dsn
from streams.core.settings import Settings
from streams.core.topics import FEEDS, all_topics, topic_name
from streams.core.clock import utcnow

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get("IOC_BENCH_ADMIN_DSN", "postgresql://ioc@127.0.0.1:5433/postgres")


def start_stack(log=print) -> None:
    result = subprocess.run([str(ROOT / "deploy" / "stack.sh"), "start"], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"the local stack did not start:\n{result.stdout}\n{result.stderr}")
    for line in result.stdout.splitlines():
        log(f"bench: {line}")


class BenchEnv:
    """``ioc_bench_<id>`` and topics ``bench<id>.<phase>.<family>``; ``close()`` drops them all."""

    def __init__(self, *, partitions: int = 4, admin_dsn: str = ADMIN_DSN, base: Settings | None = None) -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.dbname = f"ioc_bench_{self.run_id}"
        self.admin_dsn = admin_dsn
        self.dsn = sibling_dsn(admin_dsn, self.dbname)
        self.partitions = partitions
        self.base = base or Settings()
        self._made: list[Settings] = []
        self._db = False

    def create_database(self) -> None:
        create_database(self.admin_dsn, self.dbname)
        self._db = True

    def settings(self, phase: str) -> Settings:
        """Settings of one phase: its topics and consumer group, the run's database, defaults otherwise."""
        return self.base.model_copy(update=dict(  # model_copy does not validate: SecretStr by hand
            database_url=SecretStr(self.dsn),
            topic_prefix=f"bench{self.run_id}.{phase}.",
            app_id=f"ioc-bench-{self.run_id}-{phase}",
            topic_partitions=self.partitions,
        ))

    def topics(self, settings: Settings) -> dict[str, int]:
        """Create the phase's topics; returns feed topic -> partitions (dead-letter topic left out)."""
        create_topics(settings, log_fn=lambda *_: None)
        self._made.append(settings)
        feeds = {topic_name(settings, f) for f in FEEDS}
        return {t: n for t, n in all_topics(settings).items() if t in feeds}

    def close(self) -> list[str]:
        problems = []
        for s in self._made:
            try:
                delete_topics(s)
            except Exception as exc:  # keep dropping the rest
                problems.append(f"topics {s.topic_prefix}*: {exc}")
        if self._db:
            try:
                drop_database(self.admin_dsn, self.dbname)
            except Exception as exc:
                problems.append(f"database {self.dbname}: {exc}")
        return problems


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def describe_machine(dsn: str) -> dict:
    """CPU, memory, OS, and the versions of what is measured."""
    mem_kib = _first("/proc/meminfo", "MemTotal")
    pg = ts = None
    try:
        with connect(dsn, what="database not reachable", role="bench") as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
            ts = row[0] if row else None
    except IOCError:  # the report says unknown
        pass
    kafka = None
    pom = ROOT / "deploy" / "kafka" / "pom.xml"
    if pom.exists():
        text = pom.read_text()
        if "<kafka.version>" in text:
            kafka = text.split("<kafka.version>", 1)[1].split("<", 1)[0]
    try:
        debian = Path("/etc/debian_version").read_text().strip()
    except OSError:
        debian = None
    return {
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem_kib.split()[0]) / 1024 / 1024, 1) if mem_kib else None,
        "os": f"Debian {debian}" if debian else platform.platform(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in ("faust-streaming", "aiokafka", "kafka-python", "psycopg",
                                               "pydantic", "orjson", "dash")},
        "postgresql": pg,
        "timescaledb": ts,
        "kafka": kafka,
        "load_average_at_start": list(os.getloadavg()),
    }


def now_iso() -> str:
    return utcnow().isoformat(timespec="seconds")


def code_version() -> dict:
    """The commit measured, and whether the work tree had changes outside bench/."""
    def git(*args: str) -> str:
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if line[3:] and not line[3:].startswith(("bench/", "docs/benchmarks.md", "tests/bench/"))]
    return {"commit": git("rev-parse", "--short=12", "HEAD") or None, "changed_files": len(changed)}
