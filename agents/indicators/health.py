"""Service-health indicators: pure functions from events to window increments.

A batch of fresh events (already de-duplicated by the sink) becomes one increment per
(system, endpoint, window size, window start).  Increments add up in the database, so the
result does not depend on how the stream was cut into batches, nor on which worker saw
which partition.  Ratios and quantiles are computed when read: ``health_status`` is the one
definition of ok / degraded / down / stale, used by the wall and by the alert engine, with the
numbers of ``agents/indicators/data/status.yaml``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import gcd
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from streams.core import sketch
from streams.core.windows import at_epoch, epoch_of, local_day_start, window_of
from streams.core.errors import ConfigError
from streams.core.contracts import Event
from streams.core.contracts.health import DocumentTally, RequestLog, ServiceProbe
from streams.core.tables import CounterTable, FeedSpec, Increments, RawTable, States
from streams.core.yamlfile import read_yaml

WINDOWS_S: tuple[int, ...] = (10, 60)
ALL_ENDPOINTS = "*"

HEALTH_WINDOW = CounterTable(
    "health_window",
    key=("system", "endpoint", "window_s", "time"),
    sums=("probes", "probes_ok", "requests", "errors"),
    hists=("latency_hist",),
    greatest=("last_event", "last_ok", "last_failed"),
)
HealthIncrement = HEALTH_WINDOW.row_type("HealthIncrement")


class _Group:
    """A batch's events of one (system, endpoint, finest window): counted once, then added to each of
    the increments they belong to."""

    __slots__ = ("probes", "probes_ok", "requests", "errors", "last_ok", "last_failed", "last_event", "latencies")

    def __init__(self) -> None:
        self.probes = self.probes_ok = self.requests = self.errors = 0
        self.last_ok = self.last_failed = self.last_event = None
        self.latencies: list[float] = []


def aggregate(
    events: Iterable[ServiceProbe | RequestLog], windows_s: tuple[int, ...] = WINDOWS_S
) -> list[HealthIncrement]:
    """Window increments for a batch: per endpoint, and per system (endpoint ``*``).  Windows are
    found on the event's epoch seconds; a row gets its start as a datetime when it is made.

    The events are counted once per (system, endpoint, window of the sizes' greatest common divisor),
    and each such group is then added to its increment of every size, for its endpoint and for ``*``:
    one update per event, not one per window and endpoint."""
    step = gcd(*windows_s)
    groups: dict[tuple[str, str, int], _Group] = {}
    for ev in events:
        ts = ev.dateObserved
        seconds = epoch_of(ts)
        key = (ev.system, ev.endpoint, seconds - seconds % step)
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group()
        if isinstance(ev, ServiceProbe):
            g.probes += 1
            if ev.success:
                g.probes_ok += 1
                if g.last_ok is None or ts > g.last_ok:
                    g.last_ok = ts
            elif g.last_failed is None or ts > g.last_failed:
                g.last_failed = ts
        else:
            g.requests += 1
            g.errors += ev.status_code >= 500
        g.latencies.append(ev.latency_ms)
        if g.last_event is None or ts > g.last_event:
            g.last_event = ts
    acc: dict[tuple[str, str, int, int], HealthIncrement] = {}
    for (system, endpoint, start), g in groups.items():
        buckets = Counter(map(sketch.bucket_of, g.latencies)).items()
        for size in windows_s:
            window = window_of(start, size)
            for into in (endpoint, ALL_ENDPOINTS):
                k = (system, into, size, window)
                inc = acc.get(k)
                if inc is None:
                    inc = acc[k] = HealthIncrement(system, into, size, at_epoch(window))
                inc.probes += g.probes
                inc.probes_ok += g.probes_ok
                inc.requests += g.requests
                inc.errors += g.errors
                hist = inc.latency_hist
                for bucket, n in buckets:
                    hist[bucket] += n
                if g.last_ok is not None and (inc.last_ok is None or g.last_ok > inc.last_ok):
                    inc.last_ok = g.last_ok
                if g.last_failed is not None and (inc.last_failed is None or g.last_failed > inc.last_failed):
                    inc.last_failed = g.last_failed
                if inc.last_event is None or g.last_event > inc.last_event:
                    inc.last_event = g.last_event
    return list(acc.values())


# --- reading: from counters to a status an operator understands -----------------------------
#
# One definition, for the wall and the alert engine alike: the thresholds and windows are in
# agents/indicators/data/status.yaml, the counters come from STATUS_SQL (agents/indicators/queries/health.py),
# and ``health_status`` judges them.

STATUS_FILE = Path(__file__).parent / "data" / "status.yaml"
STATUSES = ("ok", "degraded", "down", "stale")


@dataclass(frozen=True, slots=True)
class StatusRules:
    """The numbers of agents/indicators/data/status.yaml (see that file for what each means)."""

    window_s: int
    stale_after_s: float
    min_requests: int
    down_no_success_s: float
    degraded_availability: float
    degraded_error_rate: float
    degraded_p95_ms: float


def load_status_rules(path: Path | str = STATUS_FILE) -> StatusRules:
    doc = read_yaml(path, "status rules")
    try:
        rules = StatusRules(
            window_s=int(doc["window_s"]), stale_after_s=float(doc["stale_after_s"]),
            min_requests=int(doc["min_requests"]),
            down_no_success_s=float(doc["down"]["no_success_s"]),
            degraded_availability=float(doc["degraded"]["availability"]),
            degraded_error_rate=float(doc["degraded"]["error_rate"]),
            degraded_p95_ms=float(doc["degraded"]["p95_ms"]),
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise ConfigError(f"status rules {path}: bad or missing entry: {exc!r}") from None
    if rules.window_s < 60 or rules.stale_after_s <= 0 or rules.down_no_success_s <= 0:
        raise ConfigError(f"status rules {path}: window_s must be 60 or more, durations positive")
    if not (0 <= rules.degraded_availability <= 1 and 0 <= rules.degraded_error_rate <= 1):
        raise ConfigError(f"status rules {path}: degraded.availability and degraded.error_rate are shares (0-1)")
    return rules


@dataclass(frozen=True, slots=True)
class HealthStatus:
    system: str
    status: str  # ok | degraded | down | stale
    availability: float | None
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    probes: int
    requests: int
    last_event: datetime | None
    reasons: tuple[str, ...] = ()  # no_data | not_answering | error_rate | availability | latency


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def not_answering(counters: Mapping[str, Any], no_success: timedelta) -> bool:
    """Probes have kept failing for ``no_success``: no probe of the window succeeded, or the newest
    failed probe is that long after the last successful one."""
    probes, probes_ok = counters.get("probes") or 0, counters.get("probes_ok") or 0
    if probes and not probes_ok:
        return True
    last_ok, last_failed = counters.get("last_ok"), counters.get("last_failed")
    return last_ok is not None and last_failed is not None and last_failed - last_ok >= no_success


def health_status(system: str, counters: Mapping[str, Any], *, now: datetime, rules: StatusRules) -> HealthStatus:
    """Status of a system from its counters over the recent window (a row of ``STATUS_SQL``;
    missing counters are 0 / none)."""
    probes, probes_ok = counters.get("probes") or 0, counters.get("probes_ok") or 0
    requests, errors = counters.get("requests") or 0, counters.get("errors") or 0
    hist, last_event = counters.get("latency_hist"), counters.get("last_event")
    availability = ratio(probes_ok, probes)
    error_rate = ratio(errors, requests)
    judged_errors = error_rate if requests >= rules.min_requests else None
    p50 = sketch.quantile(hist, 0.50)
    p95 = sketch.quantile(hist, 0.95)
    p99 = sketch.quantile(hist, 0.99)
    reasons: list[str] = []
    if last_event is None or (now - last_event).total_seconds() > rules.stale_after_s:
        status = "stale"
        reasons.append("no_data")
    else:
        dead = not_answering(counters, timedelta(seconds=rules.down_no_success_s))
        if dead:
            reasons.append("not_answering")
        if judged_errors is not None and judged_errors >= rules.degraded_error_rate:
            reasons.append("error_rate")
        if availability is not None and availability <= rules.degraded_availability:
            reasons.append("availability")
        if p95 is not None and p95 >= rules.degraded_p95_ms:
            reasons.append("latency")
        status = "down" if dead else "degraded" if reasons else "ok"
    return HealthStatus(system, status, availability, error_rate, p50, p95, p99, probes, requests, last_event,
                        tuple(reasons))


def system_statuses(rows: Iterable[Mapping[str, Any]], systems: Iterable[str], *, now: datetime,
                    rules: StatusRules) -> dict[str, HealthStatus]:
    """The status of each of ``systems`` from the rows of ``STATUS_SQL`` (stale without a row)."""
    by_system = {r["system"]: r for r in rows}
    return {code: health_status(code, by_system.get(code, {}), now=now, rules=rules) for code in systems}


# --- what the health feed writes ---------------------------------------------------------------

def _served_row(e: ServiceProbe | RequestLog) -> tuple:
    """The raw row of a probe or a request (the fields one of them lacks read as None, without a call each)."""
    get = e.__dict__.get
    return (e.dateObserved, e.id, "probe" if isinstance(e, ServiceProbe) else "request", e.system, e.endpoint,
            get("success"), e.status_code, e.latency_ms, get("method"), get("client_ip"), get("error"))


HEALTH_EVENT = RawTable(
    "health_event",
    (
        ("time", "timestamptz"),
        ("id", "text"),
        ("kind", "text"),
        ("system", "text"),
        ("endpoint", "text"),
        ("success", "boolean"),
        ("status_code", "smallint"),
        ("latency_ms", "double precision"),
        ("method", "text"),
        ("client_ip", "inet"),
        ("error", "text"),
    ),
    lambda e: _served_row(e) if not isinstance(e, DocumentTally) else tally_row(e),
)


def tally_row(e: DocumentTally) -> tuple[Any, ...]:
    """A document tally in ``health_event``: kind ``tally``, the unit as its endpoint, its counts as
    the error text (kept with the other events of the system; counted in ``document_day``)."""
    counts = f"documents {e.documents_sent_electronic}/{e.documents_sent}"
    if e.work_records is not None:
        counts += f", work records {e.work_records_online}/{e.work_records}"
    return (e.dateObserved, e.id, "tally", e.system, e.unit_code, None, None, None, None, None, counts)


#: the e-office's tallies per local day, unit and level: the greatest count of the day (a day's
#: counts only grow, so re-sent and repeated tallies change nothing)
DOCUMENT_DAY = CounterTable(
    "document_day",
    key=("time", "system", "unit_code", "level"),
    greatest=("documents_sent", "documents_sent_electronic", "work_records", "work_records_online", "last_event"),
)


def ratio_or_none(part: Any, whole: Any) -> float | None:
    return part / whole if part is not None and whole else None


def document_values(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str | None], float | None]:
    """The plan's values from the month's tallies per level (rows of ``DOCUMENT_MONTH``), keyed as
    ``agents.indicators.plan.check_targets`` wants them: ``office.electronic_documents_share`` for
    the province (all levels) and ``office.work_records_online_share`` per level and for the province."""
    totals = {"documents_sent": 0, "documents_sent_electronic": 0, "work_records": 0, "work_records_online": 0}
    out: dict[tuple[str, str | None], float | None] = {}
    for r in rows:
        for c in totals:
            totals[c] += r.get(c) or 0
        out[("office.electronic_documents_share", r["level"])] = ratio_or_none(
            r.get("documents_sent_electronic"), r.get("documents_sent"))
        out[("office.work_records_online_share", r["level"])] = ratio_or_none(
            r.get("work_records_online"), r.get("work_records"))
    out[("office.electronic_documents_share", None)] = ratio_or_none(
        totals["documents_sent_electronic"], totals["documents_sent"])
    out[("office.work_records_online_share", None)] = ratio_or_none(totals["work_records_online"], totals["work_records"])
    return out


def tally_increment(e: DocumentTally) -> dict[str, Any]:
    return {"time": local_day_start(e.dateObserved), "system": e.system, "unit_code": e.unit_code, "level": e.level,
            "documents_sent": e.documents_sent, "documents_sent_electronic": e.documents_sent_electronic,
            "work_records": e.work_records, "work_records_online": e.work_records_online, "last_event": e.dateObserved}



def health_increments(fresh: Sequence[Event], states: States | None = None) -> Increments:
    incs = Increments()
    tallies = [e for e in fresh if isinstance(e, DocumentTally)]
    served = [e for e in fresh if not isinstance(e, DocumentTally)] if tallies else fresh
    for inc in aggregate(served):  # type: ignore[arg-type]
        incs.add(HEALTH_WINDOW, HEALTH_WINDOW.row_of(inc))
    for tally in tallies:
        incs.add(DOCUMENT_DAY, tally_increment(tally))
    return incs


HEALTH_FEED = FeedSpec("health", HEALTH_EVENT, health_increments, counters=(HEALTH_WINDOW, DOCUMENT_DAY))
