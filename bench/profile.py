"""Where a draining worker spends its time: a py-spy profile, summed by part of the pipeline.

``record`` samples a running worker from outside (``py-spy record --nonblocking``: the worker is
never paused, so the profile does not slow what it measures; ``--idle``: samples of a waiting
thread are kept, so shares are of wall time) and keeps py-spy's raw output: one line per distinct
stack, ``frame;frame;…;frame count``, each frame ``function (file:line)``.

``summarise`` reads that output.  Only the worker's main thread counts (the stacks that pass
through ``cmd_worker``); aiokafka's fetcher thread and the metrics server are left out.  Each
sample goes to the first part whose frames it holds, in this order:

- *decode and validate*: ``FeedPipeline._decode`` (JSON, the pydantic contracts, watermarks);
- *indicators*: a family's ``*_increments`` function (windows, sketches, state machines);
- *database*: ``TimescaleSink.write`` otherwise (rows, parameters, SQL, waiting on PostgreSQL);
- *pipeline, other*: the rest of the agent (``ingest``: metrics, dead letters, offsets);
- *idle*: the event loop waiting in ``select`` with nothing to run (for the fetcher thread's
  messages or for PostgreSQL's answers);
- *Faust, aiokafka, asyncio*: everything else — the per-message stream machinery.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PARTS = ("decode and validate", "indicators", "database", "pipeline, other", "idle", "Faust, aiokafka, asyncio")
MAIN_THREAD = "cmd_worker (streams/cli/processes.py"
_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable next to this Python, or on the PATH."""
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path, *, rate: int = 100) -> None:
    """Sample process ``pid`` for ``seconds`` into ``out`` (py-spy raw format)."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed: pip install -e '.[dev]'")
    cmd = [exe, "record", "--nonblocking", "--idle", "--format", "raw", "--rate", str(rate),
           "--duration", str(max(1, round(seconds))), "--pid", str(pid), "--output", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"py-spy failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}")


def frame_name(frame: str) -> str:
    """``function (file)`` with the line number dropped and site-packages/ stripped from the path."""
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file").split("site-packages/")[-1]
    return f"{m.group('fn')} ({path})"


def parse(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    """py-spy raw lines -> (frames outermost first, samples)."""
    stacks = []
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append(([frame_name(f) for f in stack.split(";")], int(count)))
    return stacks


def part_of(frames: list[str]) -> str:
    functions = [f.split(" (")[0] for f in frames]
    if "FeedPipeline._decode" in functions:
        return PARTS[0]
    if any(fn.endswith("_increments") for fn in functions):
        return PARTS[1]
    if "TimescaleSink.write" in functions:
        return PARTS[2]
    if any(fn.startswith(("FeedPipeline.", "Worker._register.<locals>.ingest")) for fn in functions):
        return PARTS[3]
    if functions and functions[-1].endswith(".select"):
        return PARTS[4]
    return PARTS[5]


def summarise(lines: Iterable[str], *, top: int = 15) -> dict[str, Any]:
    """Shares of the main thread's samples by part, and the functions with the most own samples."""
    parts: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for frames, n in parse(lines):
        if not any(f.startswith(MAIN_THREAD) for f in frames):
            continue
        total += n
        part = part_of(frames)
        parts[part] += n
        if part != PARTS[4]:
            own[frames[-1]] += n
    if total == 0:
        raise ValueError("no sample of the worker's main thread in the profile")
    return {
        "samples": total,
        "parts": {p: round(parts[p] / total, 3) for p in PARTS},
        "top_own": [{"function": f, "share": round(n / total, 3)} for f, n in own.most_common(top)],
    }
