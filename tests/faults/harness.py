"""The pieces of a fault run: a private stack, a fast producer, a fresh database and consumer
group per run, real worker processes, and the comparison with the reference at the end."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from streams.core.geography import load_province
from streams.kafka.admin import create_topics
from streams.db.scratch import create_database, drop_database
from streams.core.settings import Settings
from tests.faults.feed import Feed, build_feed
from tests.faults.reference import RAW_TABLES, Expected, expected, when
from tests.faults.stored import Comparison, compare, read
from tests.faults.watch import Watch, describe
from tests.support import ROOT, WorkerProcess, wait_for

#: the fault runs' workers: a crashed worker's partitions move to its successor after 6 s
#: (the default ``IOC_KAFKA_SESSION_TIMEOUT_S`` is 15 s)
WORKER_ENV = {"IOC_KAFKA_SESSION_TIMEOUT_S": "6"}


def wait_progress(read: Callable[[], int], done: Callable[[int], bool], *, stall: float, what: str,
                  interval: float = 0.2) -> int:
    """Wait until ``done(read())``, for as long as ``read()`` keeps growing: fail only when it has not
    grown for ``stall`` seconds.  A loaded machine makes the work slower, not stop; a fixed
    wall-clock budget fails it all the same, a stalled count does not."""
    best = read()
    since = time.monotonic()
    while True:
        value = read()
        if done(value):
            return value
        now = time.monotonic()
        if value > best:
            best, since = value, now
        elif now - since > stall:
            raise AssertionError(f"no progress for {stall:.0f} s waiting for {what}; last value {value!r}")
        time.sleep(interval)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(wanted: Sequence[int], *, step: int = 7, tries: int = 50) -> list[int]:
    """``wanted`` shifted by a multiple of ``step`` until all of them are free; the first shift
    depends on the process, so that two test sessions started together rarely try the same ports."""
    first = os.getpid() % tries
    for i in range(tries):
        ports = [p + (first + i) % tries * step for p in wanted]
        if all(port_free(p) for p in ports):
            return ports
    raise RuntimeError(f"no free ports near {wanted}")


OWNER = "owner.json"  # which test process started a private stack, and its ports


@dataclass
class PrivateStack:
    """Kafka and PostgreSQL of the fault tests alone, through ``deploy/stack.sh`` with its own
    ``IOC_RUN_DIR`` and ports: the shared stack of the other tests is never touched.  ``nodes=3``:
    a three-node Kafka cluster (``IOC_KAFKA_NODES``), client ports ``kafka_port`` and the next two,
    controller ports ``controller_port`` and the next two; its topics get three replicas.
    ``standby=True``: PostgreSQL with a synchronous standby on ``standby_port`` (``IOC_PG_STANDBY``),
    its WAL archived, ``restore_port`` for ``pg-restore``; the DSN names both servers."""

    run_dir: Path
    kafka_port: int
    controller_port: int
    pg_port: int
    nodes: int = 1
    standby_port: int = 0
    restore_port: int = 0

    @classmethod
    def create(cls, nodes: int = 1, *, standby: bool = False) -> PrivateStack:
        # /var/tmp, not pytest's tmp: the OS user postgres must be able to enter the directory
        run_dir = Path(tempfile.mkdtemp(prefix="iocf-", dir="/var/tmp"))
        run_dir.chmod(0o755)
        shared_libs = Path(os.environ.get("IOC_RUN_DIR") or ROOT / ".run") / "kafka" / "libs"
        if shared_libs.is_dir():  # the jars are read-only: share them instead of fetching them again
            (run_dir / "kafka").mkdir()
            (run_dir / "kafka" / "libs").symlink_to(shared_libs.resolve())
        standby_port = restore_port = 0
        if standby:  # away from the other private stacks' ports
            kafka, controller, pg, standby_port, restore_port = free_ports((29292, 29293, 25633, 25634, 25635))
        elif nodes == 1:
            kafka, controller, pg = free_ports((29092, 29093, 25433))
        else:  # away from the one-node stacks' ports: client ports, then controller ports, consecutive
            ports = free_ports([29192 + i for i in range(2 * nodes)] + [25533])
            kafka, controller, pg = ports[0], ports[nodes], ports[-1]
        stack = cls(run_dir, kafka, controller, pg, nodes, standby_port, restore_port)
        (run_dir / OWNER).write_text(json.dumps({"pid": os.getpid(), "kafka": kafka, "controller": controller,
                                                 "pg": pg, "nodes": nodes, "standby": standby_port,
                                                 "restore": restore_port}))
        return stack

    @classmethod
    def reap_stale(cls) -> list[Path]:
        """Stop the private stacks of test sessions that died without stopping them (SIGKILL)."""
        reaped = []
        for owner in Path("/var/tmp").glob(f"iocf-*/{OWNER}"):
            try:
                info = json.loads(owner.read_text())
                os.kill(info["pid"], 0)
            except ProcessLookupError:
                cls(owner.parent, info["kafka"], info["controller"], info["pg"], info.get("nodes", 1),
                    info.get("standby", 0), info.get("restore", 0)).stop()
                reaped.append(owner.parent)
            except (OSError, ValueError, KeyError):
                continue
        return reaped

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "IOC_RUN_DIR": str(self.run_dir), "IOC_KAFKA_PORT": str(self.kafka_port),
               "IOC_KAFKA_CONTROLLER_PORT": str(self.controller_port), "IOC_PG_PORT": str(self.pg_port),
               "IOC_KAFKA_NODES": str(self.nodes), "IOC_PG_STANDBY": "0", "IOC_PG_ARCHIVE": "0"}
        if self.standby_port:
            env.update(IOC_PG_STANDBY="1", IOC_PG_ARCHIVE="1", IOC_PG_STANDBY_PORT=str(self.standby_port),
                       IOC_PG_RESTORE_PORT=str(self.restore_port))
        return env

    def stack_sh(self, *args: str) -> str:
        """``deploy/stack.sh args…`` on this stack; returns what it printed."""
        result = subprocess.run([str(ROOT / "deploy" / "stack.sh"), *args], env=self.env,
                                capture_output=True, text=True, timeout=900)  # stack.sh waits up to 10 min
        if result.returncode != 0:
            raise RuntimeError(f"deploy/stack.sh {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def run(self, command: str, service: str) -> float:
        """``deploy/stack.sh command service`` on this stack; returns the seconds it took."""
        started = time.monotonic()
        self.stack_sh(command, service)
        return time.monotonic() - started

    def start(self) -> None:
        self.run("start", "kafka")
        self.run("start", "postgres")

    def stop(self) -> None:
        try:
            self.run("stop", "all")
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.kafka_port + i}" for i in range(self.nodes))

    def kafka_pid(self, node: int) -> int:
        """The process of Kafka node ``node`` (1…) of a cluster."""
        return int((self.run_dir / "kafka" / f"node-{node}" / "kafka.pid").read_text())

    def pg_pid(self, role: str) -> int:
        """The postmaster of the ``primary`` or the ``standby`` (a promotion swaps the data dirs' roles)."""
        for data in (self.run_dir / "pg" / "data", self.run_dir / "pg" / "standby"):
            if (data / "PG_VERSION").exists() and (data / "standby.signal").exists() == (role == "standby"):
                return int((data / "postmaster.pid").read_text().split()[0])
        raise AssertionError(f"no {role} in {self.run_dir / 'pg'}")

    def pg_log_tail(self, lines: int = 15) -> str:
        """The last lines of each PostgreSQL server's log (primary, standby, restored copy)."""
        return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
                         for log in sorted((self.run_dir / "pg").glob("*.log")))

    def dsn(self, database: str = "postgres") -> str:
        if self.standby_port:
            return (f"postgresql://ioc@127.0.0.1:{self.pg_port},127.0.0.1:{self.standby_port}/{database}"
                    "?target_session_attrs=read-write")
        return f"postgresql://ioc@127.0.0.1:{self.pg_port}/{database}"

    def settings(self, **values) -> Settings:
        return Settings(kafka_bootstrap=self.bootstrap, database_url=self.dsn("ioc"), metrics_port=0,
                        topic_partitions=2, topic_replication=min(self.nodes, 3), **values)


# --- producing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """Where a produced message landed."""

    topic: str
    partition: int
    offset: int


async def _produce(bootstrap: str, messages: Iterable[tuple[str, str, bytes]]) -> list[Placed]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20,
                                max_request_size=2_000_000, enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key.encode()) for topic, key, value in messages]
        return [Placed(m.topic, m.partition, m.offset) for m in await asyncio.gather(*futures)]
    finally:
        await producer.stop()


def produce(settings: Settings, messages: Iterable[tuple[str, str, bytes]]) -> list[Placed]:
    """Send (family, key, value) messages with aiokafka (several times faster than kafka-python)."""
    prefix = settings.topic_prefix
    return asyncio.run(_produce(settings.kafka_bootstrap, ((prefix + f, k, v) for f, k, v in messages)))


def _admin(settings: Settings):
    from kafka import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="ioc-faults")


class LiveFeed(threading.Thread):
    """Sends a feed in real time: tick ``k``'s messages at ``k`` seconds after ``start()``
    (build the feed with ``end = now + span``, so no event is sent before its time)."""

    def __init__(self, feed: Feed, send: Callable[[str, str, bytes], Any]) -> None:
        super().__init__(daemon=True, name="live-feed")
        self.feed, self.send = feed, send
        self.results: list[Any] = []  # what ``send`` returned, per message
        self.error: BaseException | None = None
        self.started_at = 0.0

    def run(self) -> None:
        self.started_at = time.monotonic()
        try:
            for message, tick in zip(self.feed.messages, self.feed.ticks):
                delay = self.started_at + tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.results.append(self.send(*message))
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def warm_up(self, run: FaultRun, seconds: float) -> None:
        """Start, and return once ``run`` stored its first events and ``seconds`` have passed."""
        self.start()
        run.wait_first_rows()
        time.sleep(max(0.0, self.started_at + seconds - time.monotonic()))

    def finish(self, stall: float = 60) -> list[Any]:
        """Wait for the last message to be handed to the producer, as long as messages keep going out."""
        wait_progress(lambda: len(self.results), lambda _: not self.is_alive(), stall=stall,
                      what="the live feed to send its last message")
        self.join()
        if self.error:
            raise self.error
        return self.results


def live_feed(stack: PrivateStack, name: str, *, rate: int, seconds: int) -> tuple[Settings, Feed, Expected]:
    """Topics ``<name>.*`` on the private stack, and a feed of ``rate`` events/s for ``seconds``
    whose events fall due from now on (for ``LiveFeed``), with its reference."""
    base = stack.settings(topic_prefix=f"{name}.")
    create_topics(base, log_fn=lambda *_: None)
    feed = build_feed(load_province(base.province_file), events=rate * seconds,
                      end=datetime.now(timezone.utc) + timedelta(seconds=seconds), span_s=seconds)
    return base, feed, expected(feed.decoded())


def kafka_python_send(settings: Settings):
    """A ``send(family, key, value)`` returning kafka-python futures of the record metadata."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5,
                             max_request_size=2_000_000)

    def send(family: str, key: str, value: bytes):
        return producer.send(settings.topic_prefix + family, key=key.encode(), value=value)

    send.producer = producer  # type: ignore[attr-defined]
    return send


def committed(settings: Settings) -> dict[tuple[str, int], int]:
    """The consumer group's committed offsets."""
    admin = _admin(settings)
    try:
        offsets = admin.list_group_offsets({settings.app_id: None}).get(settings.app_id, {})
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
    finally:
        admin.close()


def assignments(settings: Settings) -> dict[str, list[tuple[str, int]]]:
    """Member (client host and id) -> the feed partitions it owns now."""
    from kafka.errors import KafkaError

    admin = _admin(settings)
    try:
        group = admin.describe_groups([settings.app_id])[settings.app_id]
    except KafkaError:  # no coordinator yet: a fresh broker creates its offsets topic on first use
        return {}
    finally:
        admin.close()
    out = {}
    for m in group.get("members", []):
        parts = [(a["topic"], p) for a in (m.get("member_assignment") or {}).get("assigned_partitions", [])
                 for p in a["partitions"] if a["topic"].startswith(settings.topic_prefix)]
        out[f"{m['client_host']} {m['member_id'][-8:]}"] = sorted(parts)
    return out


def end_offsets(settings: Settings, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        return {(tp.topic, tp.partition): o for tp, o in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


# --- one run ---------------------------------------------------------------------------------------


class FaultRun:
    """A fresh database and consumer group over the given topics; workers started and killed at will."""

    def __init__(self, stack: PrivateStack, base: Settings, name: str, logs: Path, **worker_env: str) -> None:
        self.stack = stack
        self.name = name
        self.database = f"faults_{name}_{uuid.uuid4().hex[:6]}"
        dsn = create_database(stack.dsn(), self.database)
        self.settings = base.model_copy(update={"database_url": SecretStr(dsn),
                                               "app_id": f"faults-{name}-{uuid.uuid4().hex[:6]}"})
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.worker_env = {**WORKER_ENV, "APP_DATADIR": str(logs / "faust-data"), **worker_env}
        self.workers: list[WorkerProcess] = []
        self.conn = psycopg.connect(self.settings.dsn, autocommit=True)
        self.watch: Watch | None = None

    def watched(self) -> Watch:
        """The wall and the meta-alerts watched over this run (``tests/faults/watch.py``): call before
        starting workers (they expose their metrics to it), ``start()`` it before the fault."""
        self.watch = Watch(self.settings, self.logs)
        self.worker_env.update(self.watch.worker_env)
        return self.watch

    def start_worker(self, **env: str) -> WorkerProcess:
        worker = WorkerProcess(self.settings, self.logs / f"worker-{len(self.workers)}.log",
                               **{**self.worker_env, **env})
        self.workers.append(worker)
        return worker

    def query(self, sql: str | psycopg.sql.Composable, params: Any = None) -> list[tuple]:
        """Rows of a query on the run's database, reconnecting once after an outage."""
        try:
            return self.conn.execute(sql, params).fetchall()
        except psycopg.OperationalError:
            self.conn.close()
            self.conn = psycopg.connect(self.settings.dsn, autocommit=True)
            return self.conn.execute(sql, params).fetchall()

    def stored(self) -> int:
        """Events stored so far (every family of the run): the sources' own counters, written in the
        same transaction as the raw rows and far cheaper to read than counting them."""
        return self.query("SELECT coalesce(sum(accepted), 0)::int FROM source_window")[0][0]

    def stored_keys(self) -> set[tuple[str, Any]]:
        return {(i, t) for table in RAW_TABLES.values() for i, t in self.query(f"SELECT id, time FROM {table}")}

    def writing(self) -> bool:
        """Whether a worker is inside a batch transaction right now (its last statement wrote a
        feed table: the sink quotes table names, the heartbeat does not)."""
        return bool(self.query(
            """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
               AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND query LIKE 'INSERT INTO "%'"""
        )[0][0])

    def wait_stored(self, done: Callable[[int], bool], *, stall: float = 60, what: str) -> float:
        """Wait until ``done(stored events)``, as long as the stored count keeps growing (a worker
        catching up on a loaded machine is slow, not stuck); returns the time.monotonic() it was seen."""
        try:
            wait_progress(self.stored, done, stall=stall, what=f"{what} in run {self.name}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tails()}") from None
        return time.monotonic()

    def wait_caught_up(self, events: int, *, stall: float = 60) -> float:
        """Wait until every event is stored; returns the time.monotonic() it was seen."""
        return self.wait_stored(lambda n: n >= events, stall=stall, what=f"{events} events stored")

    def wait_first_rows(self, timeout: float = 300) -> None:
        """A worker's first write: nothing to measure progress by before it, so a long budget that
        ends early when every worker has exited."""
        def first() -> bool:
            if self.stored() > 0:
                return True
            assert any(w.alive() for w in self.workers), f"every worker exited\n{self.log_tails()}"
            return False

        wait_for(first, timeout=timeout, interval=0.2, what="the first rows")

    def compare(self, exp: Expected) -> Comparison:
        return compare(exp, read(self.conn))

    def log_tails(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log_tail()}" for w in self.workers)

    def conclude(self, report: Report, section: str, exp: Expected, worker: WorkerProcess, *, sender: Any = None,
                 fault_at: float | None = None, **figures: Any) -> Comparison:
        """The end of a live-feed fault run: the comparison with the reference, the report's row (a
        failing run's too), then what every run must hold: the producer gave up on no message, the
        worker never exited, nothing lost, nothing doubled.  With a watch, the row says what the
        wall showed and which meta-alerts were pending or fired from ``fault_at`` on."""
        result = self.compare(exp)
        if sender is not None:
            figures["producer_errors"] = sender.errors
        if self.watch is not None:
            assert fault_at is not None, "a watched run names the time of its fault"
            self.watch.stop()
            summary = self.watch.summary(fault_at)
            wall, alerts = describe(summary)
            figures.update(summary, wall=wall, alerts=alerts)
        report.add(section, **figures, events=exp.events, stored=self.stored(),
                   worker_restarts=len(self.workers) - 1, lost=result.lost, duplicated=result.duplicated)
        if sender is not None:
            assert sender.errors == 0, f"the producer gave up on {sender.errors} messages"
        assert worker.alive(), self.log_tails()
        assert result.ok, f"{result}\n{self.log_tails()}"
        return result

    def close(self) -> None:
        if self.watch is not None:
            self.watch.stop()
        for w in self.workers:
            w.stop()
        self.conn.close()
        try:
            drop_database(self.stack.dsn(), self.database)
        except psycopg.OperationalError:
            pass


def kill9(worker: WorkerProcess) -> float:
    """SIGKILL, as a crash would; returns the time.monotonic() of the kill."""
    at = time.monotonic()
    worker.kill()
    return at


# --- figures for docs/reliability.md ---------------------------------------------------------------


class Report:
    """Figures of the session's runs; written as JSON to ``$IOC_FAULTS_REPORT`` when it is set."""

    def __init__(self) -> None:
        self.sections: dict[str, list[dict]] = {}

    def add(self, section: str, **figures) -> None:
        self.sections.setdefault(section, []).append(figures)

    def write(self) -> None:
        path = os.environ.get("IOC_FAULTS_REPORT")
        if path and self.sections:
            Path(path).write_text(json.dumps(self.sections, indent=2, default=str))


def unstored(run: FaultRun, topics: Iterable[str]) -> dict[tuple[str, int], dict]:
    """Per partition holding messages whose events are not in the database: the first and last of
    those offsets, how many, and the group's committed offset (a committed offset above the first
    unstored message is a loss; one below it, a message still to be read)."""
    from kafka import KafkaConsumer, TopicPartition

    keys = run.stored_keys()
    done = committed(run.settings)
    consumer = KafkaConsumer(bootstrap_servers=run.settings.bootstrap_servers, group_id=None,
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    out: dict[tuple[str, int], dict] = {}
    try:
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        left = {tp for tp in tps if ends[tp] > 0}
        for record in consumer:
            tp = TopicPartition(record.topic, record.partition)
            doc = json.loads(record.value)
            events = doc if isinstance(doc, list) else [doc]
            if any((e["id"], when(e["dateObserved"])) not in keys for e in events):
                info = out.setdefault((record.topic, record.partition),
                                      {"first": record.offset, "last": record.offset, "messages": 0,
                                       "committed": done.get((record.topic, record.partition)),
                                       "end": ends[tp]})
                info["last"] = record.offset
                info["messages"] += 1
            if record.offset >= ends[tp] - 1:
                left.discard(tp)
                if not left:
                    break
    finally:
        consumer.close()
    return out
