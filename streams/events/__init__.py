"""Event contracts, one module per feed family, and the registry that maps a family to them."""
from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from streams.events.base import Event, GeoPoint
from streams.events.health import HealthEvent, RequestLog, ServiceProbe

#: family -> the (discriminated) union of its contracts
CONTRACTS: dict[str, Any] = {
    "health": HealthEvent,
}

#: family -> the concrete models, for docs and schemas
MODELS: dict[str, tuple[type[Event], ...]] = {
    "health": (ServiceProbe, RequestLog),
}


def adapter(family: str) -> TypeAdapter:
    try:
        return TypeAdapter(CONTRACTS[family])
    except KeyError:
        raise KeyError(f"no contract for feed family {family!r}; known: {', '.join(CONTRACTS)}") from None


__all__ = ["CONTRACTS", "MODELS", "Event", "GeoPoint", "RequestLog", "ServiceProbe", "adapter"]
