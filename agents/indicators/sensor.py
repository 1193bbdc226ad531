"""Sensor indicators: the latest reading per station and metric, its rate of rise, and windows.

Every observation becomes *readings*: one per measured attribute (``metric``, the FIWARE
attribute name; a water-quality ``temperature`` is ``waterTemperature`` so that it never mixes
with the air temperature of a weather station).  From them:

* ``sensor_latest`` (state, per station and metric): the latest value (``text_value`` for
  ``deviceState``), when it was observed, the reading before it, a smoothed rate of rise per
  hour, and the alert / danger levels when the event carries them (FloodMonitoring);
* ``sensor_window`` (counters, per station, metric, 10 min and 1 h): n, sum, min, max, last
  event — precipitation sums are rainfall per window.

Rate of rise (``smoothed_rise``): an exponentially weighted mean of the slopes between
consecutive readings, weighted by the time they cover, with a time constant of 30 minutes::

    slope = (v - v_prev) / dt_h;   a = 1 - exp(-dt / 30 min);   rise = rise_prev + a * (slope - rise_prev)

starting from 0.  A short interval has a small weight (``a ≈ dt / 30 min``), so a 1 cm jitter
between two readings 10 s apart moves the rate by 0.02 m/h, not 3.6 m/h; a steady rise is
reported at 63 % after 30 minutes and 86 % after an hour; after a long gap the slope over the
gap is taken almost whole.  A reading older than the stored one (late within the allowance)
counts in the windows but leaves the latest value and the rate alone.

What the readings mean (level status, salinity, VN_AQI, stale stations) is read-time logic:
``agents/indicators/sensor_kpi.py``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from agents.indicators.tally import Tally
from streams.core.windows import at_epoch, epoch_of, window_of
from streams.core.contracts import Event
from streams.core.contracts.sensor import FloodMonitoring, Observation
from streams.core.tables import CounterTable, FeedSpec, Increments, RawTable, States, StateTable, attrs_json

WINDOWS_S: tuple[int, ...] = (600, 3600)
RISE_TIME_CONSTANT = timedelta(minutes=30)

#: the attributes of each observation type that are readings (the others are facts about the station)
METRICS: dict[str, tuple[str, ...]] = {
    "WaterObserved": ("waterLevel", "flow"),
    "FloodMonitoring": ("currentLevel", "measuredDistance"),
    "WaterQualityObserved": ("salinity", "temperature", "pH", "turbidity", "conductivity"),
    "AirQualityObserved": ("pm25", "pm10", "no2", "so2", "o3", "co", "airQualityIndex"),
    "WeatherObserved": ("precipitation", "temperature", "relativeHumidity", "windSpeed", "windDirection",
                        "atmosphericPressure"),
    "Device": ("deviceState", "batteryLevel"),
}
RENAMED: dict[tuple[str, str], str] = {("WaterQualityObserved", "temperature"): "waterTemperature"}
#: readings of the station's own state, not of its surroundings (a stale station may still send them)
DEVICE_METRICS = frozenset(METRICS["Device"])

_COMMON = frozenset({"id", "type", "dateObserved", "location", "refDevice", "areaServed", "name"})


def readings(ev: Observation) -> list[tuple[str, float | None, str | None]]:
    """(metric, numeric value, text value) of each attribute the observation carries."""
    out = []
    for attr in METRICS[ev.type]:
        value = getattr(ev, attr)
        if value is None:
            continue
        metric = RENAMED.get((ev.type, attr), attr)
        if isinstance(value, str):
            out.append((metric, None, value))
        else:
            out.append((metric, float(value), None))
    return out


def smoothed_rise(prev_rise: float | None, prev_value: float | None, prev_at: datetime | None,
                  value: float | None, at: datetime, tau: timedelta = RISE_TIME_CONSTANT) -> float | None:
    """The rate of rise per hour after a reading (see the module docstring); None for text values."""
    if value is None or prev_value is None or prev_at is None or at <= prev_at:
        return prev_rise if value is not None else None
    dt = at - prev_at
    slope = (value - prev_value) / (dt / timedelta(hours=1))
    a = 1.0 - math.exp(-(dt / tau))
    rise = prev_rise or 0.0
    return rise + a * (slope - rise)


def apply_reading(row: dict[str, Any] | None, ev: Observation, metric: str, value: float | None,
                  text: str | None) -> dict[str, Any]:
    """The (station, metric) row after one reading; older readings leave it as it is."""
    at = ev.dateObserved
    if row is not None and row.get("observed_at") is not None and at <= row["observed_at"]:
        return row
    prev = row or {}
    flood = isinstance(ev, FloodMonitoring)
    return {
        "station": ev.refDevice, "metric": metric, "type": ev.type, "area": ev.areaServed,
        "lon": ev.location.lon, "lat": ev.location.lat,
        "value": value, "text_value": text, "observed_at": at,
        "prev_value": prev.get("value"), "prev_observed_at": prev.get("observed_at"),
        "rise_per_h": smoothed_rise(prev.get("rise_per_h"), prev.get("value"), prev.get("observed_at"), value, at),
        "alert_level": ev.alertLevel if flood else prev.get("alert_level"),
        "danger_level": ev.dangerLevel if flood else prev.get("danger_level"),
    }


# --- what the sensor feed writes -------------------------------------------------------------------

SENSOR_OBSERVATION = RawTable(
    "sensor_observation",
    (("time", "timestamptz"), ("id", "text"), ("type", "text"), ("station", "text"), ("area", "text"),
     ("lon", "double precision"), ("lat", "double precision"), ("values", "jsonb")),
    lambda e: (e.dateObserved, e.id, e.type, e.refDevice, e.areaServed, e.location.lon, e.location.lat,
               attrs_json(type(e), None, _COMMON)(e)),
)

SENSOR_WINDOW = CounterTable(
    "sensor_window",
    key=("station", "metric", "window_s", "time"),
    sums=("n", "sum"),
    greatest=("max", "last_event"),
    least=("min",),
)

SENSOR_LATEST = StateTable(
    "sensor_latest",
    key=("station", "metric"),
    columns=("type", "area", "lon", "lat", "value", "text_value", "observed_at", "prev_value", "prev_observed_at",
             "rise_per_h", "alert_level", "danger_level"),
    keys_of=lambda fresh: {(e.refDevice, m) for e in fresh for m, _, _ in readings(e)},  # type: ignore[arg-type]
)


def sensor_increments(fresh: Sequence[Event], states: States) -> Increments:
    incs = Increments()
    windows = Tally(SENSOR_WINDOW)
    for ev in fresh:
        assert isinstance(ev, Observation)
        seconds = None
        for metric, value, text in readings(ev):
            key = (ev.refDevice, metric)
            incs.states[key] = apply_reading(incs.states.get(key) or states.get(key), ev, metric, value, text)
            if value is None:
                continue
            if seconds is None:
                seconds = epoch_of(ev.dateObserved)
            for size in WINDOWS_S:
                windows.add({"station": ev.refDevice, "metric": metric, "window_s": size,
                             "time": at_epoch(window_of(seconds, size)), "n": 1, "sum": value, "min": value,
                             "max": value, "last_event": ev.dateObserved})
    return windows.into(incs)


SENSOR_FEED = FeedSpec("sensor", SENSOR_OBSERVATION, sensor_increments, SENSOR_LATEST, (SENSOR_WINDOW,))
