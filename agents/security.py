"""Security indicators: counts per target, failed logins per source, and the detectors.

Stream side (exact, idempotent increments): events per target/type/severity/layer per minute,
and failed logins per (source, target) per minute.  Detector side (pure functions over the
recent counters, run by the worker every few seconds): brute force per source, request spikes
against a learned baseline (DDoS-like), port-scan fan-out, malware.  Each finding carries a
severity on the project scale and the protection layer (Directive 14/CT-TTg) that saw it.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from agents.windows import window_start
from streams.events import Event
from streams.events.security import (
    AuthFailure,
    FirewallLog,
    PortScan,
    SecurityBase,
    severity_rank,
)
from streams.sinks.base import CounterTable, FeedSpec, Increments, RawTable, States, attr_fields

FINDING_BUCKET_S = 300
#: layer 2 = professional monitoring and protection: what this centre's detectors are
DETECTOR_LAYER = 2

_COMMON = ("system", "device", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "action", "rule",
           "severity", "layer")
_SKIP = frozenset(_COMMON) | {"id", "type", "dateObserved"}

SECURITY_EVENT = RawTable(
    "security_event",
    (("time", "timestamptz"), ("id", "text"), ("type", "text"), ("system", "text"), ("device", "text"),
     ("src_ip", "inet"), ("src_port", "integer"), ("dst_ip", "inet"), ("dst_port", "integer"),
     ("protocol", "text"), ("action", "text"), ("rule", "text"), ("severity", "text"), ("layer", "smallint"),
     ("attrs", "jsonb")),
    lambda e: (e.dateObserved, e.id, e.type, *(getattr(e, c) for c in _COMMON),
               e.model_dump_json(include=attr_fields(type(e), skip=_SKIP), exclude_none=True)),
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
        minute = window_start(ts, 60)
        key = (ev.entity, ev.type, ev.severity, ev.layer or 0, 60, minute)
        row = per_target.get(key)
        if row is None:
            row = per_target[key] = dict(zip(SECURITY_WINDOW.key, key), events=0, blocked=0, last_event=ts)
        row["events"] += 1
        row["blocked"] += ev.action in ("blocked", "quarantined")
        row["last_event"] = max(row["last_event"], ts)
        if isinstance(ev, AuthFailure):
            skey = (ev.src_ip, ev.entity, minute)
            srow = per_source.get(skey)
            if srow is None:
                srow = per_source[skey] = dict(zip(AUTH_FAILURE_WINDOW.key, skey), failures=0, locked=0,
                                               last_event=ts)
            srow["failures"] += 1
            srow["locked"] += ev.account_locked
            srow["last_event"] = max(srow["last_event"], ts)
    incs = Increments()
    for row in per_target.values():
        incs.add(SECURITY_WINDOW, row)
    for row in per_source.values():
        incs.add(AUTH_FAILURE_WINDOW, row)
    return incs


SECURITY_FEED = FeedSpec("security", SECURITY_EVENT, security_increments)


# --- detectors -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # brute_force | request_spike | port_scan | malware | ids
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
    brute_force_failures: int = 20  # failed logins from one source against one target in the window
    brute_force_high: int = 100
    spike_factor: float = 5.0  # requests per minute above baseline mean + factor × spread
    spike_min_per_min: float = 600.0  # ignore spikes on quiet systems below this
    scan_ports: int = 20  # distinct destination ports from one source in the window
    window_minutes: int = 5


def brute_force(rows: Iterable[tuple[str, str, int, datetime]], cfg: DetectorConfig) -> list[Finding]:
    """rows: (src_ip, target, failures in the window, last failure)."""
    out = []
    for src, target, failures, last in rows:
        if failures >= cfg.brute_force_failures:
            sev = "high" if failures >= cfg.brute_force_high else "medium"
            out.append(Finding("brute_force", src, target, sev, DETECTOR_LAYER, failures, cfg.brute_force_failures,
                               f"{failures} failed logins in {cfg.window_minutes} min", last))
    return out


def request_spikes(current: dict[str, tuple[float, datetime]], baseline: dict[str, tuple[float, float]],
                   cfg: DetectorConfig) -> list[Finding]:
    """current: system -> (requests in the last full minute, minute); baseline: system -> (mean, stddev)."""
    out = []
    for system, (rate, minute) in current.items():
        mean, spread = baseline.get(system, (0.0, 0.0))
        limit = max(cfg.spike_min_per_min, mean + cfg.spike_factor * max(spread, math.sqrt(max(mean, 1.0))))
        if rate >= limit:
            sev = "critical" if rate >= 4 * limit else "high"
            out.append(Finding("request_spike", system, system, sev, DETECTOR_LAYER, rate, limit,
                               f"{rate:.0f} requests/min against a baseline of {mean:.0f}", minute))
    return out


def port_scans(rows: Iterable[tuple[str, int, int, datetime]], cfg: DetectorConfig) -> list[Finding]:
    """rows: (src_ip, distinct destination ports, distinct destination hosts, last seen)."""
    out = []
    for src, ports, hosts, last in rows:
        if ports >= cfg.scan_ports:
            sev = "high" if ports >= 10 * cfg.scan_ports else "medium"
            out.append(Finding("port_scan", src, f"{hosts} hosts", sev, DETECTOR_LAYER, ports, cfg.scan_ports,
                               f"{ports} ports on {hosts} hosts in {cfg.window_minutes} min", last))
    return out


def worst(findings: Iterable[Finding]) -> str | None:
    sevs = [f.severity for f in findings]
    return max(sevs, key=severity_rank) if sevs else None


def scan_fanout_key(ev: Event) -> bool:
    """Whether an event counts towards port-scan fan-out (firewall logs and scans)."""
    return isinstance(ev, (FirewallLog, PortScan))


def findings_from(inputs: dict[str, list[tuple]], cfg: DetectorConfig = DetectorConfig()) -> list[Finding]:
    """Every finding from what ``TimescaleSink.security_inputs`` read."""
    out = brute_force(inputs.get("auth", []), cfg)
    current = {system: (float(n), minute) for system, n, minute in inputs.get("requests", [])}
    baseline = {system: (mean, spread) for system, mean, spread in inputs.get("baseline", [])}
    out += request_spikes(current, baseline, cfg)
    fan: dict[str, tuple[int, int, datetime]] = {}
    for src, ports, hosts, last in inputs.get("fanout", []):
        if ports is None:
            continue
        old = fan.get(src)
        fan[src] = (max(ports, old[0]), max(hosts, old[1]), max(last, old[2])) if old else (ports, hosts, last)
    out += port_scans(((s, p, h, t) for s, (p, h, t) in fan.items()), cfg)
    for device, malware, severity, action, layer, seen in inputs.get("malware", []):
        sev = "critical" if action == "detected" and severity_rank(severity) >= severity_rank("high") else severity
        # the malware is the subject, the infected device the target: an alert on critical findings
        # names the device to clean, like the system a brute force is aimed at
        out.append(Finding("malware", malware or "?", device, sev, layer or DETECTOR_LAYER, 1, 1,
                           f"{malware} ({action})", seen))
    return out
