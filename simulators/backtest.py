"""What ``ioc alerts backtest`` reasons with, without a database: the recording's time line, the
worst value of each alert while it fired, and the report.

The simulated clock follows the recording's arrival times (``at``), moved by the typical gap
between an event's own time and its arrival (``survey``): for a recording of the live feeds the
gap is a fraction of a second and the clock is the events' time; for a recording of old events
(a replay recorded without ``--shift-to-now``) it moves the clock back to their time.  Messages
are fed in the order of the file, the order the worker received them, each once the clock has
reached its arrival (``Schedule``).  The job that drives the worker's pipeline and the alert
engine on this clock is ``simulators/jobs/backtest.py``.
"""
from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agents.alerting.state import FIRING, PENDING, AlertState
from agents.indicators.drill_score import duration_text
from simulators.recording import Message
from simulators.timeshift import first_event_time
from streams.core.clock import LOCAL_TZ

#: messages whose gap between event time and arrival is sampled (the first ones with a timestamp)
GAP_SAMPLE = 2001


@dataclass
class Survey:
    """A recording read once: what it holds, when it was received, the typical gap event -> arrival."""

    messages: int = 0
    events: int = 0
    families: Counter[str] = field(default_factory=Counter)
    first_at: datetime | None = None
    last_at: datetime | None = None
    gap: timedelta = timedelta(0)  # median of (first event's time - arrival): add it to an arrival

    @property
    def start(self) -> datetime | None:
        return self.first_at + self.gap if self.first_at else None

    @property
    def end(self) -> datetime | None:
        return self.last_at + self.gap if self.last_at else None


def survey(messages: Iterable[Message], sample: int = GAP_SAMPLE) -> Survey:
    """Read every message once (a bad line raises before anything is simulated)."""
    out = Survey()
    gaps: list[float] = []
    for msg in messages:
        out.messages += 1
        out.events += msg.events
        out.families[msg.family] += 1
        out.first_at = msg.at if out.first_at is None else min(out.first_at, msg.at)
        out.last_at = msg.at if out.last_at is None else max(out.last_at, msg.at)
        if len(gaps) < sample:
            ts = first_event_time(msg.family, msg.value)
            if ts is not None:
                gaps.append((ts - msg.at).total_seconds())
    if gaps:
        out.gap = timedelta(seconds=statistics.median(gaps))
    return out


class Schedule:
    """A recording's messages in file order, each due once the clock reaches its arrival + ``gap``."""

    def __init__(self, messages: Iterable[Message], gap: timedelta = timedelta(0)) -> None:
        self._messages: Iterator[Message] = iter(messages)
        self.gap = gap
        self._next: Message | None = next(self._messages, None)

    @property
    def done(self) -> bool:
        return self._next is None

    def due(self, now: datetime) -> list[Message]:
        """The messages not fed yet that have arrived by ``now``."""
        out = []
        while self._next is not None and self._next.at + self.gap <= now:
            out.append(self._next)
            self._next = next(self._messages, None)
        return out


def begun_and_open(states: Mapping[tuple[str, str], AlertState], end: datetime) -> int:
    """Alerts pending or firing that began by ``end`` (the recording's last arrival): the run goes on
    past the recording until they resolve (or are cancelled)."""
    return sum(1 for st in states.values()
               if st.state in (PENDING, FIRING) and st.breach_since is not None and st.breach_since <= end)


class Peaks:
    """The worst value of each alert while it fired: the highest for a rule ``above``, the lowest for
    ``below``; keyed by (rule, entity, fired at)."""

    def __init__(self) -> None:
        self.worst: dict[tuple[str, str, datetime], float] = {}

    def observe(self, states: Iterable[AlertState], below: Iterable[str]) -> None:
        """Every state after a round (``below``: the names of the rules whose condition is ``below``)."""
        lows = set(below)
        for st in states:
            if st.state != FIRING or st.value is None or st.since is None:
                continue
            key = (st.rule, st.entity, st.since)  # ``since`` of a firing state: when it fired
            seen = self.worst.get(key)
            if seen is None:
                self.worst[key] = st.value
            else:
                self.worst[key] = min(seen, st.value) if st.rule in lows else max(seen, st.value)

    def of(self, rule: str, entity: str, fired_at: datetime) -> float | None:
        return self.worst.get((rule, entity, fired_at))


@dataclass(frozen=True)
class Fired:
    """One alert that would have fired."""

    rule: str
    entity: str
    severity: str
    fired_at: datetime
    resolved_at: datetime | None  # None: still firing at the end of the run
    peak: float | None
    note: str = ""  # "suppressed by <parent>", "flapping": it would have called nobody

    def duration(self, end: datetime) -> timedelta:
        return (self.resolved_at or end) - self.fired_at


STILL_FIRING = "still firing at the end"
HEADER = ("rule", "entity", "severity", "fired", "resolved", "duration", "peak", "note")


def local(ts: datetime) -> str:
    return ts.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def span(d: timedelta) -> str:
    """A duration as rules write it: ``45m``, ``1h30m``, ``90s``."""
    s = int(d.total_seconds())
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return "".join(f"{n}{u}" for n, u in ((h, "h"), (m, "m"), (sec, "s")) if n) or "0s"


def number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"


def table_lines(rows: Sequence[Fired], end: datetime) -> list[str]:
    """One line per alert, in the order they fired, with a header; times in local time."""
    cells = [HEADER] + [
        (r.rule, r.entity, r.severity, local(r.fired_at), local(r.resolved_at) if r.resolved_at else STILL_FIRING,
         ("≥ " if r.resolved_at is None else "") + duration_text(r.duration(end).total_seconds()),
         number(r.peak), r.note)
        for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]


def summary_lines(rows: Sequence[Fired], cancelled: Mapping[str, int], end: datetime,
                  rules: Sequence[str]) -> list[str]:
    """Per rule (in the order of the rule files): alerts fired, still firing, time firing, longest,
    and the pending alerts cancelled before they fired (their condition did not last ``for``)."""
    out = []
    for rule in rules:
        mine = [r for r in rows if r.rule == rule]
        if not mine and not cancelled.get(rule):
            continue
        total = sum((r.duration(end) for r in mine), timedelta(0))
        longest = max((r.duration(end) for r in mine), default=timedelta(0))
        still = sum(1 for r in mine if r.resolved_at is None)
        entities = list(dict.fromkeys(r.entity for r in mine))
        named = ", ".join(entities[:3]) + (f" and {len(entities) - 3} more" if len(entities) > 3 else "")
        parts = [f"{len(mine)} fired" + (f" ({named})" if mine else "")]
        if still:
            parts.append(f"{still} still firing at the end")
        if mine:
            parts += [f"firing {duration_text(total.total_seconds())} in all",
                      f"longest {duration_text(longest.total_seconds())}"]
        if cancelled.get(rule):
            parts.append(f"{cancelled[rule]} pending cancelled before firing")
        out.append(f"{rule}: " + ", ".join(parts))
    return out


def csv_text(rows: Sequence[Fired], end: datetime) -> str:
    """The alerts as CSV: ISO 8601 times with their offset (local time), duration in seconds."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("rule", "entity", "severity", "fired_at", "resolved_at", "duration_s", "still_firing", "peak",
                "note"))
    for r in rows:
        w.writerow((r.rule, r.entity, r.severity, r.fired_at.astimezone(LOCAL_TZ).isoformat(),
                    r.resolved_at.astimezone(LOCAL_TZ).isoformat() if r.resolved_at else "",
                    round(r.duration(end).total_seconds()), "yes" if r.resolved_at is None else "no",
                    "" if r.peak is None else r.peak, r.note))
    return buf.getvalue()
