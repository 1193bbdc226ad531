"""Information-system health: synthetic probes and request logs.

Systems are the province's shared platforms, by code: ``eoffice`` (e-office), ``dvc``
(public-service portal), ``email`` (official e-mail), ``baocao`` (reporting system), ``gis``,
``lgsp`` (data-integration platform), ``ndxp`` (link to the national platform) and
``callcenter``.  Codes come from the province data file; the contract only checks their form.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from streams.core.contracts.base import Code, Event, IpAddress, Latency, ShortText, UtcDatetime


class ServiceProbe(Event):
    """Result of one synthetic check of a system's endpoint (HTTP, TCP or API call)."""

    key_field: ClassVar[str] = "system"

    type: Literal["ServiceProbe"]
    system: Code
    endpoint: ShortText = "/"
    dateObserved: UtcDatetime
    success: bool
    latency_ms: Latency
    status_code: Annotated[int, Field(ge=100, le=599)] | None = None
    error: ShortText | None = None


class RequestLog(Event):
    """One request served by a system, from its web-server access log."""

    key_field: ClassVar[str] = "system"

    type: Literal["RequestLog"]
    system: Code
    endpoint: ShortText
    dateObserved: UtcDatetime
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    status_code: Annotated[int, Field(ge=100, le=599)]
    latency_ms: Latency
    client_ip: IpAddress
    bytes_sent: Annotated[int, Field(ge=0)] | None = None


HealthEvent = Annotated[ServiceProbe | RequestLog, Field(discriminator="type")]
