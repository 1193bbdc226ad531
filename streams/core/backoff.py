"""When to try again after a failure, and when to give up (pure).

One schedule for every retry: the worker's writes and dead letters wait ``delays()`` in turn until
they succeed; notifications and the SOC link put their next attempt at ``next_attempt`` / ``delay``.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff: ``base_s`` doubling up to ``max_s``.

    A delivery is given up after ``max_attempts`` failed attempts or once it is older than
    ``max_age``; ``None`` means never (the SOC link keeps everything until it is back).
    """

    base_s: float = 5.0
    max_s: float = 600.0
    max_attempts: int | None = None
    max_age: timedelta | None = None

    def seconds(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th consecutive failure (1 -> base, 2 -> 2·base, …)."""
        if attempts < 1:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(attempts - 1, 62))

    def delay(self, attempts: int) -> timedelta:
        """``seconds(attempts)`` as a ``timedelta``."""
        return timedelta(seconds=self.seconds(attempts))

    def delays(self) -> Iterator[float]:
        """The waits after one failure after another, in seconds, without end: base, 2·base, … max."""
        for attempts in count(1):
            yield self.seconds(attempts)

    def next_attempt(self, attempts: int, created_at: datetime, now: datetime,
                     retry_after: float | None = None) -> datetime | None:
        """When to try again after ``attempts`` failures, or ``None`` to give up.

        ``retry_after`` (what the receiver asked for) lengthens the wait, never shortens it.
        """
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        wait = self.delay(attempts)
        if retry_after:
            wait = max(wait, timedelta(seconds=retry_after))
        at = now + wait
        if self.max_age is not None and at - created_at > self.max_age:
            return None
        return at

    def schedule(self, attempts: int) -> list[float]:
        """Seconds from the first attempt to each of the next ``attempts`` tries (for docs, tests)."""
        out, t = [], 0.0
        for n in range(1, attempts + 1):
            t += self.delay(n).total_seconds()
            out.append(t)
        return out
