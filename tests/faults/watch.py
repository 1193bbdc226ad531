"""What the people watching saw during a fault run: the wall's banner and the meta-alerts.

- **The wall.** Every refresh period (``IOC_DASH_REFRESH_S``) the wall's own code reads a snapshot
  of the run's database (``ioc_dash.repository.Repository`` through ``SnapshotCache``, one pool
  kept for the whole run, as ``ioc dash`` keeps it) and judges it (``ioc_dash.figures.freshness``):
  fresh, or the stale banner with its reason.  The age of the newest stored event is kept too.
- **The meta-alerts.** A private Prometheus scrapes the run's workers (their ``/metrics`` on one
  port, ``IOC_METRICS_PORT``, so a restarted worker is the same target) every second and evaluates
  the production rules (``deploy/prometheus/rules/``) with their ``for:`` as they are; every alert
  it reports pending or firing is kept with when it was first seen in each state.

``Watch.summary(since)`` gives both relative to the fault (``time.monotonic()`` of it), for the
fault report and ``docs/reliability.md``."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ioc_dash.figures import freshness
from ioc_dash.repository import SnapshotCache, wall_repository
from streams.core.geography import load_province
from streams.core.settings import Settings
from tests.support import ROOT, PrometheusProcess, free_port

RULES = ROOT / "deploy" / "prometheus" / "rules"
#: rules about processes a fault run does not start (the alert engine, the wall, the notifier): absent,
#: they are pending from the first evaluation, whatever the fault
ABSENT = frozenset({"IocAlertEngineNotEvaluating", "IocWallDown", "IocProcessDown", "IocWallSnapshotStale",
                    "IocNotifyBacklog", "IocNotificationsGivenUp", "IocAlertRulesInvalid", "IocSocLinkDown"})


@dataclass(frozen=True)
class WallSample:
    at: float  # time.monotonic()
    reason: str | None  # the stale banner's reason; None: the wall showed no banner
    newest_age_s: float | None  # how old the newest stored event was


class Watch(threading.Thread):
    """Samples the wall and the meta-alerts from ``start()`` until ``stop()``."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        super().__init__(daemon=True, name="fault-watch")
        self.worker_port = free_port()
        self.period = settings.dash_refresh_s
        self.stale_after = timedelta(seconds=settings.stale_after_s)
        self.repo = wall_repository(settings.dsn, load_province(settings.province_file))
        self.cache = SnapshotCache(self.repo.snapshot, 0)
        self.prometheus = PrometheusProcess(folder / "prometheus", [self.worker_port], rules=[RULES / "*.yml"])
        self.wall: list[WallSample] = []
        self.alerts: dict[tuple[str, str], float] = {}  # (name, state) -> first seen (time.monotonic())
        self.errors: list[str] = []
        self._done = threading.Event()

    @property
    def worker_env(self) -> dict[str, str]:
        """For ``FaultRun.start_worker``: the port Prometheus scrapes."""
        return {"IOC_METRICS_PORT": str(self.worker_port)}

    def run(self) -> None:
        while not self._done.is_set():
            started = time.monotonic()
            try:
                snap = self.cache.get()
                fresh = freshness(snap, stale_after=self.stale_after)
                age = (snap.taken_at - fresh.newest).total_seconds() if fresh.newest else None
                self.wall.append(WallSample(started, fresh.reason, age))
                for key in self.meta_alerts():
                    self.alerts.setdefault(key, time.monotonic())
            except Exception as exc:  # reported by summary(): a watch that saw nothing must not pass
                self.errors.append(repr(exc))
            self._done.wait(max(0.0, started + self.period - time.monotonic()))

    def meta_alerts(self) -> list[tuple[str, str]]:
        """(alert name, pending | firing) of every active alert but those of ``ABSENT``."""
        alerts = self.prometheus.api("alerts")["alerts"]
        return [(a["labels"]["alertname"], a["state"]) for a in alerts if a["labels"]["alertname"] not in ABSENT]

    def stop(self) -> None:
        """Stop sampling, Prometheus and the wall's pool (again: nothing more)."""
        if self._done.is_set():
            return
        self._done.set()
        if self.is_alive():
            self.join(30)
        self.prometheus.stop()
        self.repo.close()

    def summary(self, since: float, until: float | None = None) -> dict[str, Any]:
        """The wall's banners and the meta-alerts from ``since`` (the fault) to ``until`` (default:
        the last sample), times in seconds after ``since``."""
        samples = [s for s in self.wall if s.at >= since and (until is None or s.at <= until)]
        assert samples, f"the watch saw nothing of the fault; errors: {self.errors[-3:]}"
        banners: list[dict[str, Any]] = []
        before = None
        for s in samples:  # runs of the same banner
            if s.reason is not None:
                if s.reason == before:
                    banners[-1]["to_s"] = round(s.at - since, 1)
                else:
                    banners.append({"reason": s.reason, "from_s": round(s.at - since, 1),
                                    "to_s": round(s.at - since, 1)})
            before = s.reason
        ages = [s.newest_age_s for s in samples if s.newest_age_s is not None]
        alerts = {f"{name} {state}": round(at - since, 1) for (name, state), at in sorted(self.alerts.items(),
                                                                                          key=lambda kv: kv[1])}
        return {"wall_samples": len(samples), "wall_every_s": self.period, "wall_banners": banners,
                "wall_newest_age_max_s": round(max(ages), 1) if ages else None, "meta_alerts": alerts,
                "watch_errors": len(self.errors)}


def describe(summary: dict[str, Any]) -> tuple[str, str]:
    """The report's two cells: what the wall showed, which meta-alerts were pending or fired."""
    banners = summary["wall_banners"]
    wall = ("no banner" if not banners else
            "; ".join(f"banner “{b['reason']}” {b['from_s']}–{b['to_s']} s" for b in banners))
    wall += f" (newest event at most {summary['wall_newest_age_max_s']} s old)"
    alerts = summary["meta_alerts"]
    return wall, ("none" if not alerts else ", ".join(f"{k} at {v} s" for k, v in alerts.items()))
