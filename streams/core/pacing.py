"""How often a periodic job may run, so that it takes at most a share of the time (pure).

The worker's timers fire every interval.  A job that reads the database (the security detectors)
costs more when there is more to read, and a flood of events is when there is most: a run that
takes longer than its interval would start again at once, and take a core of PostgreSQL from the
writes for as long as the flood lasts.  ``Pacing`` puts the next run off until the last one is at
most ``max_share`` of the time since it started: after a run of ``d`` seconds the next starts no
sooner than ``d / max_share`` seconds after it.  A run shorter than ``max_share × interval``
changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Pacing:
    """``due(now)`` before a run, ``ran(started, seconds)`` after it; times are monotonic seconds."""

    interval_s: float
    max_share: float
    not_before: float = float("-inf")

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or not 0 < self.max_share <= 1:
            raise ValueError(f"pacing needs interval_s > 0 and 0 < max_share <= 1, not {self.interval_s}, "
                             f"{self.max_share}")

    def due(self, now: float) -> bool:
        """Whether a run may start at ``now``.  A tenth of the interval of slack: a timer that fires a
        little early does not lose a whole interval."""
        return now >= self.not_before - 0.1 * self.interval_s

    def ran(self, started: float, seconds: float) -> float:
        """Record a run; returns the earliest time of the next one."""
        self.not_before = started + max(self.interval_s, seconds / self.max_share)
        return self.not_before
