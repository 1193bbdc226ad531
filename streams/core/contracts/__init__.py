"""Event contracts, one module per feed family (the registry of families: ``streams.core.families``)."""
from __future__ import annotations

from streams.core.contracts.base import Event, GeoPoint
from streams.core.contracts.health import RequestLog, ServiceProbe

__all__ = ["Event", "GeoPoint", "RequestLog", "ServiceProbe"]
