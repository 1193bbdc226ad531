"""The indicators a feed must produce, computed straight from the produced events.

Plain Python over the JSON the producer sent, written apart from the project's aggregators
(``agents/*``) and its sink, so a fault run compares the database with an independent answer:
event counts per system and window, failed logins per source, security events per target,
intrusion tracks per zone, and each camera's debounced state by a small reference of the
debounce rules in ``agents/indicators/camera.py``'s docstring.  An event counts once per id and family, whatever
its timestamp (docs/contracts.md): the first copy is the one stored.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
RAW_TABLES = {"health": "health_event", "security": "security_event", "camera": "camera_event"}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def bucket(ts: datetime, size_s: int) -> datetime:
    whole = int((ts - EPOCH).total_seconds() // 1)
    return EPOCH + timedelta(seconds=whole - whole % size_s)


@dataclass
class Expected:
    """Everything a fault run checks, keyed as the tables key it."""

    raw: dict[str, set[tuple[str, datetime]]] = field(default_factory=lambda: defaultdict(set))
    health: Counter = field(default_factory=Counter)  # (system, endpoint, window_s, time, column) -> n
    security: Counter = field(default_factory=Counter)  # (entity, type, severity, layer, time, column) -> n
    auth: Counter = field(default_factory=Counter)  # (src_ip, target, time, column) -> n
    tracks: Counter = field(default_factory=Counter)  # (camera, zone, rule, window_s, time) -> tracks
    cameras: dict[str, dict] = field(default_factory=dict)  # camera -> state, changes, last_seen, conditions
    duplicates: int = 0  # copies of events already seen
    accepted: int | None = None  # stored only: events the sources' counters say were accepted
    producers_accepted: int | None = None  # stored only: the same, summed over every producer's counters

    @property
    def events(self) -> int:
        return sum(len(v) for v in self.raw.values())


def expected(messages: Iterable[tuple[str, list[dict]]]) -> Expected:
    """``messages``: (family, events of one message) in production order."""
    exp = Expected()
    health_by_camera: dict[str, list[dict]] = defaultdict(list)
    seen: dict[str, set[str]] = defaultdict(set)  # family -> ids stored
    for family, events in messages:
        for e in events:
            ts = when(e["dateObserved"])
            if e["id"] in seen[family]:
                exp.duplicates += 1
                continue
            seen[family].add(e["id"])
            exp.raw[family].add((e["id"], ts))
            if family == "health":
                _health(exp.health, e, ts)
            elif family == "security":
                _security(exp, e, ts)
            elif e["type"] == "CameraHealth":
                health_by_camera[e["camera"]].append(e)
            elif e["phase"] == "new":
                start = when(e["start_time"])
                for zone in e["zones"] or ["-"]:
                    for size in (60, 3600):
                        exp.tracks[(e["camera"], zone, e["rule"], size, bucket(start, size))] += 1
    for camera, events in health_by_camera.items():
        ref = CameraReference()
        for e in sorted(events, key=lambda e: when(e["dateObserved"])):  # stable: Kafka order on ties
            ref.observe(when(e["dateObserved"]), e["condition"], e.get("active", True))
        exp.cameras[camera] = ref.summary()
    return exp


def _health(c: Counter, e: dict, ts: datetime) -> None:
    if e["type"] == "DocumentTally":  # the e-office's tallies count in document_day, not in the windows
        return
    probe = e["type"] == "ServiceProbe"
    for size in (10, 60):
        for endpoint in (e["endpoint"], "*"):
            k = (e["system"], endpoint, size, bucket(ts, size))
            c[(*k, "probes" if probe else "requests")] += 1
            c[(*k, "probes_ok")] += bool(probe and e["success"])
            c[(*k, "errors")] += bool(not probe and e["status_code"] >= 500)
            c[(*k, "latencies")] += 1  # values in the latency histogram


def _security(exp: Expected, e: dict, ts: datetime) -> None:
    minute = bucket(ts, 60)
    target = e.get("system") or e.get("device")
    k = (target, e["type"], e["severity"], e.get("layer") or 0, minute)
    exp.security[(*k, "events")] += 1
    exp.security[(*k, "blocked")] += e["action"] in ("blocked", "quarantined")
    if e["type"] == "AuthFailure":
        a = (e["src_ip"], target, minute)
        exp.auth[(*a, "failures")] += 1
        exp.auth[(*a, "locked")] += bool(e.get("account_locked"))


class CameraReference:
    """The debounce rules, stated once more in the plainest way.

    - The first online/offline report is the state at once.
    - Later, a different report becomes the state once it has held for 60 s (offline) or
      30 s (online), judged when a later report of the camera arrives; the state's change
      dates from when that report started.
    - Six or more changes of the reported state within 10 minutes: ``flapping`` (one change),
      until 10 minutes pass without a change; then the reported state, at once.
    - VideoSource conditions (signal loss, tamper) are set while active, apart from the state.
    """

    FLAP_WINDOW = timedelta(minutes=10)
    FLAP_CHANGES = 6
    HOLD = {"offline": timedelta(seconds=60), "online": timedelta(seconds=30)}

    def __init__(self) -> None:
        self.state = "unknown"
        self.changes = 0
        self.reported: str | None = None
        self.reported_since: datetime | None = None
        self.flips: list[datetime] = []  # when the reported state changed
        self.flapping_since: datetime | None = None
        self.last_seen: datetime | None = None
        self.conditions: set[str] = set()

    def _become(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.changes += 1

    def observe(self, at: datetime, condition: str, active: bool) -> None:
        self.last_seen = at if self.last_seen is None else max(self.last_seen, at)
        if condition in ("online", "offline"):
            if condition != self.reported:
                if self.reported is not None:
                    self.flips.append(at)
                self.reported, self.reported_since = condition, at
            self.flips = [t for t in self.flips if at - t < self.FLAP_WINDOW]
            if len(self.flips) >= self.FLAP_CHANGES:
                if self.state != "flapping":
                    self.flapping_since = at
                self._become("flapping")
                return
        elif active:
            self.conditions.add(condition)
        else:
            self.conditions.discard(condition)
        self._settle(at)

    def _settle(self, at: datetime) -> None:
        if self.state == "flapping":
            quiet_since = self.flips[-1] if self.flips else self.flapping_since
            if quiet_since is not None and at - quiet_since < self.FLAP_WINDOW:
                return
            self.flapping_since = None
            if self.reported is not None:
                self._become(self.reported)
        elif self.reported is None:
            return
        elif self.state == "unknown":
            self._become(self.reported)
        elif self.reported != self.state and at - self.reported_since >= self.HOLD[self.reported]:
            self._become(self.reported)

    def summary(self) -> dict:
        return {"state": self.state, "changes": self.changes, "last_seen": self.last_seen,
                "conditions": sorted(self.conditions)}
