"""Every source itself: is its data correct, complete, clean and live ("đúng, đủ, sạch, sống")?

Guidance 1709/BKHCN-CĐSQG asks a provincial IOC to prove its data is correct, complete, clean
and live.  Per feed, from ``source_window`` counters:

* correct  — the share of events rejected by validation is below ``max_rejected``;
* complete — the received rate reaches ``min_completeness`` of the expected rate (learned from
  the previous day, or configured);
* clean    — the share of duplicates (re-sent or replayed events) is below ``max_duplicates``;
* live     — the newest arrival is younger than ``stale_after``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SourceThresholds:
    max_rejected: float = 0.01
    min_completeness: float = 0.8
    max_duplicates: float = 0.05
    stale_after: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: str
    received_per_s: float
    expected_per_s: float | None
    rejected_share: float | None
    duplicate_share: float | None
    last_event: datetime | None
    last_arrival: datetime | None
    correct: bool
    complete: bool | None  # None: no expectation yet
    clean: bool
    live: bool

    @property
    def status(self) -> str:
        if not self.live:
            return "silent"
        if not self.correct or not self.clean:
            return "dirty"
        if self.complete is False:
            return "incomplete"
        return "ok"


def source_health(
    source: str,
    *,
    received: int,
    rejected: int,
    duplicates: int,
    window: timedelta,
    last_event: datetime | None,
    last_arrival: datetime | None,
    expected_per_s: float | None,
    now: datetime,
    thresholds: SourceThresholds = SourceThresholds(),
) -> SourceHealth:
    rate = received / window.total_seconds() if window.total_seconds() > 0 else 0.0
    rejected_share = rejected / received if received else None
    duplicate_share = duplicates / received if received else None
    live = last_arrival is not None and now - last_arrival <= thresholds.stale_after
    complete = None if not expected_per_s else rate >= thresholds.min_completeness * expected_per_s
    return SourceHealth(
        source, rate, expected_per_s, rejected_share, duplicate_share, last_event, last_arrival,
        correct=(rejected_share or 0) <= thresholds.max_rejected,
        complete=complete,
        clean=(duplicate_share or 0) <= thresholds.max_duplicates,
        live=live,
    )
