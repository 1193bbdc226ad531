"""What sensor readings mean, at read time: level, salinity, VN_AQI, rain, rise, stale stations.

Inputs are rows of ``sensor_latest`` (dicts of its columns), the 1-hour ``sensor_window``
precipitation sums, the stations of the province file and ``SensorRules`` — thresholds kept as
data in ``agents/indicators/data/sensor_rules.yaml`` (each documented there) and loaded by
``load_sensor_rules`` at the entry point.  A station may override a number with a parameter
of the same name in the province file.  Statuses are ``normal`` < ``alert`` < ``danger``.

Water-level status uses the station's ``alert`` / ``danger`` levels from the province file (the
levels operators maintain) and falls back on the levels the station's last FloodMonitoring event
carried.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from agents.indicators.registry import INDICATORS
from agents.indicators.sensor import DEVICE_METRICS
from streams.core.errors import ConfigError
from streams.core.contracts.sensor import flood_status

if TYPE_CHECKING:
    from streams.core.geography import Station

DEFAULT_RULES = Path(__file__).with_name("data") / "sensor_rules.yaml"
LEVEL_METRICS = ("waterLevel", "currentLevel")
STATUS_RANK = {"normal": 0, "alert": 1, "danger": 2}
BAD_DEVICE_STATES = ("fault", "low_battery")


@dataclass(frozen=True, slots=True)
class AqiBand:
    max: int
    band: str
    status: str


@dataclass(frozen=True, slots=True)
class SensorRules:
    salinity_alert: float
    salinity_danger: float
    aqi_bands: tuple[AqiBand, ...]
    rain_alert: float
    rain_danger: float
    rise_per_h: Mapping[str, float]
    expected_interval_s: Mapping[str, float]
    stale_factor: float


def load_sensor_rules(path: Path = DEFAULT_RULES) -> SensorRules:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        bands = tuple(AqiBand(int(b["max"]), str(b["band"]), str(b["status"])) for b in doc["vn_aqi"])
        rules = SensorRules(
            salinity_alert=float(doc["salinity"]["alert"]), salinity_danger=float(doc["salinity"]["danger"]),
            aqi_bands=bands,
            rain_alert=float(doc["rain_mm_per_h"]["alert"]), rain_danger=float(doc["rain_mm_per_h"]["danger"]),
            rise_per_h={str(k): float(v) for k, v in doc["rise_per_h"].items()},
            expected_interval_s={str(k): float(v) for k, v in doc["expected_interval_s"].items()},
            stale_factor=float(doc["stale_factor"]),
        )
    except FileNotFoundError:
        raise ConfigError(f"sensor rules not found: {path}") from None
    except (yaml.YAMLError, TypeError, KeyError, ValueError) as exc:
        raise ConfigError(f"sensor rules {path}: bad or missing entry: {exc}") from None
    if [b.max for b in bands] != sorted(b.max for b in bands) or any(b.status not in STATUS_RANK for b in bands):
        raise ConfigError(f"sensor rules {path}: vn_aqi bands must rise, with statuses among {', '.join(STATUS_RANK)}")
    return rules


def _param(station: Station | None, name: str, default: float) -> float:
    return station.params.get(name, default) if station is not None else default


def worst(statuses: Iterable[str | None]) -> str | None:
    known = [s for s in statuses if s is not None]
    return max(known, key=STATUS_RANK.__getitem__) if known else None


def station_levels(row: Mapping[str, Any], station: Station | None) -> tuple[float, float] | None:
    """(alert, danger) water levels: the province file's, else the ones the station last sent."""
    if station is not None and "alert" in station.params and "danger" in station.params:
        return station.params["alert"], station.params["danger"]
    if row.get("alert_level") is not None and row.get("danger_level") is not None:
        return row["alert_level"], row["danger_level"]
    return None


def level_status(value: float, row: Mapping[str, Any], station: Station | None) -> str | None:
    levels = station_levels(row, station)
    return flood_status(value, *levels) if levels else None


def salinity_status(value: float, rules: SensorRules, station: Station | None = None) -> str:
    return flood_status(value, _param(station, "salinity_alert", rules.salinity_alert),
                        _param(station, "salinity_danger", rules.salinity_danger))


def aqi_band(index: float, rules: SensorRules) -> AqiBand:
    for band in rules.aqi_bands:
        if index <= band.max:
            return band
    return rules.aqi_bands[-1]


def rain_status(mm_last_hour: float, rules: SensorRules, station: Station | None = None) -> str:
    return flood_status(mm_last_hour, _param(station, "rain_alert", rules.rain_alert),
                        _param(station, "rain_danger", rules.rain_danger))


def rise_limit(metric: str, rules: SensorRules, station: Station | None = None) -> float | None:
    default = rules.rise_per_h.get(metric)
    return _param(station, "rise_per_h", default) if default is not None else None


def rise_breach(row: Mapping[str, Any], rules: SensorRules, station: Station | None = None) -> bool:
    limit = rise_limit(row["metric"], rules, station)
    return limit is not None and row.get("rise_per_h") is not None and row["rise_per_h"] >= limit


@dataclass(frozen=True, slots=True)
class ReadingStatus:
    station: str
    metric: str
    value: float | None
    text_value: str | None
    observed_at: datetime | None
    rise_per_h: float | None
    status: str | None  # None: no threshold applies to this metric
    reasons: tuple[str, ...] = ()
    band: str | None = None  # VN_AQI band


def reading_status(row: Mapping[str, Any], station: Station | None, rules: SensorRules) -> ReadingStatus:
    """The status of one ``sensor_latest`` row, with the reasons that raised it."""
    metric, value = row["metric"], row.get("value")
    found: list[tuple[str, str]] = []
    band = None
    if value is not None:
        if metric in LEVEL_METRICS:
            found.append(("level", level_status(value, row, station)))
        elif metric == "salinity":
            found.append(("salinity", salinity_status(value, rules, station)))
        elif metric == "airQualityIndex":
            b = aqi_band(value, rules)
            band = b.band
            found.append(("vn_aqi", b.status))
        if rules.rise_per_h.get(metric) is not None:
            found.append(("rise", "alert" if rise_breach(row, rules, station) else "normal"))
    elif metric == "deviceState":
        found.append(("device", "alert" if row.get("text_value") in BAD_DEVICE_STATES else "normal"))
    status = worst(s for _, s in found)
    reasons = tuple(r for r, s in found if s is not None and STATUS_RANK[s] > 0)
    return ReadingStatus(row["station"], metric, value, row.get("text_value"), row.get("observed_at"),
                         row.get("rise_per_h"), status, reasons, band)


# --- stale stations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Staleness:
    station: str
    last_value_at: datetime | None
    expected: timedelta
    stale: bool

    def minutes_since(self, now: datetime) -> float | None:
        return None if self.last_value_at is None else (now - self.last_value_at) / timedelta(minutes=1)


def expected_interval(station: Station, rules: SensorRules) -> timedelta:
    """The station's own ``interval_s``, else the shortest default of its kinds (10 min if none)."""
    if "interval_s" in station.params:
        return timedelta(seconds=station.params["interval_s"])
    known = [rules.expected_interval_s[k] for k in station.kinds if k in rules.expected_interval_s]
    return timedelta(seconds=min(known, default=600))


def station_staleness(rows: Iterable[Mapping[str, Any]], stations: Iterable[Station], rules: SensorRules,
                      now: datetime) -> list[Staleness]:
    """Per station of the province file: stale when no reading (device state aside) came within
    its expected interval × ``stale_factor``; a station never heard from is stale."""
    last: dict[str, datetime] = {}
    for row in rows:
        at = row.get("observed_at")
        if row["metric"] not in DEVICE_METRICS and at is not None and (row["station"] not in last or
                                                                        at > last[row["station"]]):
            last[row["station"]] = at
    out = []
    for st in stations:
        expected = expected_interval(st, rules)
        seen = last.get(st.code)
        out.append(Staleness(st.code, seen, expected, seen is None or now - seen > expected * rules.stale_factor))
    return out


INDICATOR_NAMES = tuple(k for k in INDICATORS if k.startswith("sensor."))


def sensor_indicators(rows: Iterable[Mapping[str, Any]], stations: Iterable[Station], now: datetime,
                      rules: SensorRules) -> dict[str, dict[str, float]]:
    """Values of the ``sensor.*`` alert indicators (agents/indicators/registry.py), per station.

    ``*_over_danger`` measure a reading against the station's own danger line (the province
    file's, else the levels the station sent, else the rules' default): a water level of 1.3 m
    is a flood at Tắc Cậu (danger 1.2 m) and not at Giang Thành (1.5 m), and 20 ‰ is the sea at
    an estuary but ruin for rice at Gò Quao."""
    stations = list(stations)
    by_code = {st.code: st for st in stations}
    rows = list(rows)
    out: dict[str, dict[str, float]] = {k: {} for k in INDICATOR_NAMES}
    wanted = {"waterLevel": ("sensor.water_level", "sensor.water_rise_per_h"),
              "currentLevel": ("sensor.water_level", "sensor.water_rise_per_h"),
              "salinity": ("sensor.salinity", None), "airQualityIndex": ("sensor.aqi", None)}
    for row in sorted(rows, key=lambda r: r["metric"] != "waterLevel"):  # waterLevel first, it wins
        names = wanted.get(row["metric"])
        if names is None or row.get("value") is None:
            continue
        value_name, rise_name = names
        station, value = row["station"], row["value"]
        if rise_name and row.get("rise_per_h") is not None:
            out[rise_name].setdefault(station, row["rise_per_h"])
        if station in out[value_name]:
            continue
        out[value_name][station] = value
        if value_name == "sensor.water_level":
            levels = station_levels(row, by_code.get(station))
            if levels is not None:
                out["sensor.water_level_over_danger"][station] = round(value - levels[1], 4)
        elif value_name == "sensor.salinity":
            danger = _param(by_code.get(station), "salinity_danger", rules.salinity_danger)
            out["sensor.salinity_over_danger"][station] = round(value - danger, 4)
    for s in station_staleness(rows, stations, rules, now):
        minutes = s.minutes_since(now)
        if minutes is not None:
            out["sensor.stale_minutes"][s.station] = minutes
    return out
