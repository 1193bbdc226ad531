import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import profile
from bench.report import render_markdown
from tests.bench.test_report import results

MAIN = ("<module> (bench/worker.py:24);main (streams/cli/main.py:33);cmd_worker (streams/cli/processes.py:26);"
        "BaseEventLoop._run_once (asyncio/base_events.py:1900)")
RAW = [
    f"{MAIN};Worker._register.<locals>.ingest (agents/worker/workers.py:97);FeedPipeline.process (agents/worker/pipeline.py:130);"
    "FeedPipeline._decode (agents/worker/pipeline.py:140);TypeAdapter.validate_python "
    "(/x/.venv/lib/python3.11/site-packages/pydantic/type_adapter.py:362) 30",
    f"{MAIN};FeedPipeline._write (agents/worker/pipeline.py:210);TimescaleSink.write (agents/worker/sinks/timescale.py:140);"
    "health_increments (agents/indicators/health.py:184);aggregate (agents/indicators/health.py:41) 10",
    f"{MAIN};FeedPipeline._write (agents/worker/pipeline.py:210);TimescaleSink.write (agents/worker/sinks/timescale.py:125) 20",
    f"{MAIN};Worker._register.<locals>.ingest (agents/worker/workers.py:99);MetricWrapperBase.labels "
    "(prometheus_client/metrics.py:138) 5",
    f"{MAIN};EpollSelector.select (selectors.py:468) 15",
    f"{MAIN};Consumer._drain_messages (faust/transport/consumer.py:1240);Service.wait_first (mode/services.py:700) 20",
    "Thread._bootstrap (threading.py:1002);WorkerThread.run (mode/threads.py:66);EpollSelector.select "
    "(selectors.py:468) 500",
    "not a stack line",
]


def test_samples_go_to_their_part_of_the_main_thread():
    r = profile.summarise(RAW, top=3)
    assert r["samples"] == 100  # the fetcher thread's 500 idle samples are not the worker's main thread
    assert r["parts"] == {"decode and validate": 0.3, "indicators": 0.1, "database": 0.2, "pipeline, other": 0.05,
                          "idle": 0.15, "Faust, aiokafka, asyncio": 0.2}
    assert r["top_own"][0] == {"function": "TypeAdapter.validate_python (pydantic/type_adapter.py)", "share": 0.3}
    assert len(r["top_own"]) == 3 and all("select" not in t["function"] for t in r["top_own"])


def test_a_profile_without_the_worker_is_an_error():
    with pytest.raises(ValueError, match="main thread"):
        profile.summarise(RAW[-2:])


def test_the_report_has_the_profile_and_says_when_it_failed():
    r = results()
    r["profile"] = {"single": {**profile.summarise(RAW), "seconds": 20}, "batched": {"error": "py-spy failed (1)"}}
    md = render_markdown(r)
    assert "## 6. Where the worker's time goes" in md
    assert "| decode and validate | 30% |" in md and "| Faust, aiokafka, asyncio | 20% |" in md
    assert "| `TypeAdapter.validate_python (pydantic/type_adapter.py)` | 30.0% |" in md
    assert "The profile of the batched messages failed: py-spy failed (1)" in md


def test_py_spy_records_a_real_python_process(tmp_path: Path):
    busy = subprocess.Popen([sys.executable, "-c", "def spin():\n    while True:\n        sum(range(1000))\nspin()"])
    try:
        time.sleep(0.3)
        out = tmp_path / "raw.txt"
        profile.record(busy.pid, 2, out)
    finally:
        busy.kill()
        busy.wait()
    stacks = profile.parse(out.read_text().splitlines())
    assert sum(n for _, n in stacks) >= 100  # 100 Hz for 2 s, waiting included
    assert any(frames[-1].startswith("spin (<string>)") for frames, _ in stacks)
