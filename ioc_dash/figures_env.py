"""Environment: water level, salinity, rain and air per station, with their statuses.

Statuses come from ``agents.indicators.sensor_kpi`` (thresholds in ``agents/indicators/data/sensor_rules.yaml`` and
the province file): ``normal`` < ``alert`` < ``danger``; a station that has not reported within
its expected interval is *stale* whatever its last values said.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dash import dcc, html

from agents.indicators.sensor_kpi import (LEVEL_METRICS, STATUS_RANK, ReadingStatus, SensorRules, rain_status, reading_status,
                               station_levels, station_staleness, worst)
from agents.indicators.history import Entity, entity_href
from ioc_dash.figures import LEVEL_BADGE, ago, badge, data_table, num
from ioc_dash.i18n import t
from ioc_dash.repository import Snapshot
from streams.core.geography import Province, Station

KINDS = ("water_level", "salinity", "rain", "air")
KIND_TITLES = {"water_level": "env_water_level", "salinity": "env_salinity", "rain": "env_rain", "air": "env_air"}


@dataclass(frozen=True)
class StationView:
    station: Station
    status: str | None  # worst reading status (None: nothing to judge yet)
    stale: bool
    last: datetime | None
    readings: dict[str, ReadingStatus] = field(default_factory=dict)
    rain_mm: float | None = None
    levels: tuple[float, float] | None = None  # water-level alert and danger levels

    @property
    def level(self) -> ReadingStatus | None:
        return self.readings.get("waterLevel") or self.readings.get("currentLevel")

    @property
    def state(self) -> str:
        """What the map and the badges show: ``stale``, else the status (``normal`` when none applies)."""
        return "stale" if self.stale else (self.status or "normal")

    def value(self, *metrics: str) -> float | None:
        for m in metrics:
            r = self.readings.get(m)
            if r is not None and r.value is not None:
                return r.value
        return None


def station_views(snapshot: Snapshot, province: Province, rules: SensorRules) -> list[StationView]:
    """Every station of the province file, with its readings, rain over the last hour and status."""
    by_station: dict[str, list[Mapping[str, Any]]] = {}
    for row in snapshot.sensors:
        by_station.setdefault(row["station"], []).append(row)
    stale = {s.station: s for s in station_staleness(snapshot.sensors, province.stations, rules, snapshot.taken_at)}
    out = []
    for st in province.stations:
        readings = {r["metric"]: reading_status(r, st, rules) for r in by_station.get(st.code, [])}
        statuses = [r.status for r in readings.values()]
        mm = snapshot.rain_1h.get(st.code)
        if mm is not None:
            statuses.append(rain_status(mm, rules, st))
        levels = next((station_levels(r, st) for r in by_station.get(st.code, []) if r["metric"] in LEVEL_METRICS),
                      station_levels({}, st))
        out.append(StationView(st, worst(statuses), stale[st.code].stale, stale[st.code].last_value_at, readings, mm,
                               levels))
    return out


def status_badge(view: StationView, lang: str) -> html.Span:
    state = view.state
    return badge(t(f"level_{state}", lang), "unknown" if state == "stale" else LEVEL_BADGE[state])


def _levels(view: StationView, lang: str) -> str:
    return f"{view.levels[0]:.2f} / {view.levels[1]:.2f}" if view.levels else "—"


def _band(view: StationView, lang: str) -> str:
    r = view.readings.get("airQualityIndex")
    return t(f"band_{r.band}", lang) if r is not None and r.band else "—"


Column = tuple[str, Callable[[StationView, str], Any], bool]  # heading key, cell, numeric

COLUMNS: dict[str, list[Column]] = {
    "water_level": [
        ("level_m", lambda v, _: num(v.value("waterLevel", "currentLevel"), 2), True),
        ("alert_danger_m", _levels, True),
        ("rise_m_h", lambda v, _: num(v.level.rise_per_h if v.level else None, 2), True),
    ],
    "salinity": [("salinity_ppt", lambda v, _: num(v.value("salinity"), 1), True)],
    "rain": [("rain_mm_1h", lambda v, _: num(v.rain_mm, 1), True),
             ("temperature_c", lambda v, _: num(v.value("temperature"), 1), True)],
    "air": [("vn_aqi", lambda v, _: num(v.value("airQualityIndex")), True),
            ("aqi_band", _band, False),
            ("pm25", lambda v, _: num(v.value("pm25"), 1), True)],
}


def kind_views(views: list[StationView], kind: str) -> list[StationView]:
    """Stations of a kind (weather stations count as rain), worst first."""
    kinds = ("rain", "weather") if kind == "rain" else (kind,)
    chosen = [v for v in views if any(k in v.station.kinds for k in kinds)]
    return sorted(chosen, key=lambda v: (-STATUS_RANK.get(v.status or "normal", 0), not v.stale, v.station.name))


def kind_table(views: list[StationView], kind: str, now: datetime, lang: str) -> html.Table:
    cols = COLUMNS[kind]
    shown = kind_views(views, kind)
    head = [t("station", lang), *(t(c[0], lang) for c in cols), t("status", lang), t("last_event", lang)]
    rows = [[dcc.Link(v.station.name, title=v.station.name, className="entity-link",
                      href=entity_href(Entity("station", v.station.code), lang=lang)), *(c[1](v, lang) for c in cols), status_badge(v, lang),
             ago(v.last, now, lang)]
            for v in shown]
    numeric = [i + 1 for i, c in enumerate(cols) if c[2]] + [len(cols) + 2]
    return data_table(head, rows, id=f"env-{kind}-table", numeric=numeric, empty=t("none", lang),
                      row_ids=[{"type": "station-row", "station": v.station.code} for v in shown])


def status_counts(views: list[StationView]) -> dict[str, int]:
    counts = {"normal": 0, "alert": 0, "danger": 0, "stale": 0}
    for v in views:
        counts[v.state] += 1
    return counts
