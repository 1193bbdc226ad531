"""Late, about to be late, not yet due: one rule for dossiers and citizen reports.

"About to be late" starts when the time left is at most the *smaller* of ``horizon`` (1 day)
and ``share`` (20 %) of the time allowed (due − start).  So a 30-day procedure warns on its
last day, a 1-day procedure in its last 4.8 hours, a 24-hour citizen report in its last 4.8 h
— a warning that comes early enough to act on and not at the very start of short terms.
Late means after the due time (as in ``streams.core.contracts.dossier.outcome_of``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class DueSoon:
    horizon: timedelta = timedelta(days=1)
    share: float = 0.2

    def window(self, start: datetime, due: datetime) -> timedelta:
        return min(self.horizon, (due - start) * self.share)


def due_status(start: datetime, due: datetime, now: datetime, rule: DueSoon = DueSoon()) -> str:
    """``late``, ``due_soon`` or ``not_due`` for work started at ``start`` and due at ``due``."""
    if now > due:
        return "late"
    if due - now <= rule.window(start, due):
        return "due_soon"
    return "not_due"
