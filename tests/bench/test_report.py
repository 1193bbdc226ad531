from bench.report import render_markdown


def _paced(share, rate, bounded, p50=0.4):
    return {"share_of_capacity": share, "target_events_per_s": rate, "sent_events_per_s": rate,
            "written_events_per_s": rate, "measured_s": 30,
            "latency_s": {"p50": p50, "p95": 0.9, "p99": 1.2, "mean": 0.5, "events": 1000},
            "batch_s": {"p50": 0.1, "p95": 0.3},
            "lag": {"bounded": bounded, "max_messages": 10, "max_seconds_of_input": 0.8, "final_messages": 3,
                    "slope_messages_per_s": 0.1, "rule": "r"},
            "cpu_cores": {"worker": 0.9, "other": 0.1, "machine": 1.5, "cores": 2},
            "rss_mib": {"start": 150.0, "end": 151.0, "max": 152.0, "growth_mib_per_hour": 2.0,
                        "samples": [[0, 150.0], [5, 151.0]]}}


def results():
    drain = {"events": 60000, "rate_events_per_s": 2000, "rate_messages_per_s": 2000, "measured_s": 28.5,
             "lag_zero_after_s": 33.0, "cpu_cores": {"single-worker": 0.95, "kafka": 0.1, "postgres": 0.4,
                                                      "bench": 0.0, "other": 0.1, "machine": 1.6, "cores": 2},
             "rss_mib": {"single-worker": 140.0}, "per_worker_share": {"single-worker": 1.0}}
    mode = {"pilot": {"events": 9000, "rate_events_per_s": 2100},
            "backlog": {"events": 60000, "messages": 60000, "bytes": 18_000_000, "produce_s": 2.0,
                        "produce_messages_per_s": 30000},
            "drain": drain, "paced": [_paced(0.9, 1800, False, 3.5), _paced(0.5, 1000, True)],
            "paced_sustained_events_per_s": 1000}
    batched = {**mode, "drain": {**drain, "rate_events_per_s": 15000, "rate_messages_per_s": 400},
               "paced_sustained_events_per_s": 13500, "soak": {**_paced(0.45, 6750, True), "measured_s": 600}}
    two = {**drain, "rate_events_per_s": 2600, "per_worker_share": {"a": 0.5, "b": 0.5}}
    return {
        "meta": {"date": "2026-11-27T21:00:00+00:00", "quick": False, "run_id": "abc", "duration_s": 1400,
                 "code": {"commit": "0123456789ab", "changed_files": 0},
                 "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 24.0, "os": "Debian 12", "kernel": "6.1",
                             "python": "3.11", "packages": {"faust-streaming": "0.15.3"}, "postgresql": "15",
                             "timescaledb": "2.19", "kafka": "3.9.1", "load_average_at_start": [0.5, 0.4, 0.3]},
                 "load_average_at_end": [1.0, 0.9, 0.8], "settings": {"batch_max": 2000}},
        "feed": {"single": {"events": {"health": 10}, "events_per_message": {"health": 1.0},
                            "mean_events_per_message": 1.0},
                 "batched": {"events": {"health": 10}, "events_per_message": {"health": 196.2},
                             "mean_events_per_message": 38.9}},
        "throughput": {"single": mode, "batched": batched},
        "baselines": {"bare_consumer": {"single": {"messages_per_s": 166000, "events_per_s": 166000,
                                                   "mb_per_s": 50.0, "worker_ratio": 0.012},
                                        "batched": {"messages_per_s": 2400, "events_per_s": 484000,
                                                    "mb_per_s": 150.0, "worker_ratio": 0.031}},
                      "bare_copy": {"rows": 300000, "rows_per_s": 120000, "worker_ratio": {"single": 0.0167,
                                                                                          "batched": 0.125}}},
        "scale_out": {"single": {"1_worker": drain, "2_worker": two, "ratio": 1.3}},
        "wall": {"callbacks_per_refresh": 1,
                 "1_screens": {"screens": 1, "seconds": 15, "refresh_s": 2.0, "refreshes": 7, "errors": 0,
                               "latency_s": {"p50": 0.05, "p95": 0.08, "max": 0.1}, "db_queries_per_period": 3.1,
                               "snapshot_reads_per_period": 1.0, "cpu_cores": {"dash": 0.1}},
                 "30_screens": {"screens": 30, "seconds": 60, "refresh_s": 2.0, "refreshes": 900, "errors": 0,
                                "latency_s": {"p50": 0.12, "p95": 0.4, "max": 0.9}, "db_queries_per_period": 3.1,
                                "snapshot_reads_per_period": 1.0, "cpu_cores": {"dash": 0.8}}},
    }


def test_every_headline_figure_is_in_the_report():
    md = render_markdown(results())
    assert md.startswith("# Benchmarks\n")
    for text in ("Test CPU — 2 cores", "commit `0123456789ab`", "| drain capacity, one worker (events/s) | 2,000 | 15,000 |",
                 "1,000 (50%)", "3.50 / 0.90 / 1.20 (lag not bounded)", "0.40 / 0.90 / 1.20",
                 "| worker / bare consumer | 0.012 | 0.031 |", "| two workers / one | 1.30 | — |",
                 "30 screens refreshing every 2 s: callback p50 0.120 s, p95 0.400 s; 3.1 database queries",
                 "growth 2.0 MiB per hour", "| … per CPU-second of the worker (events) | 2,105 | 15,789 |", "**soak**, batched, 6,750 events/s", "## Method"):
        assert text in md, text


def test_a_busy_machine_is_said():
    r = results()
    assert "The machine was shared" not in render_markdown(r)
    r["throughput"]["single"]["drain"] = {**r["throughput"]["single"]["drain"],
                                          "cpu_cores": {"single-worker": 0.3, "other": 1.5}}
    md = render_markdown(r)
    assert "The machine was shared" in md and "| … per CPU-second of the worker (events) | 6,667 |" in md


def test_a_partial_run_still_renders():
    r = results()
    del r["scale_out"], r["wall"], r["baselines"]
    md = render_markdown(r)
    assert "## 3. Scale-out" in md and "| worker / bare consumer | — | — |" in md


def test_the_same_guarantees_baseline_is_reported():
    r = results()
    g = {"events": 1000, "fresh": 1000, "messages": 10, "batches": 2, "seconds": 0.5, "cpu_seconds": 0.25,
         "events_per_s": 2000, "events_per_cpu_s": 4000, "worker_events_per_cpu_s": 2105, "worker_ratio": 0.526}
    r["baselines"]["same_guarantees"] = {"single": g, "batched": {**g, "events_per_cpu_s": 40000,
                                                                  "worker_ratio": 0.3947}}
    md = render_markdown(r)
    assert "| same-guarantees baseline (events per CPU-second) | 4,000 | 40,000 |" in md
    assert "| worker / same-guarantees baseline, per CPU-second | 0.53 | 0.39 |" in md
    assert "same-guarantees consumer, batched messages" in md


def test_the_hand_written_part_of_the_last_report_is_carried_into_the_next():
    from bench.report import KEPT_END, KEPT_START, kept_sections

    old = f"# Benchmarks\n\nold figures\n\n{KEPT_START}\n## 7. A one-off comparison\n\nfigures\n{KEPT_END}\n\n## Method\n"
    kept = kept_sections(old)
    assert kept.startswith(KEPT_START) and kept.endswith(KEPT_END) and "A one-off comparison" in kept
    md = render_markdown(results(), kept)
    assert md.index("A one-off comparison") < md.index("## Method") and "old figures" not in md
    assert kept_sections("# Benchmarks\n") == ""


def test_the_history_queries_have_a_section_of_their_own():
    history = {"days": 365, "repeat": 30, "seed_s": 41.0, "tables": {"health_day": 11346},
               "queries": [{"query": "page security", "range": "1y", "resolution": "day", "rows": 1825,
                            "p50_ms": 95.6, "p95_ms": 159.2}],
               "worst_p95_ms": 159.2, "target_p95_ms": 200.0}
    md = render_markdown({**results(), "history": history})
    assert "### History over a range (`python -m bench.history`)" in md
    assert "| 1y | page security | day | 1,825 | 95.6 ms | 159.2 ms |" in md
    assert "Worst p95 of the history queries: 159.2 ms." in md
    assert "History over a range" not in render_markdown(results())


def test_cores_line_shows_io_wait_and_host_steal_when_measured():
    from bench.report import cores_line
    c = {"single-worker": 0.5, "postgres": 0.9, "other": 0.1, "machine": 1.6, "cores": 2, "iowait": 0.25, "steal": 0.05}
    line = cores_line(c, ["single-worker"])
    assert "I/O wait 0.25, taken by the host 0.05" in line and line.startswith("worker 0.50")
    assert "I/O wait" not in cores_line({"machine": 1.0, "cores": 2}, [])


def test_cores_line_splits_postgresql_by_what_its_processes_do():
    from bench.report import cores_line
    c = {"postgres": 1.0, "postgres_parts": {"statements": 0.8, "autovacuum": 0.15, "checkpoints and WAL": 0.05},
         "machine": 1.6, "cores": 2}
    line = cores_line(c, [])
    assert "PostgreSQL 1.00 (statements 0.80, autovacuum 0.15, checkpoints and WAL 0.05)" in line
    assert "PostgreSQL 0.90, " in cores_line({"postgres": 0.9, "machine": 1.0, "cores": 2}, [])
