"""The worker's allocator gives back what a batch held (``agents.worker.workers.quiet_allocator``).

Each case runs in a fresh interpreter: glibc's settings hold for the whole process, and the pattern
is the worker's — a large fetch buffer freed, message values made in the consumer's thread, most of
them freed by the event loop's while a few are still held."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import sys, threading
from agents.worker.workers import quiet_allocator

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

tuned = sys.argv[1] == "tuned"
if tuned:
    assert quiet_allocator()
held = []

def fetch():
    buffer = bytes(4 << 20)  # a fetch buffer, freed: glibc's own threshold would grow past 4 MiB
    del buffer
    held.extend(bytes(200_000) + bytes([i % 256]) for i in range(1000))  # 200 MB of values

thread = threading.Thread(target=fetch)
thread.start()
thread.join()
peak = rss_mib()
kept = held[::10]  # a tenth still referenced (the batch being written)
held.clear()
print(peak, rss_mib())
"""


def _peak_and_after(mode: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    peak, after = map(float, out.stdout.split())
    return peak, after


def test_freed_values_are_given_back_to_the_system():
    peak, after = _peak_and_after("tuned")
    assert peak > 200
    assert peak - after > 150, f"resident memory {peak:.0f} MiB at the peak, {after:.0f} MiB after freeing 180 MB"


def test_glibcs_defaults_keep_them():
    """What the worker would keep without it (the case above is not true of any process)."""
    peak, after = _peak_and_after("default")
    assert peak - after < 50, f"glibc's defaults gave back {peak - after:.0f} MiB"
