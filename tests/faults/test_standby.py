"""PostgreSQL with a synchronous standby (``IOC_PG_STANDBY=1``): the primary killed, the standby
lost, a base backup restored.

- The primary killed -9 while a live feed flows, the standby promoted (``deploy/stack.sh
  pg-promote``): the worker, the dashboard's pool and the test's own connection follow through the
  two-host DSN (``target_session_attrs=read-write``); every commit the worker saw acknowledged was
  on the standby too, and a batch whose commit was cut off is written again and counted once (the
  id ledger), so the database holds the reference exactly.
- The standby killed -9: the primary's commits wait for it (``synchronous_commit``), the worker's
  batch hangs in its commit, the lag grows and nothing is stored; an operator turns synchronous
  replication off (``ALTER SYSTEM SET synchronous_standby_names = ''``, reload), the waiting
  commit returns and the worker catches up; ``deploy/stack.sh start postgres`` then brings the
  standby back and makes commits synchronous again.
- A base backup (``pg-backup``) and the WAL archive restored (``pg-restore``) up to a restore point
  into a fresh server: it holds what was committed before that point, nothing after it.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
import psycopg
import pytest
from prometheus_client import CollectorRegistry

from simulators.kafka import KafkaSender
from streams.core.metrics import SimulatorMetrics
from streams.db.connect import Pool
from streams.db.scratch import create_database, drop_database
from tests.deploy.support import scrape, total
from tests.faults.harness import FaultRun, LiveFeed, PrivateStack, live_feed
from tests.faults.test_cluster import lag, near_live_edge
from tests.support import wait_for

pytestmark = pytest.mark.integration

FEED_S = 40
RATE = 800
KILL_AT_S = 10  # seconds into the feed
BLOCKED_S = 8  # how far the worker falls behind while commits wait for the lost standby


def newest_due(run: FaultRun, feed, live: LiveFeed) -> float:
    """Seconds into the feed of the newest health event stored."""
    newest = run.query("SELECT max(time) FROM health_event")[0][0] or feed.start
    return (newest - feed.start).total_seconds()


def switch_and_archive(conn: psycopg.Connection, stack: PrivateStack) -> str:
    """Close the primary's current WAL segment and wait until it is archived; returns its name."""
    segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
    archiver: list[tuple] = []  # the archiver's last state, for the message of a timeout

    def archived() -> bool:
        archiver[:] = [conn.execute("SELECT last_archived_wal, failed_count, last_failed_wal "
                                    "FROM pg_stat_archiver").fetchone()]
        return (archiver[0][0] or "") >= segment

    try:
        wait_for(archived, timeout=60, interval=0.2, what=f"WAL segment {segment} archived")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the archiver (last archived, failures, last failed): {archiver}\n"
                             f"{stack.pg_log_tail()}") from None
    return segment


def synchronous(stack: PrivateStack) -> bool:
    """Whether the primary streams to its standby synchronously."""
    with psycopg.connect(stack.dsn(), autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'").fetchone()[0] == 1


def test_the_primary_killed_and_the_standby_promoted_loses_nothing(standby_stack, fault_report, tmp_path):
    standby_stack.stack_sh("pg-rejoin")  # a synchronous standby, whatever ran before
    assert synchronous(standby_stack)
    base, feed, exp = live_feed(standby_stack, "promote", rate=RATE, seconds=FEED_S)
    run = FaultRun(standby_stack, base, "promote", tmp_path)
    watch = run.watched()
    sender = KafkaSender(base, SimulatorMetrics(CollectorRegistry()))
    wall = Pool(run.settings.dsn, role="dash", max_size=1, timeout_s=5)  # as the dashboard holds one
    try:
        worker = run.start_worker()
        live = LiveFeed(feed, sender)
        live.warm_up(run, KILL_AT_S)
        behind = near_live_edge(run, feed, live)
        with wall.connection() as conn:
            first, recovering = conn.execute("SELECT inet_server_port(), pg_is_in_recovery()").fetchone()
        assert not recovering
        # a segment the primary archived and the standby holds too: once promoted, the standby offers it
        # to the archive again, which must not stop archiving (the backup below relies on it)
        switch_and_archive(run.conn, standby_stack)
        stored_before = run.stored()
        watch.start()
        os.kill(standby_stack.pg_pid("primary"), signal.SIGKILL)
        killed = time.monotonic()
        standby_stack.stack_sh("pg-promote")
        promoted = time.monotonic()
        due = killed - live.started_at + 1
        resumed = run.wait_stored(lambda _: newest_due(run, feed, live) > due, stall=120,
                                  what=f"a health event due {due:.0f} s into the feed (a second after the kill)")
        with wall.connection() as conn:  # the pooled connection to the dead primary is not handed out
            port, recovering = conn.execute("SELECT inet_server_port(), pg_is_in_recovery()").fetchone()
        assert port != first and not recovering
        live.finish()
        sender.flush(120)
        caught_up = run.wait_caught_up(exp.events)
        archived = switch_and_archive(run.conn, standby_stack)  # the promoted primary archives its WAL
        run.conclude(fault_report, "standby", exp, worker, sender=sender, fault_at=killed,
                     fault="primary killed -9, standby promoted", archived_after_promotion=archived, messages=len(feed.messages), rate=RATE,
                     feed_s=FEED_S, stored_before=stored_before, lag_at_kill_s=round(behind, 1),
                     promoted_after_s=round(promoted - killed, 1), resumed_after_s=round(resumed - killed, 1),
                     caught_up_after_s=round(caught_up - killed, 1))
    finally:
        wall.close()
        sender.close()
        run.close()


def test_the_standby_lost_blocks_commits_until_an_operator_unblocks_them(standby_stack, fault_report, tmp_path):
    standby_stack.stack_sh("pg-rejoin")  # after the promotion above: the old primary rebuilt as the standby
    assert synchronous(standby_stack)
    base, feed, exp = live_feed(standby_stack, "nostandby", rate=RATE, seconds=FEED_S)
    run = FaultRun(standby_stack, base, "nostandby", tmp_path)
    watch = run.watched()
    sender = KafkaSender(base, SimulatorMetrics(CollectorRegistry()))
    try:
        worker = run.start_worker()
        live = LiveFeed(feed, sender)
        live.warm_up(run, KILL_AT_S)
        behind = near_live_edge(run, feed, live)
        watch.start()
        os.kill(standby_stack.pg_pid("standby"), signal.SIGKILL)
        killed = time.monotonic()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND datname = current_database()"
        wait_for(lambda: run.query(waiting)[0][0] > 0, timeout=60, interval=0.2,
                 what="the worker's commit waiting for the lost standby")
        seen_waiting = time.monotonic()
        blocked = run.stored()
        wait_for(lambda: lag(run, feed, live) > BLOCKED_S, timeout=120, interval=0.25,
                 what=f"the worker {BLOCKED_S} s behind the feed")
        scraped = time.monotonic()
        metrics = scrape(watch.worker_port)
        assert run.stored() == blocked, "a commit returned while the synchronous standby was gone"
        # no error, the sink still up: what tells the platform team is how long the write has waited
        write_waiting = metrics.get(("ioc_sink_write_waiting_seconds", ()), 0.0)
        assert write_waiting >= scraped - seen_waiting - 0.5, metrics.get(("ioc_sink_write_waiting_seconds", ()))
        assert metrics[("ioc_sink_up", ())] == 1 and total(metrics, "ioc_sink_errors_total") == 0
        lag_blocked = lag(run, feed, live)
        # what the operator does (docs/operations.md): commits no longer wait for a standby
        run.conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
        run.conn.execute("SELECT pg_reload_conf()")
        unblocked = time.monotonic()
        resumed = run.wait_stored(lambda n: n > blocked, stall=60, what="a commit after unblocking")
        live.finish()
        sender.flush(120)
        caught_up = run.wait_caught_up(exp.events)
        run.conclude(fault_report, "standby", exp, worker, sender=sender, fault_at=killed,
                     fault="standby killed -9, synchronous replication turned off", messages=len(feed.messages),
                     rate=RATE, feed_s=FEED_S, lag_at_kill_s=round(behind, 1), stored_while_blocked=blocked,
                     lag_when_unblocked_s=round(lag_blocked, 1), blocked_s=round(unblocked - killed, 1),
                     resumed_after_unblock_s=round(resumed - unblocked, 1),
                     caught_up_after_unblock_s=round(caught_up - unblocked, 1),
                     write_waiting_s=round(write_waiting, 1))
        # the standby back: `start postgres` restarts it; it catches up from its slot, commits wait for it again
        standby_stack.run("start", "postgres")
        assert synchronous(standby_stack)
    finally:
        sender.close()
        run.close()


def test_a_base_backup_and_the_wal_archive_restore_up_to_a_restore_point(standby_stack, fault_report):
    standby_stack.stack_sh("pg-rejoin")
    name = f"backup_{uuid.uuid4().hex[:6]}"
    dsn = create_database(standby_stack.dsn(), name, migrate=False)
    insert = "INSERT INTO reading SELECT now() - i * interval '1 s', i FROM generate_series(%s::int, %s::int) AS i"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            conn.execute("CREATE TABLE reading (time timestamptz NOT NULL, id int NOT NULL)")
            conn.execute("SELECT create_hypertable('reading', 'time', chunk_time_interval => interval '1 hour')")
            conn.execute(insert, (1, 1000))  # in the base backup
            started = time.monotonic()
            backup = standby_stack.stack_sh("pg-backup").strip().splitlines()[-1]
            backup_s = time.monotonic() - started
            conn.execute(insert, (1001, 2000))  # only in the WAL archive
            conn.execute("SELECT pg_create_restore_point(%s)", (name,))
            conn.execute(insert, (2001, 3000))  # after the restore point
            switch_and_archive(conn, standby_stack)

        def restored(target: str | None) -> tuple[list[int], float]:
            started = time.monotonic()
            standby_stack.stack_sh("pg-restore", backup, *([target] if target else []))
            took = time.monotonic() - started
            with psycopg.connect(f"postgresql://ioc@127.0.0.1:{standby_stack.restore_port}/{name}") as conn:
                return [r[0] for r in conn.execute("SELECT id FROM reading ORDER BY id")], took

        ids, restore_s = restored(f"name={name}")
        assert ids == list(range(1, 2001)), f"restored {len(ids)} rows, ids {ids[:1]}…{ids[-1:]}"
        every, _ = restored(None)  # no target: the archive replayed to its end
        assert every == list(range(1, 3001))
        fault_report.add("backup", rows_in_base_backup=1000, rows_from_archive=1000, rows_after_restore_point=1000,
                         restored_rows=len(ids), backup_s=round(backup_s, 1), restore_s=round(restore_s, 1))
    finally:
        drop_database(standby_stack.dsn(), name)


def test_promote_refuses_while_the_primary_runs(standby_stack):
    standby_stack.stack_sh("pg-rejoin")
    with pytest.raises(RuntimeError, match="still runs; two primaries would split the data"):
        standby_stack.stack_sh("pg-promote")
    assert synchronous(standby_stack)
