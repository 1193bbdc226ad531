import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from agents.indicators.sensor import SENSOR_FEED, SENSOR_WINDOW, readings, sensor_increments, smoothed_rise
from agents.indicators.sensor_kpi import (
    aqi_band,
    load_sensor_rules,
    rain_status,
    reading_status,
    salinity_status,
    sensor_indicators,
    station_staleness,
)
from streams.core.geography import Station
from streams.core.contracts.sensor import Device, FloodMonitoring, WaterObserved, WaterQualityObserved, WeatherObserved
from tests.agents.memory import store, stored

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
RULES = load_sensor_rules()
WL = Station("wl-rachgia", "Rạch Giá", ("water_level",), "899", 10.015, 105.095, {"alert": 0.9, "danger": 1.2})
WHERE = {"type": "Point", "coordinates": [105.095, 10.015]}


def level(minutes, value, station="wl-rachgia"):
    return WaterObserved(id=f"{station}:{minutes}", type="WaterObserved", dateObserved=T0 + timedelta(minutes=minutes),
                         location=WHERE, refDevice=station, areaServed="899", waterLevel=value)


def rain(minutes, mm, station="rain-tanhiep"):
    return WeatherObserved(id=f"{station}:{minutes}", type="WeatherObserved", location=WHERE, refDevice=station,
                           dateObserved=T0 + timedelta(minutes=minutes), precipitation=mm)


def test_readings_name_metrics_and_keep_text_apart():
    wq = WaterQualityObserved(id="q", type="WaterQualityObserved", dateObserved=T0, location=WHERE, refDevice="sal-a",
                              salinity=4.2, temperature=29.5)
    assert readings(wq) == [("salinity", 4.2, None), ("waterTemperature", 29.5, None)]
    dev = Device(id="d", type="Device", dateObserved=T0, location=WHERE, refDevice="sal-a", deviceState="fault")
    assert readings(dev) == [("deviceState", None, "fault")]


def test_rise_of_a_steady_rise_converges_as_the_time_constant_says():
    rise, prev = None, (0.0, T0)
    for k in range(1, 37):  # 0.5 m/h, a reading every 5 minutes, for 3 hours
        at, value = T0 + timedelta(minutes=5 * k), 0.5 * k / 12
        rise, prev = smoothed_rise(rise, *prev, value, at), (value, at)
    assert rise == pytest.approx(0.5 * (1 - math.exp(-6)), rel=1e-9)


def test_rise_is_robust_to_a_short_interval():
    # 1 cm between two readings 10 s apart: the slope is 3.6 m/h, the rate moves by 2 cm/h
    rise = smoothed_rise(0.0, 0.50, T0, 0.51, T0 + timedelta(seconds=10))
    assert rise == pytest.approx(3.6 * (1 - math.exp(-10 / 1800)), rel=1e-9)
    assert rise < 0.03
    assert smoothed_rise(None, None, None, 0.5, T0) is None  # the first reading: not known yet


def test_latest_reading_and_windows():
    events = [level(0, 0.50), level(5, 0.52), level(12, 0.47), rain(1, 2.0), rain(30, 5.5), rain(61, 1.0)]
    incs = sensor_increments(events, {})
    rows = {(r["station"], r["window_s"], r["time"]): r for r in incs.rows[SENSOR_WINDOW]}
    first = rows[("wl-rachgia", 600, T0)]
    assert (first["n"], first["sum"], first["min"], first["max"]) == (2, pytest.approx(1.02), 0.50, 0.52)
    hour = rows[("wl-rachgia", 3600, T0)]
    assert (hour["n"], hour["min"], hour["max"]) == (3, 0.47, 0.52)
    assert rows[("rain-tanhiep", 3600, T0)]["sum"] == 7.5  # rainfall in the hour
    assert rows[("rain-tanhiep", 3600, T0 + timedelta(hours=1))]["sum"] == 1.0
    st = incs.states[("wl-rachgia", "waterLevel")]
    assert (st["value"], st["prev_value"], st["observed_at"]) == (0.47, 0.52, T0 + timedelta(minutes=12))


def test_a_late_reading_counts_in_windows_but_leaves_the_latest_alone():
    incs = sensor_increments([level(10, 0.60)], {})
    state = incs.states
    incs = sensor_increments([level(4, 0.10)], state)
    assert incs.states[("wl-rachgia", "waterLevel")] == state[("wl-rachgia", "waterLevel")]
    assert {r["window_s"]: r["n"] for r in incs.rows[SENSOR_WINDOW]} == {600: 1, 3600: 1}


def test_flood_monitoring_levels_are_kept_and_used_when_the_province_has_none():
    fm = FloodMonitoring(id="f", type="FloodMonitoring", dateObserved=T0, location=WHERE, refDevice="wl-new",
                         measuredDistance=2.9, referenceLevel=4.0, currentLevel=1.1, alertLevel=1.0, dangerLevel=1.4,
                         floodLevelStatus="alert")
    row = sensor_increments([fm], {}).states[("wl-new", "currentLevel")]
    assert (row["alert_level"], row["danger_level"]) == (1.0, 1.4)
    assert reading_status(row, None, RULES).status == "alert"
    low = dict(row, value=0.95)
    assert reading_status(low, None, RULES).status == "normal"
    assert reading_status(low, WL, RULES).status == "alert"  # the province file's levels come first (0.9 / 1.2)


def test_thresholds_from_the_rules_file():
    assert [salinity_status(v, RULES) for v in (0.5, 1.0, 3.9, 4.0)] == ["normal", "alert", "alert", "danger"]
    estuary = Station("sal-x", "x", ("salinity",), "908", 9.87, 105.08, {"salinity_danger": 30.0})
    assert salinity_status(26, RULES, estuary) == "alert"
    assert [aqi_band(v, RULES).band for v in (50, 51, 150, 151, 301)] == ["good", "moderate", "poor", "bad",
                                                                         "hazardous"]
    assert [rain_status(mm, RULES) for mm in (10, 30, 55)] == ["normal", "alert", "danger"]


def test_rate_of_rise_breach_raises_the_status():
    row = {"station": "wl-rachgia", "metric": "waterLevel", "value": 0.5, "rise_per_h": 0.35}
    st = reading_status(row, WL, RULES)
    assert (st.status, st.reasons) == ("alert", ("rise",))
    assert reading_status(dict(row, rise_per_h=0.1), WL, RULES).status == "normal"


def test_stale_stations_ignore_device_heartbeats():
    rain_st = Station("rain-a", "a", ("rain",), "904", 10.1, 105.2)
    quiet = Station("aq-b", "b", ("air",), "899", 10.0, 105.0)
    rows = [
        {"station": "wl-rachgia", "metric": "waterLevel", "observed_at": T0 - timedelta(minutes=14), "value": 0.5},
        {"station": "rain-a", "metric": "precipitation", "observed_at": T0 - timedelta(minutes=16), "value": 0.0},
        {"station": "rain-a", "metric": "deviceState", "observed_at": T0, "text_value": "ok"},
    ]
    got = {s.station: s for s in station_staleness(rows, [WL, rain_st, quiet], RULES, T0)}
    assert (got["wl-rachgia"].stale, got["rain-a"].stale, got["aq-b"].stale) == (False, True, True)
    assert got["rain-a"].minutes_since(T0) == 16
    ind = sensor_indicators(rows, [WL, rain_st], T0, RULES)
    assert ind["sensor.water_level"] == {"wl-rachgia": 0.5}
    assert ind["sensor.stale_minutes"] == {"wl-rachgia": 14, "rain-a": 16}


def test_danger_margins_use_each_station_own_line():
    # the same readings mean different things at different stations
    hatien = Station("wl-gt", "Giang Thành", ("water_level",), "914", 10.47, 104.7, {"alert": 1.1, "danger": 1.5})
    estuary = Station("sal-cl", "Cửa Cái Lớn", ("salinity",), "908", 9.87, 105.08,
                      {"salinity_alert": 28, "salinity_danger": 32})
    inland = Station("sal-gq", "Gò Quao", ("salinity",), "907", 9.75, 105.27)
    sent = Station("wl-x", "x", ("water_level",), "905", 9.9, 105.1)  # no levels in the province file
    rows = [{"station": code, "metric": metric, "observed_at": T0, "value": value, **extra}
            for code, metric, value, extra in [
                ("wl-rachgia", "waterLevel", 1.3, {}), ("wl-gt", "waterLevel", 1.3, {}),
                ("sal-cl", "salinity", 20.0, {}), ("sal-gq", "salinity", 5.0, {}),
                ("wl-x", "currentLevel", 1.0, {"alert_level": 0.8, "danger_level": 0.95})]]
    ind = sensor_indicators(rows, [WL, hatien, estuary, inland, sent], T0, RULES)
    assert ind["sensor.water_level_over_danger"] == pytest.approx({"wl-rachgia": 0.1, "wl-gt": -0.2, "wl-x": 0.05})
    assert ind["sensor.salinity_over_danger"] == pytest.approx({"sal-cl": -12.0, "sal-gq": 1.0})
    assert salinity_status(20.0, RULES, estuary) == "normal" and salinity_status(5.0, RULES, inland) == "danger"


async def test_replays_and_batching_change_nothing():
    events = [level(m, 0.4 + 0.01 * (m % 7)) for m in range(0, 240, 5)] + [rain(m, 1.5) for m in range(0, 240, 10)]
    events.sort(key=lambda e: e.dateObserved)
    once = stored(await store(SENSOR_FEED, events))
    cut = [events[i:i + 7] for i in range(0, len(events), 7)]
    shuffled = list(events)
    random.Random(3).shuffle(shuffled)
    again = stored(await store(SENSOR_FEED, *cut, events, shuffled, events[:10] + events[:10]))
    assert again == once
