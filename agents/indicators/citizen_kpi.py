"""Citizen-report KPIs at read time: backlog per agency, response times, satisfaction, hot spots.

* backlog (from ``citizen_report`` rows and now): *open* = not closed; *awaiting* = open and not
  answered yet; of those with a deadline, *overdue* after it and *due soon* within
  min(1 day, 20 % of the time allowed since the report) (``agents.indicators.deadlines``);
* service (from ``citizen_agency_day`` rows of a period): responses, late responses, response
  time p50 / p95 in minutes (merged histograms, within 5 %), ratings, mean rating and
  satisfaction share = ratings ≥ 4 / ratings;
* hot spots: open reports per unit, or per grid cell of about ``cell_km`` (cells of
  ``cell_km / 111.32`` degrees of latitude and the same number of kilometres in longitude at the
  cell's latitude), the busiest first, with the cell's centre for the map.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.core import sketch
from agents.indicators.citizen import NO_AGENCY
from agents.indicators.deadlines import DueSoon, due_status

KM_PER_DEGREE = 111.32


@dataclass(slots=True)
class AgencyBacklog:
    open: int = 0
    awaiting: int = 0
    overdue: int = 0
    due_soon: int = 0


def agency_backlog(rows: Iterable[Mapping[str, Any]], now: datetime,
                   rule: DueSoon = DueSoon()) -> dict[str, AgencyBacklog]:
    out: dict[str, AgencyBacklog] = {}
    for row in rows:
        if row["status"] == "closed":
            continue
        b = out.setdefault(row.get("agency") or NO_AGENCY, AgencyBacklog())
        b.open += 1
        if row.get("responded_at") is not None:
            continue
        b.awaiting += 1
        if row.get("deadline") is not None:
            status = due_status(row["reported_at"], row["deadline"], now, rule)
            b.overdue += status == "late"
            b.due_soon += status == "due_soon"
    return out


@dataclass(frozen=True, slots=True)
class AgencyService:
    responded: int
    responded_late: int
    p50_minutes: float | None
    p95_minutes: float | None
    ratings: int
    satisfied: int
    rating_mean: float | None
    satisfaction_share: float | None


def agency_service(rows: Iterable[Mapping[str, Any]]) -> dict[str, AgencyService]:
    """Per agency, from its ``citizen_agency_day`` rows (sum them over the period you want)."""
    acc: dict[str, dict[str, Any]] = {}
    for row in rows:
        a = acc.setdefault(row["agency"], {"responded": 0, "responded_late": 0, "ratings": 0, "rating_sum": 0,
                                           "satisfied": 0, "hist": None})
        for c in ("responded", "responded_late", "ratings", "rating_sum", "satisfied"):
            a[c] += row[c]
        a["hist"] = sketch.merge(a["hist"], row["response_minutes_hist"])
    return {
        agency: AgencyService(
            a["responded"], a["responded_late"], sketch.quantile(a["hist"], 0.5), sketch.quantile(a["hist"], 0.95),
            a["ratings"], a["satisfied"], a["rating_sum"] / a["ratings"] if a["ratings"] else None,
            a["satisfied"] / a["ratings"] if a["ratings"] else None,
        )
        for agency, a in acc.items()
    }


def satisfaction_share(service: Mapping[str, AgencyService]) -> float | None:
    """The province's share of satisfied ratings, over every agency."""
    ratings = sum(s.ratings for s in service.values())
    return sum(s.satisfied for s in service.values()) / ratings if ratings else None


@dataclass(frozen=True, slots=True)
class HotSpot:
    key: str
    open: int
    lat: float | None
    lon: float | None


def _steps(row: int, cell_km: float) -> tuple[float, float]:
    """Degrees of latitude and longitude of a cell in grid row ``row``."""
    dlat = cell_km / KM_PER_DEGREE
    return dlat, dlat / max(0.01, math.cos(math.radians((row + 0.5) * dlat)))


def cell_of(lat: float, lon: float, cell_km: float = 1.0) -> tuple[int, int]:
    """The grid cell (row, column) of a point; columns are about ``cell_km`` wide at its latitude."""
    row = math.floor(lat / (cell_km / KM_PER_DEGREE))
    return row, math.floor(lon / _steps(row, cell_km)[1])


def cell_centre(row: int, col: int, cell_km: float = 1.0) -> tuple[float, float]:
    dlat, dlon = _steps(row, cell_km)
    return (row + 0.5) * dlat, (col + 0.5) * dlon


def hot_spots(rows: Iterable[Mapping[str, Any]], *, by: str = "cell", cell_km: float = 1.0,
              limit: int | None = None) -> list[HotSpot]:
    """Open reports per ``unit`` or per ``cell`` (reports without a place count only per unit)."""
    counts: dict[str, list[Any]] = {}
    for row in rows:
        if row["status"] == "closed":
            continue
        if by == "unit":
            key, lat, lon = row["unit_code"], None, None
        elif row.get("lat") is None:
            continue
        else:
            r, c = cell_of(row["lat"], row["lon"], cell_km)
            key, (lat, lon) = f"{r}:{c}", cell_centre(r, c, cell_km)
        counts.setdefault(key, [0, lat, lon])[0] += 1
    spots = sorted((HotSpot(k, n, lat, lon) for k, (n, lat, lon) in counts.items()), key=lambda h: (-h.open, h.key))
    return spots[:limit] if limit else spots


def citizen_indicators(backlog: Mapping[str, AgencyBacklog]) -> dict[str, dict[str, float]]:
    """Values of the ``citizen.*`` alert indicators per agency."""
    return {"citizen.overdue": {a: float(b.overdue) for a, b in backlog.items()}}
