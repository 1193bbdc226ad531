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
