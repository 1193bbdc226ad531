"""The after-action score of a drill run (pure: rows in, a score out; tested without a database).

Per promised alert (rule, entity): *time to detect* = its first firing − the drill's start (or
"missed" when it never fired), *time to acknowledge* = the first acknowledgement − that firing
(or none yet).  Alerts of the run that were not promised are listed as "unexpected"; the
signals' verdicts (what the feed carried) come from the run as ``ioc drill`` recorded them.
``timeline`` merges the run's steps and its alerts' events; ``to_csv`` exports both.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AlertScore:
    rule: str
    entity: str
    promised: bool
    alert_id: int | None = None
    fired_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    detect_s: float | None = None  # first firing - drill start
    ack_s: float | None = None  # first acknowledgement - firing

    @property
    def missed(self) -> bool:
        return self.promised and self.fired_at is None


@dataclass(frozen=True, slots=True)
class SignalVerdict:
    says_vi: str
    says_en: str
    ok: bool
    observed: str


@dataclass(frozen=True)
class DrillScore:
    alerts: list[AlertScore]  # the promised ones first, in the scenario's order, then the unexpected
    signals: list[SignalVerdict] = field(default_factory=list)

    @property
    def promised(self) -> list[AlertScore]:
        return [a for a in self.alerts if a.promised]

    @property
    def detected(self) -> int:
        return sum(1 for a in self.promised if not a.missed)

    @property
    def acknowledged(self) -> int:
        return sum(1 for a in self.promised if a.ack_s is not None)

    @property
    def signals_ok(self) -> int:
        return sum(1 for s in self.signals if s.ok)

    @property
    def mean_detect_s(self) -> float | None:
        times = [a.detect_s for a in self.promised if a.detect_s is not None]
        return sum(times) / len(times) if times else None


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def _first(rows: Sequence[Row], key: str) -> Row | None:
    with_key = [r for r in rows if r.get(key) is not None]
    return min(with_key, key=lambda r: r[key]) if with_key else None


def _score(rule: str, entity: str, promised: bool, rows: Sequence[Row], start: datetime) -> AlertScore:
    fired = _first(rows, "fired_at")
    if fired is None:
        return AlertScore(rule, entity, promised, alert_id=rows[0]["id"] if rows else None)
    # the acknowledgement of the alert that fired first, or of a later one of the same promise
    acked = _first([r for r in rows if r.get("fired_at") is not None], "acknowledged_at")
    ack_at = acked["acknowledged_at"] if acked else None
    return AlertScore(rule, entity, promised, alert_id=fired["id"], fired_at=fired["fired_at"],
                      acknowledged_at=ack_at, acknowledged_by=acked.get("acknowledged_by") if acked else None,
                      detect_s=_seconds(fired["fired_at"], start), ack_s=_seconds(ack_at, fired["fired_at"]))


def score(run: Row, alerts: Iterable[Row]) -> DrillScore:
    """The score of ``run`` (a ``drill_run`` row) from its alerts (``alert`` rows of the run)."""
    start: datetime = run["started_at"]
    by_key: dict[tuple[str, str], list[Row]] = {}
    for a in alerts:
        by_key.setdefault((a["rule"], a["entity"]), []).append(a)
    promised = [(str(p["rule"]), str(p["entity"])) for p in run.get("expected") or []]
    out = [_score(rule, entity, True, by_key.get((rule, entity), []), start) for rule, entity in promised]
    extra = sorted(k for k in by_key if k not in set(promised))
    out += [_score(rule, entity, False, by_key[(rule, entity)], start) for rule, entity in extra]
    signals = [SignalVerdict(str(s.get("says_vi", "")), str(s.get("says_en", "")), bool(s.get("ok")),
                             str(s.get("observed", ""))) for s in run.get("signals") or []]
    return DrillScore(out, signals)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    offset_s: float  # since the drill's start
    kind: str  # step, or an alert event kind (pending, fired, acknowledged, resolved …)
    what: str


def timeline(run: Row, alert_events: Iterable[Row]) -> list[TimelineEntry]:
    """The run's steps (their start, from ``run.steps``) and its alerts' events, in time order;
    the steps of a run stopped before they began are left out."""
    start: datetime = run["started_at"]
    end: datetime | None = run.get("finished_at")
    out = [TimelineEntry(start + timedelta(seconds=float(s["at"])), float(s["at"]), "step",
                         str(s.get("what", "")) + (f" ({s['note']})" if s.get("note") else "")
                         + f" · {float(s.get('for', 0)):.0f} s")
           for s in run.get("steps") or [] if end is None or start + timedelta(seconds=float(s["at"])) <= end]
    for e in alert_events:
        who = f" · {e['actor']}" if e.get("actor") and e["actor"] != "system" else ""
        out.append(TimelineEntry(e["at"], (e["at"] - start).total_seconds(), str(e["kind"]),
                                 f"#{e['alert_id']} {e['rule']} {e['entity']}{who}"))
    out.sort(key=lambda x: (x.at, x.kind != "step"))
    return out


def duration_text(seconds: float | None) -> str:
    """"2:05" (minutes:seconds), "1:02:05" past an hour, "" for None."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _text(value: Any) -> str:
    """A text cell a spreadsheet will not run as a formula (``=``, ``+``, ``-``, ``@`` first)."""
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def to_csv(run: Row, result: DrillScore, entries: Sequence[TimelineEntry]) -> str:
    """The score and the timeline as one CSV (UTF-8; sections separated by a blank line)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["drill_run", run["id"], _text(run["scenario"]), _text(run.get("title_vi")),
                _text(run.get("title_en")), run["started_at"].isoformat(),
                run["finished_at"].isoformat() if run.get("finished_at") else "", _text(run.get("status")),
                _text(run.get("started_by"))])
    w.writerow([])
    w.writerow(["rule", "entity", "promised", "alert_id", "fired_at", "time_to_detect_s", "acknowledged_at",
                "acknowledged_by", "time_to_acknowledge_s", "verdict"])
    for a in result.alerts:
        verdict = "missed" if a.missed else ("detected" if a.promised else "unexpected")
        w.writerow([_text(a.rule), _text(a.entity), "yes" if a.promised else "no", a.alert_id or "",
                    a.fired_at.isoformat() if a.fired_at else "",
                    "" if a.detect_s is None else f"{a.detect_s:.0f}",
                    a.acknowledged_at.isoformat() if a.acknowledged_at else "", _text(a.acknowledged_by),
                    "" if a.ack_s is None else f"{a.ack_s:.0f}", verdict])
    w.writerow([])
    w.writerow(["signal_vi", "signal_en", "ok", "observed"])
    for s in result.signals:
        w.writerow([_text(s.says_vi), _text(s.says_en), "yes" if s.ok else "no", _text(s.observed)])
    w.writerow([])
    w.writerow(["at", "offset_s", "kind", "what"])
    for e in entries:
        w.writerow([e.at.isoformat(), f"{e.offset_s:.0f}", _text(e.kind), _text(e.what)])
    return buf.getvalue()
