"""The feed families, each declared once: every list of families in the project derives from ``FAMILIES``.

A family is what one Kafka topic carries: its event contracts, how its events are stored and
counted, how it is simulated, how long its tables are kept, and where it shows on the wall.  Parts
that live in higher layers (the stored tables and increments in ``agents/indicators``, the simulator
in ``simulators``) are named here by reference (``"module:attribute"``) and loaded by the layer that
uses them, so the base imports nothing above it; ``tests/streams/test_families.py`` checks that every
reference resolves, and ``tests/streams/test_families_db.py`` that every declared table and column
exists in the migrated database with the declared types.

Adding a family: docs/architecture.md, "Adding a feed family".
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

from pydantic import TypeAdapter

from streams.core.contracts import Event
from streams.core.errors import ConfigError
from streams.core.contracts.camera import CAMERA_MODELS, CameraEvent
from streams.core.contracts.citizen import CITIZEN_MODELS, CitizenEvent
from streams.core.contracts.dossier import DOSSIER_MODELS, DossierEvent
from streams.core.contracts.fast import ContractAdapter, contract_adapter
from streams.core.contracts.health import HEALTH_MODELS, HealthEvent
from streams.core.contracts.network import NETWORK_MODELS, NetworkEvent
from streams.core.contracts.security import SECURITY_MODELS, SecurityEvent
from streams.core.contracts.sensor import SENSOR_MODELS, SensorEvent


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    description: str  # of its topic
    contract: Any  # the (discriminated) union of its event models
    models: tuple[type[Event], ...]  # the concrete models, for docs and JSON Schemas
    retention_days: dict[str, int]  # hypertable -> days kept by default (IOC_RETENTION_DAYS overrides)
    feed: str  # "module:attribute" of its FeedSpec: raw table and row builder, increments, state
    simulator: str  # "module:attribute" of its simulator class
    colour: str  # its line on the wall's charts
    page: str  # the wall page of its data and of alerts on its indicators (``<name>.*``)
    partitions_factor: int = 1  # multiplies IOC_TOPIC_PARTITIONS for high-volume feeds
    #: "module:attribute" of {indicator: (meaning, SQL giving (entity, value))}: what rules may watch,
    #: read straight from its tables (families declared before this existed keep theirs in
    #: ``agents/indicators/registry.py``)
    alerts: str | None = None
    #: fields naming the producer of an event (the system, agency, camera, station or link that sends
    #: it), the first one present wins: what the sources page counts each producer by
    producer: tuple[str, ...] = ("id",)

    @property
    def family(self) -> str:  # a topic's family, as Kafka code calls it
        return self.name

    def load(self, part: str) -> Any:
        """The object a reference names: ``load("feed")``, ``load("simulator")``."""
        return resolve(getattr(self, part))


@cache
def resolve(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(import_module(module), attribute)


FAMILIES: tuple[Family, ...] = (
    Family("health", "information-system probes and request logs; the e-office's daily document tallies",
           HealthEvent, HEALTH_MODELS, {"health_event": 14, "health_window": 400, "document_day": 1100},
           feed="agents.indicators.health:HEALTH_FEED", simulator="simulators.health:HealthSimulator",
           colour="#4ea1f2", page="systems", partitions_factor=2, producer=("system",)),
    Family("security", "authentication failures, WAF/IDS hits, malware, scans, firewall logs", SecurityEvent,
           SECURITY_MODELS,
           {"security_event": 400, "security_window": 400, "auth_failure_window": 400, "security_finding": 1100},
           feed="agents.indicators.security:SECURITY_FEED", simulator="simulators.security:SecuritySimulator",
           colour="#f27b35", page="security", partitions_factor=2, producer=("system", "device")),
    Family("camera", "camera analytics and camera health", CameraEvent, CAMERA_MODELS,
           {"camera_event": 90, "camera_window": 400},
           feed="agents.indicators.camera:CAMERA_FEED", simulator="simulators.camera:CameraSimulator",
           colour="#b07cf2", page="border", partitions_factor=2, producer=("camera",)),
    Family("sensor", "water level, salinity, rainfall, air quality, weather observations", SensorEvent,
           SENSOR_MODELS, {"sensor_observation": 30, "sensor_window": 400},
           feed="agents.indicators.sensor:SENSOR_FEED", simulator="simulators.sensor:SensorSimulator",
           colour="#2fbf71", page="environment", producer=("refDevice",)),
    Family("dossier", "public-service dossier events", DossierEvent, DOSSIER_MODELS,
           {"dossier_event": 400, "dossier_day": 1100},
           feed="agents.indicators.dossier:DOSSIER_FEED", simulator="simulators.dossier:DossierSimulator",
           colour="#f2b134", page="services", producer=("unit_code",)),
    Family("citizen", "citizen field reports (phản ánh hiện trường)", CitizenEvent, CITIZEN_MODELS,
           {"citizen_event": 400, "citizen_day": 1100, "citizen_agency_day": 1100},
           feed="agents.indicators.citizen:CITIZEN_FEED", simulator="simulators.citizen:CitizenSimulator",
           colour="#e86fa6", page="services", producer=("agency", "unit_code")),
    Family("network", "link polls of the dedicated data network and camera networks, IPv6 checks of systems",
           NetworkEvent, NETWORK_MODELS, {"network_event": 30, "network_window": 400},
           feed="agents.indicators.network:NETWORK_FEED", simulator="simulators.network:NetworkSimulator",
           colour="#3fc1c9", page="network", alerts="agents.indicators.network:ALERT_INDICATORS",
           producer=("link", "system")),
)
BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}

#: tables of no one family: the sources' own counters, per feed and per producer (60 days: the expected
#: rate of an hour is learned from the same hour of the last four weeks), and the hourly rollups of
#: every family (agents/indicators/rollups.py): three years, for year-on-year history (their daily
#: rollups are plain tables, a row per key and day, kept)
SHARED_RETENTION_DAYS: dict[str, int] = {
    "source_window": 90, "producer_window": 60,
    **dict.fromkeys(("health_hour", "security_hour", "auth_failure_hour", "network_hour", "source_hour"), 1100)}
#: hypertable -> days kept by default
DEFAULT_RETENTION_DAYS: dict[str, int] = {
    **{table: days for f in FAMILIES for table, days in f.retention_days.items()}, **SHARED_RETENTION_DAYS}
#: family -> the (discriminated) union of its contracts
CONTRACTS: dict[str, Any] = {f.name: f.contract for f in FAMILIES}
#: family -> the concrete models, for docs and schemas
MODELS: dict[str, tuple[type[Event], ...]] = {f.name: f.models for f in FAMILIES}


def family(name: str) -> Family:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown feed family {name!r}; known: {', '.join(BY_NAME)}") from None


def named_families(text: str | None) -> list[str] | None:
    """The families a comma-separated option names, or None when it names none (all of them);
    ``ConfigError`` naming the known ones for a name that is not a family."""
    if not text:
        return None
    return known_families(n.strip() for n in text.split(",") if n.strip()) or None


def known_families(names: Iterable[str]) -> list[str]:
    """``names`` as a list, each a declared family (``ConfigError`` naming the known ones otherwise)."""
    names = list(names)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ConfigError(f"unknown feed families {unknown}; known: {', '.join(BY_NAME)}")
    return names


def adapter(name: str) -> TypeAdapter:
    """The validator of a family's events (``KeyError`` naming the known families for another name)."""
    return TypeAdapter(family(name).contract)


def fast_adapter(name: str, *, fast: bool = True) -> ContractAdapter:
    """The validator the worker uses: msgspec at C speed, pydantic for what msgspec refuses (only
    pydantic with ``fast=False``); the same verdicts, errors and events as ``adapter(name)``."""
    return contract_adapter(family(name).contract, fast)
