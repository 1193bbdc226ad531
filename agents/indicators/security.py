"""Security indicators: counts per target, failed logins per source, and the detectors.

Stream side (exact, idempotent increments): events per target/type/severity/layer per minute,
and failed logins per (source, target) per minute.  Detector side (pure functions over the
recent counters, run by the worker every few seconds): brute force per source, request spikes
against the same hour of the week (DDoS-like), port-scan fan-out, malware, and the alerts of the
national monitoring centre (layer 4).  Each finding carries a severity on the project scale
(what each means and who acts: docs/runbooks.md) and the protection layer (Directive
14/CT-TTg) that saw it.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from streams.core.windows import at_epoch, epoch_of, window_of, window_start
from streams.core.contracts import Event
from streams.core.contracts.security import (
    AuthFailure,
    SecurityBase,
    severity_rank,
)
from streams.core.tables import CounterTable, FeedSpec, Increments, RawTable, States, attrs_json

FINDING_BUCKET_S = 300
#: layer 2 = professional monitoring and protection: what this centre's detectors are
DETECTOR_LAYER = 2

_COMMON = ("system", "device", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "action", "rule",
           "severity", "layer")
_SKIP = frozenset(_COMMON) | {"id", "type", "dateObserved"}
_common = itemgetter(*_COMMON)  # the common fields of an event, read at C speed

SECURITY_EVENT = RawTable(
    "security_event",
    (("time", "timestamptz"), ("id", "text"), ("type", "text"), ("system", "text"), ("device", "text"),
     ("src_ip", "inet"), ("src_port", "integer"), ("dst_ip", "inet"), ("dst_port", "integer"),
     ("protocol", "text"), ("action", "text"), ("rule", "text"), ("severity", "text"), ("layer", "smallint"),
     ("attrs", "jsonb")),
    lambda e: (e.dateObserved, e.id, e.type, *_common(e.__dict__),
               attrs_json(type(e), None, _SKIP)(e)),
)

SECURITY_WINDOW = CounterTable(
    "security_window",
    key=("entity", "type", "severity", "layer", "window_s", "time"),
    sums=("events", "blocked"),
    greatest=("last_event",),
)
AUTH_FAILURE_WINDOW = CounterTable(
    "auth_failure_window",
    key=("src_ip", "target", "time"),
    sums=("failures", "locked"),
    greatest=("last_event",),
)


def security_increments(fresh: Sequence[Event], states: States | None = None) -> Increments:
    per_target: dict[tuple, dict] = {}
    per_source: dict[tuple, dict] = {}
    for ev in fresh:
        assert isinstance(ev, SecurityBase)
        ts = ev.dateObserved
        minute = window_of(epoch_of(ts), 60)
        key = (ev.entity, ev.type, ev.severity, ev.layer or 0, 60, minute)
        row = per_target.get(key)
        if row is None:
            row = per_target[key] = dict(zip(SECURITY_WINDOW.key, key), time=at_epoch(minute), events=0, blocked=0,
                                         last_event=ts)
        row["events"] += 1
        row["blocked"] += ev.action in ("blocked", "quarantined")
        if ts > row["last_event"]:
            row["last_event"] = ts
        if isinstance(ev, AuthFailure):
            skey = (ev.src_ip, ev.entity, minute)
            srow = per_source.get(skey)
            if srow is None:
                srow = per_source[skey] = dict(zip(AUTH_FAILURE_WINDOW.key, skey), time=at_epoch(minute), failures=0,
                                               locked=0, last_event=ts)
            srow["failures"] += 1
            srow["locked"] += ev.account_locked
            if ts > srow["last_event"]:
                srow["last_event"] = ts
    incs = Increments()
    for row in per_target.values():
        incs.add(SECURITY_WINDOW, row)
    for row in per_source.values():
        incs.add(AUTH_FAILURE_WINDOW, row)
    return incs


SECURITY_FEED = FeedSpec("security", SECURITY_EVENT, security_increments,
                         counters=(SECURITY_WINDOW, AUTH_FAILURE_WINDOW))


# --- detectors -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # brute_force | request_spike | port_scan | malware | national
    subject: str  # the source address, or the system
    target: str
    severity: str
    layer: int
    value: float
    threshold: float
    detail: str
    seen: datetime

    @property
    def bucket(self) -> datetime:
        return window_start(self.seen, FINDING_BUCKET_S)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Thresholds of the detectors; what each severity means is in docs/runbooks.md (security findings)."""

    brute_force_failures: int = 20  # failed logins from one source against one target in the window
    brute_force_high: int = 100
    spike_factor: float = 5.0  # requests per minute above baseline mean + factor × spread
    spike_min_per_min: float = 600.0  # ignore spikes on quiet systems below this
    #: with no same-hour-of-week history, the recent mean times this is the least a spike must reach
    spike_recent_factor: float = 4.0
    #: minutes of the same clock hour, over the last ``spike_weeks`` weeks, that make a weekly baseline
    spike_week_minutes: int = 30
    spike_weeks: int = 4
    scan_ports: int = 20  # distinct destination ports of one host probed by one source in the window
    scan_hosts: int = 10  # distinct hosts probed on one port by one source in the window (a sweep)
    scan_wide: int = 10  # fan-out this many times the threshold is a wide scan (medium)
    scan_answered: int = 3  # distinct (host, port) the firewall let the scanner reach: high
    window_minutes: int = 5

    @property
    def scan_min_fanout(self) -> int:
        return min(self.scan_ports, self.scan_hosts)


def brute_force(rows: Iterable[tuple[str, str, int, datetime]], cfg: DetectorConfig) -> list[Finding]:
    """rows: (src_ip, target, failures in the window, last failure)."""
    out = []
    for src, target, failures, last in rows:
        if failures >= cfg.brute_force_failures:
            sev = "high" if failures >= cfg.brute_force_high else "medium"
            out.append(Finding("brute_force", src, target, sev, DETECTOR_LAYER, failures, cfg.brute_force_failures,
                               f"{failures} failed logins in {cfg.window_minutes} min", last))
    return out


@dataclass(frozen=True, slots=True)
class Baseline:
    """Requests per minute a system usually has: ``weekly`` from the same hour of the week, else recent."""

    mean: float
    spread: float
    weekly: bool


def spike_limit(base: Baseline | None, cfg: DetectorConfig) -> float:
    """Requests per minute from which a minute is a spike.

    Against the same hour of the week: mean + factor × spread (the spread at least the Poisson
    √mean).  Against the recent past only (no weekly history yet), the same, and at least
    ``spike_recent_factor`` × the recent mean: the office day's steps (×2.5 at 07:30 and 13:30)
    are not attacks.  Never below ``spike_min_per_min``; with no baseline at all (a new install, a
    new system: less than 10 minutes of history) ``spike_recent_factor`` × that.
    """
    if base is None:
        return cfg.spike_recent_factor * cfg.spike_min_per_min
    limit = base.mean + cfg.spike_factor * max(base.spread, math.sqrt(max(base.mean, 1.0)))
    if not base.weekly:
        limit = max(limit, cfg.spike_recent_factor * base.mean)
    return max(cfg.spike_min_per_min, limit)


def request_spikes(current: dict[str, tuple[float, datetime]], baseline: dict[str, Baseline],
                   cfg: DetectorConfig) -> list[Finding]:
    """current: system -> (requests in the last full minute, minute).

    medium from the limit (unusual traffic), high from twice it (a flood or a runaway client),
    critical from four times it (a DDoS in progress).
    """
    out = []
    for system, (rate, minute) in current.items():
        base = baseline.get(system)
        limit = spike_limit(base, cfg)
        if rate >= limit:
            sev = "critical" if rate >= 4 * limit else "high" if rate >= 2 * limit else "medium"
            against = (f"the same hour of the week ({base.mean:.0f})" if base and base.weekly
                       else f"the last hour ({base.mean:.0f})" if base else "no baseline")
            out.append(Finding("request_spike", system, system, sev, DETECTOR_LAYER, rate, limit,
                               f"{rate:.0f} requests/min against {against}", minute))
    return out


def port_scans(rows: Iterable[tuple], cfg: DetectorConfig) -> list[Finding]:
    """Fan-out of one source seen by the firewalls, in the window.

    rows: (src_ip, host probed on most ports, its ports, port probed on most hosts, its hosts,
    distinct (host, port) the firewall allowed, last seen).  A scan needs ≥ ``scan_ports`` ports
    on one host or ≥ ``scan_hosts`` hosts on one port: low while everything was blocked, medium
    when it is wide (``scan_wide`` × the threshold) or reached a service, high when it reached
    ≥ ``scan_answered`` services (what answered is exposed to that source).
    """
    out = []
    for src, host, ports, port, hosts, answered, last in rows:
        if ports < cfg.scan_ports and hosts < cfg.scan_hosts:
            continue
        fan = max(ports / cfg.scan_ports, hosts / cfg.scan_hosts)
        if answered >= cfg.scan_answered:
            sev = "high"
        elif answered or fan >= cfg.scan_wide:
            sev = "medium"
        else:
            sev = "low"
        sweep = hosts / cfg.scan_hosts > ports / cfg.scan_ports
        target = f"port {port}" if sweep else host
        out.append(Finding("port_scan", src, target, sev, DETECTOR_LAYER, hosts if sweep else ports,
                           cfg.scan_hosts if sweep else cfg.scan_ports,
                           f"{ports} ports on {host}, port {port} on {hosts} hosts, {answered} allowed "
                           f"in {cfg.window_minutes} min", last))
    return out


def sensor_scans(rows: Iterable[tuple[str, str, int, str, datetime]]) -> list[Finding]:
    """Port scans a sensor summarised (``PortScan``), at the sensor's own severity.

    rows: (src_ip, target, ports scanned, worst severity, last seen).  The sensor's own verdict
    stands; a summary it rates low or informational (the Internet's background of probes the
    gateway refuses) is counted on the attack chart, not made a finding.
    """
    return [Finding("port_scan", src, target, sev, DETECTOR_LAYER, ports, 0, f"sensor: {ports} ports scanned", last)
            for src, target, ports, sev, last in rows if severity_rank(sev) >= severity_rank("medium")]


def national(rows: Iterable[tuple[str, str, str, int, datetime, str]]) -> list[Finding]:
    """Alerts of the national monitoring centre (layer 4), each a finding at the centre's severity.

    rows: (address named, target system or device, worst severity, alerts, last seen, newest rule).
    """
    return [Finding("national", src or "-", target, sev, 4, n, 1, rule, last)
            for src, target, sev, n, last, rule in rows]


def worst(findings: Iterable[Finding]) -> str | None:
    sevs = [f.severity for f in findings]
    return max(sevs, key=severity_rank) if sevs else None


async def detect_at(store, now: datetime, cfg: DetectorConfig = DetectorConfig()) -> list[Finding]:
    """Run every detector on what ``store`` (the worker's ``DetectorStore``) reads for the window ending at ``now``."""
    inputs = await store.security_inputs(now, cfg.window_minutes, min_fanout=cfg.scan_min_fanout,
                                        weeks=cfg.spike_weeks, week_minutes=cfg.spike_week_minutes)
    return findings_from(inputs, cfg)


def findings_from(inputs: dict[str, list[tuple]], cfg: DetectorConfig = DetectorConfig()) -> list[Finding]:
    """Every finding from what ``DetectorStore.security_inputs`` read."""
    out = brute_force(inputs.get("auth", []), cfg)
    current = {system: (float(n), minute) for system, n, minute in inputs.get("requests", [])}
    baseline = {system: Baseline(mean, spread, False) for system, mean, spread in inputs.get("baseline_recent", [])}
    baseline |= {system: Baseline(mean, spread, True) for system, mean, spread in inputs.get("baseline_week", [])}
    out += request_spikes(current, baseline, cfg)
    out += port_scans(inputs.get("fanout", []), cfg)
    out += sensor_scans(inputs.get("sensor_scans", []))
    out += national(inputs.get("national", []))
    for device, malware, severity, action, layer, seen in inputs.get("malware", []):
        sev = "critical" if action == "detected" and severity_rank(severity) >= severity_rank("high") else severity
        # the malware is the subject, the infected device the target: an alert on critical findings
        # names the device to clean, like the system a brute force is aimed at
        out.append(Finding("malware", malware or "?", device, sev, layer or DETECTOR_LAYER, 1, 1,
                           f"{malware} ({action})", seen))
    return out
