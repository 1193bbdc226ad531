from bench.procs import CpuMeter


def test_cpu_shares_count_processes_by_pid():
    before = {"machine_busy": 100.0, "machine_total": 200.0, "wall_clock": 10.0,
              "postgres": {1: 5.0, 2: 7.0}, "worker": {9: 1.0}}
    # pid 2 ended (its CPU must not come out negative), pid 3 started during the interval
    after = {"machine_busy": 118.0, "machine_total": 220.0, "wall_clock": 20.0,
             "postgres": {1: 6.0, 3: 2.0}, "worker": {9: 9.0}}
    s = CpuMeter.share(before, after)
    assert s["postgres"] == 0.3 and s["worker"] == 0.8
    assert s["machine"] == 1.8 and s["cores"] == 2 and s["other"] == 0.7


def test_io_wait_and_host_steal_are_shown_apart_from_the_busy_cores():
    before = {"machine_busy": 100.0, "machine_total": 200.0, "machine_iowait": 3.0, "machine_steal": 1.0,
              "wall_clock": 10.0, "worker": {9: 1.0}}
    after = {"machine_busy": 110.0, "machine_total": 220.0, "machine_iowait": 5.0, "machine_steal": 4.0,
             "wall_clock": 20.0, "worker": {9: 6.0}}
    s = CpuMeter.share(before, after)
    assert s["iowait"] == 0.2 and s["steal"] == 0.3 and s["machine"] == 1.0
    assert "machine_iowait" not in s and "machine_steal" not in s


def test_a_reading_of_this_machine_has_every_figure_the_shares_need():
    from bench.procs import machine_times
    t = machine_times()
    assert t["machine_total"] >= t["machine_busy"] >= t["machine_steal"] >= 0 and t["machine_iowait"] >= 0


def test_a_process_that_came_and_went_between_the_first_and_last_reading_is_counted():
    # an autovacuum worker (pid 4) runs from the second reading to the third, then exits
    readings = [
        {"machine_busy": 100.0, "machine_total": 200.0, "wall_clock": 0.0,
         "postgres": {1: 5.0}, "postgres_roles": {1: "statements"}},
        {"machine_busy": 105.0, "machine_total": 210.0, "wall_clock": 5.0,
         "postgres": {1: 7.0, 4: 0.5}, "postgres_roles": {1: "statements", 4: "autovacuum"}},
        {"machine_busy": 110.0, "machine_total": 220.0, "wall_clock": 10.0,
         "postgres": {1: 9.0, 4: 3.0}, "postgres_roles": {1: "statements", 4: "autovacuum"}},
        {"machine_busy": 115.0, "machine_total": 230.0, "wall_clock": 15.0,
         "postgres": {1: 11.0}, "postgres_roles": {1: "statements"}},
    ]
    s = CpuMeter.share_over(readings)
    assert s["postgres"] == 0.6  # 6 s of the connection and 3 s of autovacuum over 15 s
    assert s["postgres_parts"] == {"statements": 0.4, "autovacuum": 0.2}
    assert s["other"] == 0.4 and s["machine"] == 1.0
    # the same interval read only at its ends gives the exited process's CPU to "other"
    ends = CpuMeter.share(readings[0], readings[-1])
    assert ends["postgres"] == 0.4 and ends["other"] == 0.6


def test_postgres_processes_are_told_apart_by_their_titles():
    import os
    import psycopg
    from bench.procs import group_cpu, pg_role
    from streams.core.settings import Settings
    with psycopg.connect(Settings().dsn, autocommit=True) as conn:  # the stack's PostgreSQL, as make test starts it
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert pg_role(backend) == "statements"
    roles = {pg_role(pid) for pid in group_cpu(("postgres",))}
    assert "checkpoints and WAL" in roles  # the checkpointer, the background writer, the WAL writer
    assert pg_role(os.getpid()) == "other"
