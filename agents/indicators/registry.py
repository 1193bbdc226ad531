"""What an alert rule may watch: indicator name -> its entity kind and meaning.

The evaluator reads each indicator's current value per entity from TimescaleDB; this
registry is what rule files are validated against.
"""
from __future__ import annotations

from agents.indicators.register import INDICATORS as REGISTER_INDICATORS
from streams.core.families import FAMILIES

INDICATORS: dict[str, str] = {
    # the wall's status of each system (agents/indicators/data/status.yaml, agents.indicators.health.health_status)
    "health.down": "system: 1 when down (its probes have kept failing: it does not answer), else 0",
    "health.degraded": "system: 1 when degraded (availability, error rate or p95 past the status thresholds), else 0",
    "health.stale": "system: 1 when stale (no probe nor request for a while), else 0",
    # the values the wall shows, over the status window (5 minutes); page on the statuses above
    "health.availability": "system: share of successful probes over the status window (0–1)",
    "health.error_rate": "system: share of requests answered 5xx over the status window (0–1)",
    "health.p95_ms": "system: request latency p95 over the status window (ms)",
    "security.auth_failures": "source address: failed logins in the last 5 minutes",
    "security.findings_critical": "target: critical security findings in the last 15 minutes",
    "camera.offline": "camera: 1 when offline (reported offline for a minute, or silent for 2 missed "
                      "heartbeats + 60 s; heartbeat interval per camera model or site in the province file, "
                      "300 s by default), else 0",
    "camera.intrusions": "border zone of the province file: new intrusion tracks (FieldDetector/ObjectsInside) "
                         "on its cameras over the last 60 minutes, rolling",
    "sensor.water_level": "station: latest water level (m)",
    "sensor.water_level_over_danger": "station: latest water level minus the station's danger level (m)",
    "sensor.water_rise_per_h": "station: rate of rise of the water level (m/h)",
    "sensor.salinity": "station: latest salinity (‰)",
    "sensor.salinity_over_danger": "station: latest salinity minus the station's danger line (‰; 4 ‰ for rice unless the province file says otherwise)",
    "sensor.aqi": "station: latest VN_AQI",
    "sensor.stale_minutes": "station: minutes since the last observation",
    "dossier.late_rate": "unit: late rate of the current month (0–1), for units with at least 20 dossiers to process",
    "dossier.about_to_be_late": "unit: dossiers in progress due within the horizon",
    "citizen.overdue": "agency: open reports past their deadline",
    "source.age_s": "feed: seconds since the last arrival",
    "source.rejected_share": "feed: share of events rejected over the last 5 minutes (0–1)",
    "source.quiet": "producer (family:code — a system, agency, camera link, station): events it was expected "
                    "to send since its last arrival, from its expected rate of the current hour and the one "
                    "before (the same hours of the last four weeks, or agents/indicators/data/sources.yaml); "
                    "0 while those hours are expected to be silent",
}

INDICATORS.update(REGISTER_INDICATORS)

#: indicators a family declares with its SQL (``Family.alerts``): indicator -> (meaning, SQL giving (entity, value))
_DECLARED: dict[str, tuple[str, str]] = {name: pair for f in FAMILIES if f.alerts for name, pair in f.load("alerts").items()}
INDICATORS.update({name: meaning for name, (meaning, _) in _DECLARED.items()})
FAMILY_SQL: dict[str, str] = {name: sql for name, (_, sql) in _DECLARED.items()}
