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
