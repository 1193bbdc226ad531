"""Two workers in one consumer group share the partitions, and together store every event once.

Topics are partitioned by entity (the message key), so the same code runs as N workers: Kafka
gives each a share of the partitions; rows are keyed by event id and increments are added, so
the result does not depend on who stored what.  The workers here read their database URL and a
(unused) SASL password from files (IOC_<NAME>_FILE), and neither secret may leak into their
logs or metrics.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

import orjson
import psycopg
import pytest
from kafka import KafkaAdminClient

from simulators.base import Runner
from simulators.catalog import build_simulators
from simulators.kafka import KafkaSender
from streams.core.geography import load_province
from streams.core.topics import all_topics, topic_name
from tests.deploy.support import Proc, env_of, scrape, total
from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration

FAMILIES = {"health": "health_event", "security": "security_event", "camera": "camera_event",
            "sensor": "sensor_observation"}
DB_SECRET = "db-Secr3t-for-the-scale-test"
SASL_SECRET = "sasl-Secr3t-never-logged"


def _feed(settings, ticks: int = 30, rate: float = 2000):
    """A deterministic multi-family feed ending now: messages as the simulator sends them."""
    sims = build_simulators(load_province(settings.province_file), random.Random(274), families=list(FAMILIES))
    sent: list[tuple[str, str, bytes]] = []
    runner = Runner(sims, lambda fam, key, value: sent.append((fam, key, value)), rate=rate)
    start = datetime.now(timezone.utc) - timedelta(seconds=ticks * 0.1 + 5)
    for i in range(ticks):
        runner.step(start + timedelta(seconds=i * 0.1), 0.1)
    return sent


def _group_members(settings) -> list[set[tuple[str, int]]]:
    """Partitions assigned to each member of the workers' consumer group ([] while rebalancing)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="ioc-test")
    try:
        group = admin.describe_groups([settings.app_id])[settings.app_id]
    finally:
        admin.close()
    if group.get("group_state") != "Stable":
        return []
    members = []
    for member in group["members"]:
        a = member.get("member_assignment") or {}
        parts = a.get("assigned_partitions", []) if isinstance(a, dict) else a.assigned_partitions
        members.append({(tp["topic"] if isinstance(tp, dict) else tp.topic, p)
                        for tp in parts for p in (tp["partitions"] if isinstance(tp, dict) else tp.partitions)})
    return members


def test_two_workers_share_the_partitions_and_store_every_event_once(isolated, tmp_path):
    settings = isolated(topic_partitions=4)  # health, security, camera: 8 partitions; sensor: 4
    assert all(n >= 4 for n in all_topics(settings).values())
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database_url").write_text(settings.dsn.replace("//ioc@", f"//ioc:{DB_SECRET}@") + "\n")
    (secrets / "sasl_password").write_text(SASL_SECRET + "\n")
    ports = [free_port(), free_port()]
    env = dict(drop=("IOC_DATABASE_URL", "IOC_KAFKA_SASL_PASSWORD"),
               IOC_DATABASE_URL_FILE=str(secrets / "database_url"),
               IOC_KAFKA_SASL_PASSWORD_FILE=str(secrets / "sasl_password"))
    workers = [Proc(["worker"], env_of(settings, IOC_METRICS_PORT=str(port), **env), tmp_path / f"worker-{i}")
               for i, port in enumerate(ports)]
    try:
        def both_assigned():
            for w in workers:
                assert w.proc.poll() is None, f"a worker exited:\n{w.tail()}"
            members = _group_members(settings)
            return len(members) == 2 and all(members) and members

        members = wait_for(both_assigned, timeout=60, interval=1, what="two workers with partitions each")
        assert not members[0] & members[1]

        messages = _feed(settings)
        produced = {fam: 0 for fam in FAMILIES}
        for fam, _, value in messages:
            doc = orjson.loads(value)
            produced[fam] += len(doc) if isinstance(doc, list) else 1
        sender = KafkaSender(settings)
        for fam, key, value in messages:
            sender(fam, key, value)
        sender.close()
        expected = sum(produced.values())

        def all_in():
            got = sum(total(scrape(p), "ioc_events_in_total") for p in ports)
            return got >= expected and got

        try:
            wait_for(all_in, timeout=60, interval=1, what=f"{expected} events read by the two workers")
        except AssertionError:
            raise AssertionError("\n\n".join(w.tail() for w in workers)) from None
        time.sleep(1)  # the last batch's metrics are set right after its commit
        samples = [scrape(p) for p in ports]
    finally:
        for w in workers:
            w.stop()

    # the partitions were shared: each worker read some, and their lag gauges name different partitions
    lag_parts = [{(dict(lab)["topic"], dict(lab)["partition"]) for (n, lab) in s if n == "ioc_consumer_lag"}
                 for s in samples]
    assert all(lag_parts), lag_parts
    assert not lag_parts[0] & lag_parts[1]
    read = [total(s, "ioc_events_in_total") for s in samples]
    assert all(n > 0 for n in read), read
    assert all(total(s, "ioc_rows_written_total") > 0 for s in samples)

    # complete and once: counters of both workers and the rows equal the independent count
    dead = sum(total(s, "ioc_dead_letters_total") for s in samples)
    fresh = sum(total(s, "ioc_events_fresh_total") for s in samples)
    assert sum(read) == expected
    assert sum(total(s, "ioc_events_duplicate_total") for s in samples) == 0
    assert fresh + dead == expected
    with psycopg.connect(settings.dsn) as conn:
        stored = {fam: conn.execute(f"SELECT count(*), count(DISTINCT (id, time)) FROM {table}").fetchone()
                  for fam, table in FAMILIES.items()}
        accepted = dict(conn.execute("SELECT source, sum(accepted)::bigint FROM source_window GROUP BY source"))
    assert all(rows == distinct for rows, distinct in stored.values())
    assert sum(rows for rows, _ in stored.values()) == fresh
    for fam in FAMILIES:
        rejected = sum(total(s, "ioc_dead_letters_total", topic=topic_name(settings, fam)) for s in samples)
        assert stored[fam][0] == produced[fam] - rejected, fam
        assert accepted.get(fam, 0) == produced[fam] - rejected, fam

    # the secrets, read from files, appear in no log and no metric
    for w, s in zip(workers, samples):
        text = w.log() + repr(s)
        assert DB_SECRET not in text and SASL_SECRET not in text
