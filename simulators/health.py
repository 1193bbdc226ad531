"""Information-system health feed: probes of every system's endpoints and request logs.

Each system has a hidden condition (ok, slow, failing, down) that changes at random, so the
wall and the alerts have something to show; office-hours systems carry most traffic between
07:30 and 17:00 local time, Monday to Friday.  The e-office (``eoffice``) also sends, every
``TALLY_EVERY`` for every unit, its counts of the day so far (``DocumentTally``).
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simulators.base import Event, iso
from streams.core.clock import LOCAL_TZ
from streams.core.geography import Province, System

CONDITIONS = {
    # name: (probe success probability, latency multiplier, 5xx share)
    "ok": (0.999, 1.0, 0.002),
    "slow": (0.98, 6.0, 0.01),
    "failing": (0.7, 2.0, 0.15),
    "down": (0.0, 1.0, 1.0),
}
#: chance per hour that an ok system turns into each condition, and of recovering per minute
TRANSITIONS_PER_HOUR = {"slow": 0.3, "failing": 0.15, "down": 0.05}
RECOVERY_PER_MINUTE = 0.25
BASE_LATENCY_MS = {"ndxp": 180.0, "lgsp": 60.0, "gis": 120.0}


def office_factor(now: datetime) -> float:
    local = now.astimezone(LOCAL_TZ)
    if local.weekday() >= 5:
        return 0.1
    hour = local.hour + local.minute / 60
    if 7.5 <= hour < 11.5 or 13.5 <= hour < 17:
        return 1.0
    if 6 <= hour < 7.5 or 11.5 <= hour < 13.5 or 17 <= hour < 20:
        return 0.4
    return 0.05


#: how often the e-office sends each unit's tally; documents sent electronically and work records
#: handled online, by level (the plan: 100 % and 90 / 85 / 60 %)
TALLY_EVERY = timedelta(minutes=15)
ELECTRONIC = {"province": 0.97, "district": 0.93, "commune": 0.86}
WORK_ONLINE = {"province": 0.92, "district": 0.86, "commune": 0.63}
TALLY_SYSTEM = "eoffice"


class DocumentTallies:
    """Each unit's documents and work records of the local day, growing with office hours.  Its own
    random generator, drawn from the feed's state without advancing it: the seed's probes and
    request logs stay what they were."""

    def __init__(self, province: Province, rng: random.Random) -> None:
        self.rng = random.Random(hash(rng.getstate()))
        agencies = sorted({p.agency for p in province.procedures if p.agency})
        self.units = ([(a, "province") for a in agencies] + [(u.code, "district") for u in province.units]
                      + [(c.code, "commune") for c in province.communes])
        self.counts: dict[str, list[int]] = {}
        self.day: object = None
        self.next_at: datetime | None = None

    def tick(self, now: datetime) -> list[Event]:
        if self.next_at is None:
            self.next_at = now
        out: list[Event] = []
        while self.next_at <= now:
            out.extend(self._round(self.next_at))
            self.next_at += TALLY_EVERY
        return out

    def _round(self, at: datetime) -> list[Event]:
        day = at.astimezone(LOCAL_TZ).date()
        if day != self.day:
            self.day, self.counts = day, {}
        busy = office_factor(at)
        out = []
        for unit, level in self.units:
            c = self.counts.setdefault(unit, [0, 0, 0, 0])
            for _ in range(round(busy * self.rng.uniform(0, 4))):  # documents sent
                c[0] += 1
                c[1] += self.rng.random() < ELECTRONIC[level]
            for _ in range(round(busy * self.rng.uniform(0, 3))):  # work records handled
                c[2] += 1
                c[3] += self.rng.random() < WORK_ONLINE[level]
            out.append({"id": f"tally-{unit}-{self.rng.getrandbits(64):016x}", "type": "DocumentTally", "system": TALLY_SYSTEM,
                        "dateObserved": iso(at), "unit_code": unit, "level": level, "documents_sent": c[0],
                        "documents_sent_electronic": c[1], "work_records": c[2], "work_records_online": c[3]})
        return out


@dataclass
class SystemState:
    system: System
    condition: str = "ok"
    forced: str | None = None  # set by drills
    next_probe: dict[str, datetime] = field(default_factory=dict)

    @property
    def effective(self) -> str:
        return self.forced or self.condition


class HealthSimulator:
    family = "health"
    #: states a drill's force sets, followed by other processes' background (simulators/drills/shared.py)
    shared_conditions = frozenset(CONDITIONS)
    weight = 1.0

    def __init__(self, province: Province, rng: random.Random, *, probe_interval_s: float = 10.0,
                 incidents: bool = True) -> None:
        self.rng = rng
        self.probe_interval = timedelta(seconds=probe_interval_s)
        self.incidents = incidents
        self.states = {s.code: SystemState(s) for s in province.systems}
        self._codes = list(self.states)
        self.tallies = DocumentTallies(province, rng) if TALLY_SYSTEM in self.states else None

    # -- control, used by drills ------------------------------------------------------------
    def force(self, system: str, condition: str | None) -> None:
        if condition is not None and condition not in CONDITIONS:
            raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
        self.states[system].forced = condition

    def key_of(self, event: Event) -> str:
        return event["system"]

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _evolve(self, st: SystemState, dt: float) -> None:
        if not self.incidents:
            return
        if st.condition == "ok":
            for cond, per_hour in TRANSITIONS_PER_HOUR.items():
                if self.rng.random() < per_hour * dt / 3600:
                    st.condition = cond
                    break
        elif self.rng.random() < RECOVERY_PER_MINUTE * dt / 60:
            st.condition = "ok"

    def _latency(self, code: str, mult: float) -> float:
        base = BASE_LATENCY_MS.get(code, 80.0)
        return round(self.rng.lognormvariate(0, 0.5) * base * mult, 2)

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        events: list[Event] = []
        for st in self.states.values():
            self._evolve(st, dt)
            p_ok, mult, _ = CONDITIONS[st.effective]
            for ep in st.system.endpoints:
                due = st.next_probe.get(ep)
                if due is None:  # spread the first probes over the interval
                    due = now + self.probe_interval * self.rng.random()
                    st.next_probe[ep] = due
                while due <= now:
                    ok = self.rng.random() < p_ok
                    events.append({
                        "id": self._id(), "type": "ServiceProbe", "system": st.system.code, "endpoint": ep,
                        "dateObserved": iso(due), "success": ok,
                        "latency_ms": self._latency(st.system.code, mult) if ok else round(
                            self.rng.uniform(3000, 10000), 2),
                        "status_code": 200 if ok else self.rng.choice([502, 503, 504]),
                        **({} if ok else {"error": "timeout" if st.effective == "down" else "bad status"}),
                    })
                    due += self.probe_interval
                st.next_probe[ep] = due
        # request logs: n events spread over systems by traffic weight
        weights = [office_factor(now) if self.states[c].system.office_hours else 0.3 for c in self._codes]
        for code in self.rng.choices(self._codes, weights=weights, k=n) if n else ():
            st = self.states[code]
            _, mult, err = CONDITIONS[st.effective]
            failed = self.rng.random() < err
            ts = now - timedelta(seconds=self.rng.random() * dt)
            events.append({
                "id": self._id(), "type": "RequestLog", "system": code,
                "endpoint": self.rng.choice(st.system.endpoints), "dateObserved": iso(ts),
                "method": "POST" if self.rng.random() < 0.2 else "GET",
                "status_code": self.rng.choice([500, 502, 503]) if failed else (
                    404 if self.rng.random() < 0.02 else 200),
                "latency_ms": self._latency(code, mult),
                "client_ip": f"113.{self.rng.randrange(160, 192)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}",
                "bytes_sent": self.rng.randrange(200, 60_000),
            })
        if self.tallies is not None:
            events.extend(self.tallies.tick(now))
        return events
