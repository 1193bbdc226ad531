"""Login rate limit: at most N failed logins per user name and per address in a sliding window.

Pure: the caller reads the failures' times (from ``login_attempt``) and asks for a verdict.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Limit:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds until one more attempt is allowed


def verdict(failures: Sequence[datetime], now: datetime, limit: Limit) -> Verdict:
    """Allowed while fewer than ``max_failures`` failures lie in the window ending now."""
    recent = sorted(t for t in failures if now - t < limit.window)
    if len(recent) < limit.max_failures:
        return Verdict(True)
    # one more try once the failure that completed the limit leaves the window
    frees_at = recent[-limit.max_failures] + limit.window
    return Verdict(False, max(0.0, (frees_at - now).total_seconds()))


def login_verdict(by_user: Sequence[datetime], by_address: Sequence[datetime], now: datetime,
                  limit: Limit) -> Verdict:
    """The stricter of the user's and the address's verdicts."""
    a, b = verdict(by_user, now, limit), verdict(by_address, now, limit)
    if a.allowed and b.allowed:
        return Verdict(True)
    return Verdict(False, max(a.retry_after, b.retry_after))
