"""Event contracts, one module per feed family, and the registry that maps a family to them."""
from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from streams.core.contracts.base import Event, GeoPoint
from streams.core.contracts.camera import CAMERA_MODELS, CameraEvent
from streams.core.contracts.citizen import CITIZEN_MODELS, CitizenEvent
from streams.core.contracts.dossier import DOSSIER_MODELS, DossierEvent
from streams.core.contracts.health import HealthEvent, RequestLog, ServiceProbe
from streams.core.contracts.security import SECURITY_MODELS, SecurityEvent
from streams.core.contracts.sensor import SENSOR_MODELS, SensorEvent

#: family -> the (discriminated) union of its contracts
CONTRACTS: dict[str, Any] = {
    "health": HealthEvent,
    "security": SecurityEvent,
    "camera": CameraEvent,
    "sensor": SensorEvent,
    "dossier": DossierEvent,
    "citizen": CitizenEvent,
}

#: family -> the concrete models, for docs and schemas
MODELS: dict[str, tuple[type[Event], ...]] = {
    "health": (ServiceProbe, RequestLog),
    "security": SECURITY_MODELS,
    "camera": CAMERA_MODELS,
    "sensor": SENSOR_MODELS,
    "dossier": DOSSIER_MODELS,
    "citizen": CITIZEN_MODELS,
}


def adapter(family: str) -> TypeAdapter:
    try:
        return TypeAdapter(CONTRACTS[family])
    except KeyError:
        raise KeyError(f"no contract for feed family {family!r}; known: {', '.join(CONTRACTS)}") from None


__all__ = ["CONTRACTS", "MODELS", "Event", "GeoPoint", "RequestLog", "ServiceProbe", "adapter"]
