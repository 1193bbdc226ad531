"""What every page's callbacks share: the snapshot cache, the data files, and the views of a snapshot.

Thirty screens read one snapshot per period (``SnapshotCache``); ``Views`` also computes each
view of that snapshot once — system statuses, station statuses, dossier KPIs, map points —
whichever screen asks first, so the wall's CPU, too, does not grow with the number of screens.
The views are the pure functions of the ``figures*`` modules.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from agents.indicators.health import HealthStatus, StatusRules
from agents.indicators.plan import Plan, Plans
from agents.indicators.producers import ProducerHealth, SourceRules, producer_healths
from agents.indicators.register import Policy
from agents.indicators.sensor_kpi import SensorRules
from ioc_dash import figures, figures_map
from ioc_dash.figures_env import StationView, station_views
from ioc_dash.figures_security import CoverageRow, snapshot_coverage, weigh_counts
from ioc_dash.figures_services import ServicesView, services_view
from ioc_dash.geo import LatLon
from ioc_dash.repository import Snapshot, SnapshotCache
from streams.core.clock import LOCAL_TZ
from streams.core.geography import Province

T = TypeVar("T")


class Views:
    """Values computed once per snapshot (the last snapshot only)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a view may use another
        self._snapshot: Snapshot | None = None
        self._values: dict[Any, Any] = {}
        self._static: dict[Any, Any] = {}
        self.computed = 0

    def get_static(self, key: Any, compute: Callable[[], T]) -> T:
        """A value that does not depend on the snapshot, computed once."""
        with self._lock:
            if key not in self._static:
                self._static[key] = compute()
            return self._static[key]

    def get(self, snapshot: Snapshot, key: Any, compute: Callable[[], T]) -> T:
        with self._lock:
            if self._snapshot is not snapshot:
                self._snapshot, self._values = snapshot, {}
            if key not in self._values:
                self._values[key] = compute()
                self.computed += 1
            return self._values[key]


@dataclass(frozen=True)
class WallContext:
    cache: SnapshotCache
    province: Province
    stale_after: timedelta
    families: list[str]
    sensor_rules: SensorRules
    plans: Plans  # the wall shows the plan in effect on the snapshot's local day
    status_rules: StatusRules
    outline: dict[str, Any] | None = None
    places: dict[str, LatLon] = field(default_factory=dict)
    rule_pages: dict[str, str] = field(default_factory=dict)  # alert rule -> page key
    night_watch: tuple[int, int] | None = None  # local hours of the border page's night watch
    register_policy: Policy = field(default_factory=Policy)  # agents/indicators/data/register.yaml
    source_rules: SourceRules = field(default_factory=SourceRules)  # agents/indicators/data/sources.yaml
    views: Views = field(default_factory=Views)

    def producers(self, snap: Snapshot) -> list[ProducerHealth]:
        """Every producer's four checks (the sources page; the pager's source.quiet judges the same way)."""
        return self.views.get(snap, "producers", lambda: producer_healths(
            snap.producers, snap.producer_history, snap.taken_at, self.source_rules))

    def producer_names(self) -> dict[str, str]:
        """Code -> name of everything that can send a feed: the province's entities and security devices."""
        return self.views.get_static("producer_names", lambda: {
            **self.province.names(),
            **{d["code"]: d["name"] for d in self.province.extra.get("security_devices") or () if "name" in d}})

    def statuses(self, snap: Snapshot) -> list[HealthStatus]:
        return self.views.get(snap, "statuses", lambda: figures.system_statuses(
            snap, self.province, rules=self.status_rules))

    def stations(self, snap: Snapshot) -> list[StationView]:
        return self.views.get(snap, "stations", lambda: station_views(snap, self.province, self.sensor_rules))

    @staticmethod
    def day_of(snap: Snapshot) -> date:
        return snap.taken_at.astimezone(LOCAL_TZ).date()

    def plan(self, snap: Snapshot) -> Plan | None:
        """The plan in effect on the snapshot's local day, None when no plan file covers it."""
        return self.plans.in_effect(self.day_of(snap))

    def services(self, snap: Snapshot) -> ServicesView:
        return self.views.get(snap, "services", lambda: services_view(
            snap, self.plan(snap), [s.code for s in self.province.systems], self.province.procedures))

    def finding_counts(self, snap: Snapshot) -> list[dict[str, Any]]:
        """Findings of the last 24 h per severity (weighted by the target's security level) and layer."""
        return self.views.get(snap, "finding_counts", lambda: weigh_counts(
            snap.finding_counts, snap.register, self.register_policy))

    def coverage(self, snap: Snapshot) -> list[CoverageRow] | None:
        return self.views.get(snap, "coverage", lambda: snapshot_coverage(
            snap, self.province.systems, self.register_policy))

    def map_points(self, snap: Snapshot, lang: str) -> list[figures_map.MapPoint]:
        def compute() -> list[figures_map.MapPoint]:
            now = snap.taken_at
            return (figures_map.camera_points(snap.cameras, self.province, now)
                    + figures_map.report_points(snap.citizen_open, now)
                    + figures_map.sensor_points(self.stations(snap))
                    + figures_map.incident_points(snap.alerts, self.places, now, lang))
        return self.views.get(snap, ("map_points", lang), compute)
