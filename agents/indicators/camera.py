"""Camera indicators: debounced online/offline with flap detection, and tracks per zone.

Raw online/offline reports flap (a weak 4G link sends dozens a minute).  ``apply`` turns them
into a debounced state per camera: a new observation becomes the state only after it has held
for ``offline_after`` / ``online_after``; a camera whose raw state changed ``flap_changes``
times within ``flap_window`` is ``flapping`` (one change for operators, not hundreds) until it
has been quiet for ``flap_window``.  Confirmation by time also happens at read time
(``effective_state``), so a camera that goes offline and then falls silent is still shown
offline: correctness never waits for a later event.

Silence is measured against what the camera promises: each camera re-sends its status every
``heartbeat_s`` seconds (its model's or site's, in the province file; 300 s by default), and it
is taken as offline once it has missed ``missed_beats`` heartbeats plus ``grace`` (2 × 300 s +
60 s = 11 minutes for the default).  An explicit offline report keeps its own debounce
(``offline_after``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from streams.core.windows import at_epoch, epoch_of, window_of
from streams.core.geography import DEFAULT_HEARTBEAT_S, Camera
from streams.core.contracts import Event
from streams.core.contracts.camera import TAMPER, CameraDetection, CameraHealth
from streams.core.tables import CounterTable, FeedSpec, Increments, RawTable, States, StateTable, attrs_json

TRACK_WINDOWS_S = (60, 3600)


@dataclass(frozen=True, slots=True)
class DebounceConfig:
    offline_after: timedelta = timedelta(seconds=60)
    online_after: timedelta = timedelta(seconds=30)
    flap_window: timedelta = timedelta(minutes=10)
    flap_changes: int = 6
    missed_beats: int = 2  # heartbeats missed in a row ...
    grace: timedelta = timedelta(seconds=60)  # ... plus this (transport and clock slack): silent, so offline

    def silent_after(self, heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> timedelta:
        """No report at all for this long from a camera heartbeating every ``heartbeat_s``: offline."""
        return self.missed_beats * timedelta(seconds=heartbeat_s) + self.grace


def _ts(x: float | None) -> datetime | None:
    return None if x is None else datetime.fromtimestamp(x, timezone.utc)


def new_state(camera: str) -> dict[str, Any]:
    return {"camera": camera, "state": "unknown", "since": None, "observed": None, "observed_since": None,
            "transitions": [], "flapping_since": None, "last_seen": None, "conditions": [], "changes": 0}


def _set(st: dict[str, Any], state: str, at: datetime) -> None:
    if st["state"] != state:
        st["state"] = state
        st["since"] = at
        st["changes"] += 1


def apply(st: dict[str, Any], ev: CameraHealth, cfg: DebounceConfig = DebounceConfig()) -> dict[str, Any]:
    """The camera's state after one health event (events of a camera come in event-time order)."""
    at = ev.dateObserved
    st = dict(st)
    st["transitions"] = list(st["transitions"])
    st["last_seen"] = max(at, st["last_seen"]) if st["last_seen"] else at
    if ev.condition not in ("online", "offline"):  # signal loss and tamper are conditions, not states
        conds = set(st["conditions"])
        (conds.add if ev.active else conds.discard)(ev.condition)
        st["conditions"] = sorted(conds)
        return _confirm(st, at, cfg)
    observed = ev.condition
    if observed != st["observed"]:
        if st["observed"] is not None:
            st["transitions"].append(at.timestamp())
        st["observed"] = observed
        st["observed_since"] = at
    horizon = (at - cfg.flap_window).timestamp()
    st["transitions"] = [t for t in st["transitions"] if t > horizon]
    if len(st["transitions"]) >= cfg.flap_changes:
        if st["state"] != "flapping":
            st["flapping_since"] = at
        _set(st, "flapping", at)
        return st
    return _confirm(st, at, cfg)


def _confirm(st: dict[str, Any], at: datetime, cfg: DebounceConfig) -> dict[str, Any]:
    observed, since = st["observed"], st["observed_since"]
    if st["state"] == "flapping":
        last = _ts(st["transitions"][-1]) if st["transitions"] else st["flapping_since"]
        if last is not None and at - last < cfg.flap_window:
            return st  # still flapping
        st["flapping_since"] = None
        if observed is not None:
            _set(st, observed, at)  # quiet for a whole flap window: take what it reports
        return st
    if observed is None:
        return st
    if st["state"] == "unknown":
        _set(st, observed, since)  # the first report is taken as it is
        return st
    hold = cfg.offline_after if observed == "offline" else cfg.online_after
    if observed != st["state"] and at - since >= hold:
        _set(st, observed, since)
    return st


def effective_state(st: dict[str, Any], now: datetime, cfg: DebounceConfig = DebounceConfig(),
                    heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> str:
    """What the wall shows now: confirmation by time, and silence past the camera's missed
    heartbeats (``cfg.silent_after(heartbeat_s)``) counts as offline."""
    if st.get("last_seen") is None:
        return "unknown"
    if now - st["last_seen"] >= cfg.silent_after(heartbeat_s):
        return "offline"
    if st["state"] == "flapping":
        return "flapping"
    observed, since = st.get("observed"), st.get("observed_since")
    if observed and observed != st["state"] and since is not None:
        hold = cfg.offline_after if observed == "offline" else cfg.online_after
        if now - since >= hold:
            return observed
    return st["state"]


# --- what the camera feed writes ----------------------------------------------------------------

_ATTRS = frozenset({"start_time", "end_time", "snapshot", "reason", "location"})

def _camera_row(e: Event) -> tuple:
    """A detection's or a health report's raw row (the fields its type lacks read as None, without a call each)."""
    get = e.__dict__.get
    return (e.dateObserved, e.id, e.type, e.camera, get("event_id"), get("phase"), get("rule"), get("label"),
            get("score"), orjson.dumps(e.zones).decode() if isinstance(e, CameraDetection) else None,
            get("condition"), get("active"), attrs_json(type(e), _ATTRS)(e))


CAMERA_EVENT = RawTable(
    "camera_event",
    (("time", "timestamptz"), ("id", "text"), ("type", "text"), ("camera", "text"), ("event_id", "text"),
     ("phase", "text"), ("rule", "text"), ("label", "text"), ("score", "real"), ("zones", "jsonb"),
     ("condition", "text"), ("active", "boolean"), ("attrs", "jsonb")),
    _camera_row,
)

CAMERA_WINDOW = CounterTable(
    "camera_window", key=("camera", "zone", "rule", "window_s", "time"), sums=("tracks",), greatest=("last_event",)
)

CAMERA_STATE = StateTable(
    "camera_state",
    key=("camera",),
    columns=("state", "since", "observed", "observed_since", "transitions", "flapping_since", "last_seen",
             "conditions", "changes"),
    keys_of=lambda fresh: {(e.camera,) for e in fresh if isinstance(e, CameraHealth)},
    updated_at=True,
)


def camera_increments(fresh: Sequence[Event], states: States, cfg: DebounceConfig = DebounceConfig()) -> Increments:
    incs = Increments()
    tracks: dict[tuple, dict] = {}
    for ev in fresh:
        if isinstance(ev, CameraHealth):
            key = (ev.camera,)
            current = incs.states.get(key) or states.get(key) or new_state(ev.camera)
            incs.states[key] = apply(current, ev, cfg)
        elif isinstance(ev, CameraDetection) and ev.phase == "new":
            seconds, ts = epoch_of(ev.start_time), ev.dateObserved
            for zone in ev.zones or ["-"]:
                for size in TRACK_WINDOWS_S:
                    k = (ev.camera, zone, ev.rule, size, window_of(seconds, size))
                    row = tracks.get(k)
                    if row is None:
                        row = tracks[k] = dict(zip(CAMERA_WINDOW.key, k), time=at_epoch(k[-1]), tracks=0,
                                               last_event=ts)
                    row["tracks"] += 1
                    if ts > row["last_event"]:
                        row["last_event"] = ts
    for row in tracks.values():
        incs.add(CAMERA_WINDOW, row)
    return incs


CAMERA_FEED = FeedSpec("camera", CAMERA_EVENT, camera_increments, CAMERA_STATE, (CAMERA_WINDOW,))


def camera_states(rows: Iterable[Mapping[str, Any]], cameras: Iterable[Camera], now: datetime,
                  cfg: DebounceConfig = DebounceConfig()) -> dict[str, str]:
    """Camera code -> its state now, each judged by its own heartbeat interval; a row of a camera
    the province file does not list is judged by the default interval."""
    beats = {c.code: c.heartbeat_s for c in cameras}
    return {r["camera"]: effective_state(r, now, cfg, beats.get(r["camera"], DEFAULT_HEARTBEAT_S)) for r in rows}


def offline_counts(rows: Iterable[dict[str, Any]], cameras: Iterable[Camera], now: datetime,
                   cfg: DebounceConfig = DebounceConfig()) -> tuple[dict[str, int], dict[str, int]]:
    """Cameras offline now per area (unit code) and per border zone; cameras without state are unknown."""
    cameras = list(cameras)
    state = camera_states(rows, cameras, now, cfg)
    per_area: dict[str, int] = {}
    per_zone: dict[str, int] = {}
    for cam in cameras:
        if state.get(cam.code) != "offline":
            continue
        per_area[cam.unit] = per_area.get(cam.unit, 0) + 1
        if cam.zone:
            per_zone[cam.zone] = per_zone.get(cam.zone, 0) + 1
    return per_area, per_zone


# --- the border page: cameras by state per area, detections per border zone and class -----------

#: what the border page shows of a camera, worst first: its debounced state, with a tamper
#: condition (dark, blurred or turned image) marking a camera that still reports online
VIEW_STATES = ("offline", "tampered", "flapping", "online", "unknown")


def view_state(state: str, conditions: Iterable[str]) -> str:
    """A camera's state on the border page: ``tampered`` when it is online (or unknown) with a tamper
    condition active; offline and flapping stay what they are."""
    if state in ("online", "unknown") and any(c in TAMPER for c in conditions or ()):
        return "tampered"
    return state


def area_states(rows: Iterable[Mapping[str, Any]], cameras: Iterable[Camera], now: datetime,
                cfg: DebounceConfig = DebounceConfig()) -> dict[str, dict[str, int]]:
    """Unit code -> {view state: cameras}, every camera of the province file counted once (a camera
    without a state row is ``unknown``); the liveness rules are those of ``effective_state``."""
    rows = list(rows)
    cameras = list(cameras)
    states = camera_states(rows, cameras, now, cfg)
    conditions = {r["camera"]: r.get("conditions") or () for r in rows}
    out: dict[str, dict[str, int]] = {}
    for cam in cameras:
        counts = out.setdefault(cam.unit, dict.fromkeys(VIEW_STATES, 0))
        counts[view_state(states.get(cam.code, "unknown"), conditions.get(cam.code, ()))] += 1
    return out


@dataclass(frozen=True, slots=True)
class ZoneCount:
    """New tracks of one border zone and class: the last hour, the same hour yesterday, 24 hours."""

    zone: str
    label: str
    hour: int = 0
    hour_yesterday: int = 0
    day: int = 0


def zone_counts(hour_rows: Iterable[Mapping[str, Any]], earlier_rows: Iterable[Mapping[str, Any]],
                cameras: Iterable[Camera]) -> list[ZoneCount]:
    """Tracks per (border zone, class) from rows per (camera, label): ``hour_rows`` with ``hour`` and
    ``hour_yesterday``, ``earlier_rows`` with ``earlier`` (the 23 hours before the last one); the 24
    hours are the hour and the earlier ones.  A camera's zone is the province file's; cameras of no
    border zone are left out.  Sorted by zone, then the busiest class of the last hour first."""
    zone_of = {c.code: c.zone for c in cameras if c.zone}
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for rows, fields in ((hour_rows, ("hour", "hour_yesterday")), (earlier_rows, ("earlier",))):
        for r in rows:
            zone = zone_of.get(r["camera"])
            if zone is None:
                continue
            acc = sums.setdefault((zone, r["label"]), {"hour": 0, "hour_yesterday": 0, "earlier": 0})
            for f in fields:
                acc[f] += int(r.get(f) or 0)
    counts = [ZoneCount(zone, label, acc["hour"], acc["hour_yesterday"], acc["hour"] + acc["earlier"])
              for (zone, label), acc in sums.items()]
    return sorted(counts, key=lambda c: (c.zone, -c.hour, -c.day, c.label))


def track_duration(started_at: datetime, last_seen: datetime, ended: bool, now: datetime) -> timedelta:
    """How long a track has lasted: to its end, or to now while it goes on."""
    return max(timedelta(0), (last_seen if ended else now) - started_at)


# --- night watch: a zone's hour against its usual level for that hour of the week ----------------

#: weeks of history a usual level needs before anything is marked against it
MIN_WEEKS = 3


def zone_weeks(rows: Iterable[Mapping[str, Any]], cameras: Iterable[Camera]) -> dict[str, list[int]]:
    """Zone -> its tracks in the same hour of each earlier week that has data, from rows per (camera,
    ``weeks_ago``, ``tracks``).  A week in which no border camera saw anything is a week without
    data (the feed was not running), not a week of zeros."""
    zone_of = {c.code: c.zone for c in cameras if c.zone}
    rows = [r for r in rows if r["camera"] in zone_of]
    weeks = sorted({r["weeks_ago"] for r in rows})
    sums = {(zone, w): 0 for zone in set(zone_of.values()) for w in weeks}
    for r in rows:
        sums[(zone_of[r["camera"]], r["weeks_ago"])] += int(r["tracks"] or 0)
    return {zone: [sums[(zone, w)] for w in weeks] for zone in sorted(set(zone_of.values()))}


def usual_level(weeks: Sequence[int]) -> float | None:
    """The mean of a zone's tracks in that hour of the earlier weeks; None before ``MIN_WEEKS`` weeks."""
    return sum(weeks) / len(weeks) if len(weeks) >= MIN_WEEKS else None


def above_usual(count: int, weeks: Sequence[int], k: float = 2.0) -> bool:
    """Is ``count`` above the zone's usual level for this hour of the week?  Above the mean by ``k``
    spreads, the spread being the weeks' standard deviation or, when the weeks barely vary, the
    square root of the mean (counts vary at least as a Poisson count does) and at least one track."""
    mean = usual_level(weeks)
    if mean is None:
        return False
    sd = (sum((w - mean) ** 2 for w in weeks) / (len(weeks) - 1)) ** 0.5
    return count > mean + k * max(sd, mean ** 0.5, 1.0)


def night_watch_hours(spec: str) -> tuple[int, int] | None:
    """``"19-6"`` -> (19, 6): local hours of the night watch, from the first to before the second;
    empty -> None (no night watch).  ValueError on anything else."""
    if not spec.strip():
        return None
    start, _, end = spec.partition("-")
    hours = int(start), int(end)
    if not all(0 <= h <= 23 for h in hours) or hours[0] == hours[1]:
        raise ValueError(f"night watch hours must be 'start-end', two different hours 0-23, got {spec!r}")
    return hours


def in_night_watch(local_hour: int, hours: tuple[int, int] | None) -> bool:
    if hours is None:
        return False
    start, end = hours
    return start <= local_hour < end if start < end else local_hour >= start or local_hour < end
