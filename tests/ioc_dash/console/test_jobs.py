"""The console's job runner: one ``ioc`` subprocess at a time, its output kept, stoppable."""
import sys
import time

import pytest

from ioc_dash.console import jobs
from ioc_dash.console.jobs import JobRunner
from streams.core.errors import IOCError
from tests.support import wait_for

SCRIPT = ("import signal, sys, time\n"
          "signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # as ioc does (streams/cli/main.py)
          "print('started', *sys.argv[1:], flush=True)\n"
          "try:\n    time.sleep(float(sys.argv[-1]))\nexcept KeyboardInterrupt:\n"
          "    print('interrupted: releasing forced conditions', flush=True); sys.exit(130)\n"
          "print('done', flush=True)\n")


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setattr(jobs, "IOC", [sys.executable, "-c", SCRIPT])
    return JobRunner({"IOC_TOPIC_PREFIX": "nothing."})


def test_a_run_keeps_its_output_and_exit_code(runner):
    job = runner.start("drill quick", ["drill", "quick", "0.1"], "admin")
    wait_for(lambda: not job.running, timeout=10, what="the run to end")
    assert job.returncode == 0 and job.output() == "started drill quick 0.1\ndone"
    assert job.started_by == "admin" and runner.current() is job


def test_one_run_at_a_time_and_stop_interrupts_it(runner):
    job = runner.start("drill long", ["drill", "long", "30"], "admin")
    wait_for(lambda: job.lines, timeout=10, what="the first line")
    with pytest.raises(IOCError, match="drill long is still running"):
        runner.start("replay x", ["replay", "x", "1"], "admin")
    t0 = time.monotonic()
    assert runner.stop()
    wait_for(lambda: not job.running, timeout=10, what="the run to stop")
    assert time.monotonic() - t0 < 5 and job.returncode == 130
    assert job.lines[-1] == "interrupted: releasing forced conditions"
    assert not runner.stop()
    assert runner.start("drill next", ["drill", "next", "0"], "admin").id == job.id + 1


def test_list_output_of_the_real_command():
    out = JobRunner({}).list_output(["drill", "--list"])
    assert "dvc-ddos" in out and "flood-salinity" in out
