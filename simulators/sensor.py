"""Sensor feed: water level and flood, salinity, rainfall, air quality, weather, device state.

Stations report on their own schedule (the rate budget does not apply).  Water levels follow
the tide of the Gulf of Thailand (a 12.42 h M2 and a 23.93 h K1 constituent), rise with rain
runoff and, on the Giang Thành river, with the Mekong flood season; salinity at the estuaries
peaks in the dry season and at high tide and falls with rain.  Rain comes in episodes, mostly
on wet-season afternoons.  Drills use ``force``: rain over the province, a rising river, a
silent, stuck or faulty station, a spike, a failing battery.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.base import Event, iso
from simulators.common import local_hour, point, traffic_factor
from streams.core.geography import Province, Station
from streams.core.contracts.sensor import flood_status

M2_H, K1_H = 12.42, 23.93
INTERVAL_S = {"water_level": 300, "salinity": 600, "rain": 300, "air": 600, "weather": 600, "device": 900}
#: dry-season strength of salt intrusion by month (peaks March–April)
SALT_SEASON = {1: 0.7, 2: 0.9, 3: 1.0, 4: 1.0, 5: 0.7, 6: 0.35, 7: 0.2, 8: 0.12, 9: 0.1, 10: 0.1, 11: 0.2, 12: 0.45}
#: Mekong flood reaching the Giang Thành river by month
FLOOD_SEASON = {8: 0.4, 9: 0.8, 10: 1.0, 11: 0.7, 12: 0.2}
#: VN_AQI breakpoints for PM2.5: (concentration µg/m³, index)
AQI_PM25 = ((0, 0), (25, 50), (50, 100), (80, 150), (150, 200), (250, 300), (350, 400), (500, 500))
RUNOFF_M_PER_MM = 0.004
RUNOFF_DECAY_H = 18.0
FORCED = ("silent", "fault", "stuck", "rising", "spike", "low_battery")


def tide(t_hours: float, lag_h: float = 0.0) -> float:
    """Normalised tide, -1 to 1, at ``t_hours`` (hours since the epoch), delayed by ``lag_h``."""
    t = t_hours - lag_h
    return 0.65 * math.cos(2 * math.pi * t / M2_H) + 0.35 * math.cos(2 * math.pi * t / K1_H)


def aqi_pm25(pm25: float) -> int:
    """VN_AQI sub-index of PM2.5, by linear interpolation between breakpoints; 500 at most."""
    for (c0, i0), (c1, i1) in zip(AQI_PM25, AQI_PM25[1:]):
        if pm25 <= c1:
            return round(i0 + (i1 - i0) * (pm25 - c0) / (c1 - c0))
    return 500


def wet_season(month: int) -> bool:
    return 5 <= month <= 11


@dataclass
class Rain:
    rate: float = 0.0  # mm/h at the centre of the episode
    until: datetime | None = None
    forced: float | None = None
    local: dict[str, float] = field(default_factory=dict)  # station -> share of the rate


@dataclass
class StationState:
    st: Station
    location: dict[str, Any]
    due: dict[str, datetime] = field(default_factory=dict)
    last_value: datetime | None = None
    runoff: float = 0.0
    rise: float = 0.0
    rise_rate: float = 0.0
    forced: str | None = None
    battery: float = 0.9
    last: dict[str, Event] = field(default_factory=dict)  # last reading by type, for "stuck"


class SensorSimulator:
    family = "sensor"
    #: states a drill's force sets (not the readings it makes up), followed by other processes' background
    shared_conditions = frozenset({"silent", "fault", "stuck", "low_battery"})
    weight = 0.0  # stations report on schedule; the rate budget is not used

    def __init__(self, province: Province, rng: random.Random) -> None:
        self.rng = rng
        self.states = {s.code: StationState(s, point(s.lon, s.lat), battery=rng.uniform(0.6, 1.0))
                       for s in province.stations}
        self.rain = Rain()

    # -- control, used by drills ------------------------------------------------------------
    def force(self, target: str, condition: str | None, *, value: float | None = None) -> None:
        """``force("province", "rain", value=mm_per_h)``, or a station condition; None clears."""
        if target == "province":
            if condition not in ("rain", None):
                raise ValueError("the province takes only 'rain' (value in mm/h) or None")
            self.rain.forced = None if condition is None else (value if value is not None else 40.0)
            return
        if target not in self.states:
            raise ValueError(f"unknown station {target!r}")
        if condition is not None and condition not in FORCED:
            raise ValueError(f"unknown condition {condition!r}; known: {', '.join(FORCED)}")
        st = self.states[target]
        st.forced = condition
        st.rise_rate = (value if value is not None else 0.2) if condition == "rising" else 0.0

    def key_of(self, event: Event) -> str:
        return event["refDevice"]

    # -- the environment --------------------------------------------------------------------
    def _evolve(self, now: datetime, dt: float) -> None:
        rng, rain, h = self.rng, self.rain, local_hour(now)
        if rain.until is not None and rain.until <= now:
            rain.rate, rain.until = 0.0, None
        if rain.until is None:
            per_hour = (0.06 * (4 if 13 <= h < 19 else 1)) if wet_season(now.month) else 0.005
            if rng.random() < per_hour * dt / 3600:
                rain.rate = min(120.0, rng.lognormvariate(math.log(8), 0.8))
                rain.until = now + timedelta(hours=rng.uniform(0.3, 3))
                rain.local = {code: rng.uniform(0.2, 1.6) for code in self.states}
        decay = math.exp(-dt / 3600 / RUNOFF_DECAY_H)
        sun = h >= 6.5 and h < 17.5
        for s in self.states.values():
            s.runoff = s.runoff * decay + self.rain_at(s.st.code) * dt / 3600 * RUNOFF_M_PER_MM
            s.rise = s.rise + s.rise_rate * dt / 3600 if s.rise_rate else s.rise * math.exp(-dt / 3600 / 6)
            drain = -0.04 if sun else 0.015
            s.battery = min(1.0, max(0.0, s.battery - drain * dt / 3600))

    def rain_at(self, code: str) -> float:
        """Rain rate in mm/h at a station now."""
        if self.rain.forced is not None:
            return self.rain.forced
        return self.rain.rate * self.rain.local.get(code, 1.0)

    # -- observations -----------------------------------------------------------------------
    def _obs(self, s: StationState, type_: str, ts: datetime, **values: Any) -> Event:
        if s.forced == "stuck" and type_ in s.last:
            values = {k: v for k, v in s.last[type_].items() if k in values}
        ev = {"id": f"{s.st.code}:{type_}:{ts.strftime('%Y%m%dT%H%M%S')}Z", "type": type_, "dateObserved": iso(ts),
              "location": s.location, "refDevice": s.st.code, "areaServed": s.st.unit, **values}
        s.last[type_] = ev
        return ev

    def _water_level(self, s: StationState, ts: datetime) -> list[Event]:
        p = s.st.params
        level = (p.get("mean", 0.2) + p.get("tide", 0.4) * tide(ts.timestamp() / 3600, p.get("lag_h", 0.0))
                 + s.runoff + p.get("flood_season", 0.0) * FLOOD_SEASON.get(ts.month, 0.0) + s.rise
                 + self.rng.gauss(0, 0.01) + (1.0 if s.forced == "spike" else 0.0))
        reference = p.get("reference", 4.0)
        distance = round(max(0.05, reference - level), 3)
        current = round(reference - distance, 3)
        alert, danger = p.get("alert", 0.9), p.get("danger", 1.2)
        return [self._obs(s, "WaterObserved", ts, waterLevel=current),
                self._obs(s, "FloodMonitoring", ts, measuredDistance=distance, referenceLevel=reference,
                          currentLevel=current, alertLevel=alert, dangerLevel=danger,
                          floodLevelStatus=flood_status(current, alert, danger))]

    def _salinity(self, s: StationState, ts: datetime) -> list[Event]:
        rng, p = self.rng, s.st.params
        tide_now = tide(ts.timestamp() / 3600, p.get("lag_h", 0.0))
        sal = p.get("salinity", 20) * SALT_SEASON[ts.month] * (0.7 + 0.3 * tide_now) * (1 - min(0.6, s.runoff * 2))
        sal = min(45.0, max(0.05, sal + rng.gauss(0, 0.2) + (10 if s.forced == "spike" else 0)))
        h = local_hour(ts)
        return [self._obs(s, "WaterQualityObserved", ts, salinity=round(sal, 2),
                          temperature=round(29 + 1.5 * math.sin(2 * math.pi * (h - 9) / 24) + rng.gauss(0, 0.2), 2),
                          pH=round(min(8.5, max(6.0, 7.0 + 0.03 * sal + rng.gauss(0, 0.05))), 2),
                          turbidity=round(rng.lognormvariate(math.log(40), 0.4), 1),
                          conductivity=round(0.02 + 0.157 * sal, 3))]

    def _weather(self, s: StationState, ts: datetime, interval_s: float, full: bool) -> list[Event]:
        rng, rain = self.rng, self.rain_at(s.st.code)
        values: dict[str, Any] = {"precipitation": round(min(500.0, rain * interval_s / 3600), 1)}
        if full:
            h = local_hour(ts)
            warm = math.sin(2 * math.pi * (h - 9) / 24)
            values.update(
                temperature=round(28 + 4 * warm - (2 if rain else 0) + rng.gauss(0, 0.3), 1),
                relativeHumidity=round(min(1.0, max(0.35, 0.78 - 0.15 * warm + (0.15 if rain else 0) + rng.gauss(0, 0.02))), 3),
                windSpeed=round(min(60.0, rng.lognormvariate(math.log(3), 0.4) * (2 if rain > 10 else 1)), 1),
                windDirection=round(rng.uniform(200, 260) if wet_season(ts.month) else rng.uniform(20, 80), 0),
                atmosphericPressure=round(1008 + 2 * math.cos(2 * math.pi * (h - 10) / 12) + rng.gauss(0, 0.3), 1),
            )
        return [self._obs(s, "WeatherObserved", ts, **values)]

    def _air(self, s: StationState, ts: datetime) -> list[Event]:
        rng, traffic = self.rng, traffic_factor(ts)
        pm25 = s.st.params.get("pm25", 20) * (0.6 + 0.6 * traffic) * (0.5 if self.rain_at(s.st.code) else 1.0)
        pm25 = pm25 * rng.lognormvariate(0, 0.15) * (8 if s.forced == "spike" else 1)
        sun = max(0.0, math.sin(math.pi * (local_hour(ts) - 6) / 12))
        return [self._obs(s, "AirQualityObserved", ts, pm25=round(pm25, 1), pm10=round(pm25 * 1.7, 1),
                          no2=round(15 + 25 * traffic + rng.gauss(0, 2), 1) if traffic else 12.0,
                          so2=round(5 + rng.uniform(0, 3), 1), co=round(600 + 800 * traffic + rng.gauss(0, 50), 0),
                          o3=round(20 + 60 * sun + rng.gauss(0, 3), 1), airQualityIndex=aqi_pm25(pm25))]

    def _device(self, s: StationState, ts: datetime) -> list[Event]:
        battery = min(s.battery, 0.15) if s.forced == "low_battery" else s.battery
        state = "fault" if s.forced == "fault" else "low_battery" if battery < 0.2 else "ok"
        ev = {"deviceState": state, "batteryLevel": round(battery, 3), "name": s.st.name}
        if s.last_value is not None:
            ev["dateLastValueReported"] = iso(s.last_value)
        return [self._obs(s, "Device", ts, **ev)]

    def _readings(self, s: StationState, kind: str, ts: datetime) -> list[Event]:
        if kind == "device":
            return self._device(s, ts)
        if s.forced == "fault":
            return []
        s.last_value = ts
        if kind == "water_level":
            return self._water_level(s, ts)
        if kind == "salinity":
            return self._salinity(s, ts)
        if kind == "air":
            return self._air(s, ts)
        return self._weather(s, ts, self._interval(s, kind), full=kind == "weather")

    def _interval(self, s: StationState, kind: str) -> float:
        return s.st.params.get("interval_s", INTERVAL_S[kind]) if kind != "device" else INTERVAL_S["device"]

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        self._evolve(now, dt)
        events: list[Event] = []
        for s in self.states.values():
            todo: list[tuple[datetime, str]] = []
            for kind in (*s.st.kinds, "device"):
                step = timedelta(seconds=self._interval(s, kind))
                due = s.due.get(kind)
                if due is None:  # spread the first readings over the interval
                    due = now + step * self.rng.random()
                if s.forced == "silent":
                    due = max(due, now + step)
                while due <= now:
                    todo.append((due, kind))
                    due += step
                s.due[kind] = due
            for due, kind in sorted(todo):  # in time order, so the device state knows the last value
                events.extend(self._readings(s, kind, due))
        return events
