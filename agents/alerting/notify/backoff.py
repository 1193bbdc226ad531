"""When to try a failed delivery again, and when to give up (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


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

    def delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th consecutive failure (1 -> base, 2 -> 2·base, …)."""
        if attempts < 1:
            return timedelta(0)
        return timedelta(seconds=min(self.max_s, self.base_s * 2.0 ** min(attempts - 1, 62)))

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
