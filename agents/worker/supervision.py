"""Which of a worker's agents crashed, and whether the worker is therefore degraded.

Faust restarts an agent whose function raised.  A crashed ingest agent loses its place: the
messages it held were never stored, so ``agents/worker/offsets.py`` keeps their offsets uncommitted and
its partitions' committed offsets stop until the worker restarts, while the agent goes on reading
and storing newer messages.  Nothing about that shows unless it is counted: ``AgentWatch`` counts
starts and crashes per agent; the worker reports it in its heartbeat (the wall's worker panel),
in ``ioc_agent_crashes_total`` / ``ioc_worker_degraded`` and, through Prometheus, in the
``IocWorkerAgentCrashing`` meta-alert.  A worker is *degraded* while one of its agents crashed
within the last ``degraded_for``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from streams.core.clock import utcnow

OK, DEGRADED = "ok", "degraded"


@dataclass
class AgentRecord:
    starts: int = 0
    crashes: int = 0
    last_crash: datetime | None = None
    last_error: str | None = None


class AgentWatch:
    def __init__(self, agents: Iterable[str], *, degraded_for: timedelta,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.agents = {a: AgentRecord() for a in agents}
        self.degraded_for = degraded_for
        self.clock = clock

    def started(self, agent: str) -> None:
        self.agents.setdefault(agent, AgentRecord()).starts += 1

    def crashed(self, agent: str, exc: BaseException) -> None:
        rec = self.agents.setdefault(agent, AgentRecord())
        rec.crashes += 1
        rec.last_crash = self.clock()
        rec.last_error = f"{type(exc).__name__}: {str(exc)[:300]}"

    def degraded(self) -> list[str]:
        """Agents that crashed within ``degraded_for``."""
        now = self.clock()
        return sorted(a for a, r in self.agents.items()
                      if r.last_crash is not None and now - r.last_crash <= self.degraded_for)

    def status(self) -> str:
        return DEGRADED if self.degraded() else OK

    def info(self) -> dict[str, Any]:
        """For the worker's heartbeat: the status, the degraded agents and every agent's counts."""
        return {
            "status": self.status(),
            "degraded": self.degraded(),
            "agents": {a: {"starts": r.starts, "crashes": r.crashes,
                           "last_crash": r.last_crash.isoformat() if r.last_crash else None,
                           "last_error": r.last_error}
                       for a, r in sorted(self.agents.items())},
        }
