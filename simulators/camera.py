"""Camera feed: analytics tracks (new / update / end) and camera health.

Border and coast cameras see intrusions, line crossings and loitering, mostly at night; town
cameras see traffic by day.  Health follows hidden conditions: a camera drops offline now and
then, a few flap, a network link outage takes all its cameras down, some cameras' infrared
fails so the image is too dark at night, and a rare scene change or signal loss is a tamper.
The VMS re-sends each camera's status as a heartbeat, at the interval the province file declares
for the camera (its site's or model's ``heartbeat_s``).  Drills use ``force``.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.base import Event, iso
from simulators.common import count, local_hour, night_factor, point, traffic_factor, within
from simulators.links import LinkOutages, seed_of
from streams.core.geography import Camera, Province

FORCED = ("offline", "flapping", "tamper", "signal_loss", "intrusion")
OFFLINE_PER_HOUR = 0.01  # per camera
FLAP_PER_HOUR = 0.002
TAMPER_PER_HOUR = 0.002
DARK_SHARE = 0.04  # cameras whose infrared has failed
RULE_WEIGHTS = {"FieldDetector/ObjectsInside": 4, "LineDetector/Crossed": 5, "LoiteringDetector": 1, "ObjectDetector": 3}
INTRUSION = "FieldDetector/ObjectsInside"
#: background intrusions into a border zone's restricted areas, per zone and hour in the dead of
#: night (night_factor scales them: a fifth of that by day); rare, whatever the feed's event rate,
#: so that the drill's 0.1 tracks/s and a real crossing stand out.  Town cameras' "inside" tracks
#: are the budget's share, as before.
BORDER_INTRUSIONS_PER_HOUR = 2.0
ZONE_LABELS = {"person": 55, "motorcycle": 20, "car": 10}
TOWN_LABELS = {"motorcycle": 45, "car": 30, "person": 20, "truck": 5}
ZONE_AREAS = ("border_strip", "trail", "checkpoint")
TOWN_AREAS = ("road", "sidewalk", "intersection", "park")


@dataclass
class CamState:
    cam: Camera
    location: dict[str, Any]
    reported: str | None = None  # last online/offline sent
    forced: str | None = None
    down_until: datetime | None = None
    flap_until: datetime | None = None
    flap_state: bool = True
    next_flip: datetime | None = None
    next_heartbeat: datetime | None = None
    ir_broken: bool = False
    timed: dict[str, datetime] = field(default_factory=dict)  # random VideoSource condition -> clears at
    active: list[str] = field(default_factory=list)  # VideoSource conditions reported active


@dataclass
class Track:
    event_id: str
    st: CamState
    rule: str
    label: str
    zones: list[str]
    start: datetime
    end: datetime
    score: float
    seq: int = 0


class CameraSimulator:
    family = "camera"
    weight = 0.8
    #: forces that set a camera's state: a drill shares them with other processes' camera simulators
    shared_conditions = frozenset({"offline", "flapping", "tamper", "signal_loss"})

    #: built on the province's shared link outages (``simulators/links.py``) by ``build_simulators``
    shares_links = True

    def __init__(self, province: Province, rng: random.Random, *, incidents: bool = True,
                 heartbeat_s: float | None = None, links: LinkOutages | None = None) -> None:
        """``heartbeat_s`` makes every camera beat at that interval instead of its declared one
        (a denser feed for tests); by default each beats as the province file says.  ``links``: the
        outages the network simulator reports too (by default a schedule of its own)."""
        if not province.cameras:
            raise ValueError("the province file lists no cameras")
        self.rng = rng
        self.incidents = incidents
        self.heartbeat_s = heartbeat_s
        self.states = {c.code: CamState(c, point(c.lon, c.lat), ir_broken=rng.random() < DARK_SHARE)
                       for c in province.cameras}
        self.links = links or LinkOutages(province, seed_of(rng), incidents=incidents)
        self.intrusions: dict[str, float] = {}  # forced target -> new intrusion tracks per second
        self._tracks: list[tuple[datetime, int, Track]] = []
        self._seq = 0
        self._per_track = 3.0  # running mean of messages per track, to turn the budget into new tracks

    # -- control, used by drills ------------------------------------------------------------
    def cameras_of(self, target: str) -> list[CamState]:
        """A camera, or every camera of a site, network link or border zone."""
        found = [st for code, st in self.states.items()
                 if target in (code, st.cam.site, st.cam.parent, st.cam.zone)]
        if not found:
            raise ValueError(f"unknown target {target!r}: a camera, site, network link or border zone")
        return found

    def force(self, target: str, condition: str | None, *, rate: float = 0.5) -> None:
        """Force a condition on a target's cameras until cleared with None; intrusion at ``rate`` tracks/s."""
        if condition is not None and condition not in FORCED:
            raise ValueError(f"unknown condition {condition!r}; known: {', '.join(FORCED)}")
        cams = self.cameras_of(target)
        if condition == "intrusion":
            self.intrusions[target] = rate
            return
        if condition is None:
            self.intrusions.pop(target, None)
        if target in self.links.parents and condition in ("offline", None):  # a link outage takes its cameras down
            self.links.force(target, condition == "offline")
            if condition == "offline":
                return
        for st in cams:
            st.forced = condition

    def key_of(self, event: Event) -> str:
        return event["camera"]

    # -- health -----------------------------------------------------------------------------
    def _status(self, st: CamState, now: datetime) -> tuple[str, str | None]:
        if self.links.why_down(st.cam.parent, now) is not None:
            return "offline", "network link down"
        if st.forced == "offline" or (st.down_until and st.down_until > now):
            return "offline", "no response to ping"
        if st.forced == "flapping" or (st.flap_until and st.flap_until > now):
            if st.next_flip is None or st.next_flip <= now:
                st.flap_state = not st.flap_state
                st.next_flip = now + timedelta(seconds=self.rng.uniform(5, 40))
            return ("online", None) if st.flap_state else ("offline", "RTSP session lost")
        return "online", None

    def _evolve(self, now: datetime, dt: float) -> None:
        rng, p = self.rng, dt / 3600
        for st in self.states.values():
            r = rng.random()
            if r < OFFLINE_PER_HOUR * p:
                st.down_until = now + timedelta(minutes=rng.uniform(2, 60))
            elif r < (OFFLINE_PER_HOUR + FLAP_PER_HOUR) * p:
                st.flap_until = now + timedelta(minutes=rng.uniform(10, 60))
            elif r < (OFFLINE_PER_HOUR + FLAP_PER_HOUR + TAMPER_PER_HOUR) * p:
                cond = rng.choice(("VideoSource/GlobalSceneChange", "VideoSource/SignalLoss", "VideoSource/ImageTooBlurry"))
                st.timed.setdefault(cond, now + timedelta(minutes=rng.uniform(1, 10)))

    def _health(self, st: CamState, now: datetime) -> list[Event]:
        out: list[Event] = []
        status, reason = self._status(st, now)
        if status != st.reported or st.next_heartbeat is None or st.next_heartbeat <= now:
            out.append(self._health_event(st, now, status, True, reason))
            st.reported = status
            beat = timedelta(seconds=self.heartbeat_s or st.cam.heartbeat_s)
            st.next_heartbeat = now + beat * (1 if st.next_heartbeat else self.rng.random())
        if status == "offline":
            return out
        st.timed = {cond: until for cond, until in st.timed.items() if until > now}
        wanted = list(st.timed)
        h = local_hour(now)
        if st.ir_broken and (h >= 18.5 or h < 6):
            wanted.append("VideoSource/ImageTooDark")
        forced = {"tamper": "VideoSource/GlobalSceneChange", "signal_loss": "VideoSource/SignalLoss"}.get(st.forced or "")
        if forced and forced not in wanted:
            wanted.append(forced)
        out.extend(self._health_event(st, now, cond, True, None) for cond in wanted if cond not in st.active)
        out.extend(self._health_event(st, now, cond, False, None) for cond in st.active if cond not in wanted)
        st.active = wanted
        return out

    def _health_event(self, st: CamState, ts: datetime, condition: str, active: bool, reason: str | None) -> Event:
        ev = {"id": f"{st.cam.code}:{condition}:{int(ts.timestamp() * 1000)}:{int(active)}", "type": "CameraHealth",
              "camera": st.cam.code, "dateObserved": iso(ts), "condition": condition, "active": active,
              "location": st.location}
        if reason:
            ev["reason"] = reason
        return ev

    # -- analytics --------------------------------------------------------------------------
    def _new_track(self, st: CamState, now: datetime, dt: float, rule: str | None = None) -> Event:
        rng, cam = self.rng, st.cam
        if rule is None:
            rules = [r for r in cam.rules if not (cam.zone and r == INTRUSION)] or cam.rules
            rule = rng.choices(rules, weights=[RULE_WEIGHTS[r] for r in rules])[0]
        labels = ZONE_LABELS if cam.zone else TOWN_LABELS
        label = "boat" if cam.coast and rng.random() < 0.15 else rng.choices(list(labels), weights=list(labels.values()))[0]
        start = within(rng, now, dt)
        track = Track(f"{start.timestamp():.6f}-{rng.getrandbits(30):08x}", st, rule, label,
                      [rng.choice(ZONE_AREAS if cam.zone else TOWN_AREAS)], start,
                      start + timedelta(seconds=min(600.0, rng.lognormvariate(2.8, 0.8))),
                      round(rng.uniform(0.55, 0.97), 3))
        self._schedule(track, start)
        return self._detection(track, "new", start)

    def _schedule(self, track: Track, after: datetime) -> None:
        nxt = min(track.end, after + timedelta(seconds=self.rng.uniform(5, 15)))
        self._seq += 1
        heapq.heappush(self._tracks, (nxt, self._seq, track))

    def _detection(self, t: Track, phase: str, ts: datetime) -> Event:
        t.seq += 1
        ev = {"id": f"{t.event_id}:{t.seq}", "type": "CameraDetection", "event_id": t.event_id, "camera": t.st.cam.code,
              "dateObserved": iso(ts), "phase": phase, "rule": t.rule, "label": t.label, "score": t.score,
              "zones": t.zones, "start_time": iso(t.start), "location": t.st.location}
        if phase == "end":
            ev["end_time"] = iso(ts)
        return ev

    def _due_tracks(self, now: datetime) -> list[Event]:
        out = []
        while self._tracks and self._tracks[0][0] <= now:
            at, _, t = heapq.heappop(self._tracks)
            if at >= t.end or t.st.reported == "offline":
                out.append(self._detection(t, "end", max(at, t.start)))
                self._per_track += (t.seq - self._per_track) * 0.01
            else:
                t.score = max(t.score, round(min(0.99, t.score + self.rng.uniform(-0.05, 0.08)), 3))
                out.append(self._detection(t, "update", at))
                self._schedule(t, at)
        return out

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        rng = self.rng
        if self.incidents:
            self._evolve(now, dt)
        events: list[Event] = []
        for st in self.states.values():
            events.extend(self._health(st, now))
        events.extend(self._due_tracks(now))
        online = [st for st in self.states.values() if st.reported == "online"]
        new = count(rng, n / self._per_track)
        if new and online:
            night, traffic = night_factor(now), traffic_factor(now)
            weights = [night if st.cam.zone else traffic for st in online]
            for st in rng.choices(online, weights=weights, k=new):
                events.append(self._new_track(st, now, dt))
        rates = dict(self._border_rates(now)) if self.incidents else {}
        for target, rate in self.intrusions.items():
            rates[target] = rates.get(target, 0.0) + rate
        for target, rate in rates.items():
            cams = [st for st in self.cameras_of(target) if st.reported == "online" and INTRUSION in st.cam.rules]
            for _ in range(count(rng, rate * dt) if cams else 0):
                events.append(self._new_track(rng.choice(cams), now, dt, INTRUSION))
        return events

    def _border_rates(self, now: datetime) -> list[tuple[str, float]]:
        """Background intrusion tracks per second into each border zone."""
        zones = sorted({st.cam.zone for st in self.states.values() if st.cam.zone})
        return [(z, BORDER_INTRUSIONS_PER_HOUR * night_factor(now) / 3600) for z in zones]
