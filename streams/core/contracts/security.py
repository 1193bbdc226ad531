"""Security events: what Circular 31/2017 asks a monitoring centre to collect.

At least web-server access logs (the ``health`` family's ``RequestLog``), firewall logs at the
Internet gateways (``FirewallLog``) and alerts of monitoring devices (``IdsAlert``, ``WafHit``,
``MalwareDetection``, ``PortScan``, ``DdosAlert``), plus authentication failures
(``AuthFailure``, which also carries a camera's ONVIF ``AuthFailed``).

Every event names the target ``system`` (a code from the province file) or the reporting
``device`` (firewall, IDS sensor, host, camera), or both; ``entity`` is the system when known,
else the device.  Severity is on ONE scale, FIWARE's ``critical / high / medium / low /
informational``; other vocabularies are mapped by ``severity_from_cap`` and
``severity_from_priority``.  ``layer`` is the Directive 14/CT-TTg layer (1 on-site force,
2 professional monitoring, 3 independent inspection, 4 national monitoring) that saw it.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field, StringConstraints, model_validator

from streams.core.contracts.base import Code, IpAddress, Port, UtcDatetime
from streams.core.contracts.common import FeedEvent, Name, text

Severity = Literal["critical", "high", "medium", "low", "informational"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
"""Most severe first; ``severity_rank`` orders them."""

Action = Literal["allowed", "blocked", "detected", "quarantined"]
"""allowed: let through; blocked: refused, dropped or denied by a control; detected: logged or
alerted only; quarantined: a file isolated or removed."""

Protocol = Literal["tcp", "udp", "icmp", "other"]
Layer = Annotated[int, Field(ge=1, le=4, description="Directive 14/CT-TTg protection layer")]
Username = text(128)
Uri = text(2000)
FilePath = text(1024)

#: CAP ``severity`` (Extreme/Severe/Moderate/Minor/Unknown) -> project scale
CAP_SEVERITY: dict[str, str] = {
    "Extreme": "critical",
    "Severe": "high",
    "Moderate": "medium",
    "Minor": "low",
    "Unknown": "informational",
}

#: Snort / Suricata classification priority (1 = most severe) -> project scale
PRIORITY_SEVERITY: dict[int, str] = {1: "high", 2: "medium", 3: "low"}


def severity_from_cap(value: str) -> str:
    """CAP 1.2 ``severity`` to the project scale: Extreme -> critical ... Unknown -> informational."""
    try:
        return CAP_SEVERITY[value]
    except KeyError:
        raise ValueError(f"not a CAP severity: {value!r}; known: {', '.join(CAP_SEVERITY)}") from None


def severity_from_priority(priority: int) -> str:
    """Snort/Suricata priority to the project scale: 1 high, 2 medium, 3 low, 4 and above informational.

    IDS priorities never map to ``critical``: that is kept for confirmed compromise (malware
    that could not be quarantined, CAP Extreme alerts from the national centre).
    """
    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 1:
        raise ValueError(f"an IDS priority is an integer from 1, got {priority!r}")
    return PRIORITY_SEVERITY.get(priority, "informational")


def severity_rank(severity: str) -> int:
    """4 for critical down to 0 for informational, to compare and take maxima."""
    return len(SEVERITIES) - 1 - SEVERITIES.index(severity)


class SecurityBase(FeedEvent):
    """Fields shared by every security event; subclasses make some of them required."""

    key_field: ClassVar[str] = "system"

    dateObserved: UtcDatetime
    system: Code | None = None
    device: Code | None = None
    src_ip: IpAddress | None = None
    src_port: Port | None = None
    dst_ip: IpAddress | None = None
    dst_port: Port | None = None
    protocol: Protocol | None = None
    action: Action
    rule: Name | None = None
    severity: Severity
    layer: Layer | None = None

    @model_validator(mode="after")
    def _has_target(self) -> SecurityBase:
        if self.system is None and self.device is None:
            raise ValueError("needs `system` (the target) or `device` (the reporter)")
        return self

    @property
    def entity(self) -> str:
        return self.system or self.device or ""


class AuthFailure(SecurityBase):
    """A refused login; a camera's ``AuthFailed`` is ``device`` = camera, ``service`` onvif or rtsp."""

    type: Literal["AuthFailure"]
    src_ip: IpAddress
    service: Literal["web", "sso", "ssh", "rdp", "vpn", "mail", "onvif", "rtsp", "other"]
    username: Username | None = None
    account_locked: bool = False


class FirewallLog(SecurityBase):
    """A connection logged by a firewall at an Internet gateway."""

    type: Literal["FirewallLog"]
    device: Code
    src_ip: IpAddress
    dst_ip: IpAddress
    protocol: Protocol
    action: Literal["allowed", "blocked"]
    direction: Literal["inbound", "outbound"]
    bytes: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _ports(self) -> FirewallLog:
        if self.protocol in ("tcp", "udp") and (self.src_port is None or self.dst_port is None):
            raise ValueError(f"a {self.protocol} firewall log needs src_port and dst_port")
        return self


class IdsAlert(SecurityBase):
    """An alert of an intrusion detection/prevention sensor (Suricata, Snort, a SOC, the national centre)."""

    type: Literal["IdsAlert"]
    device: Code
    src_ip: IpAddress
    dst_ip: IpAddress
    rule: Name
    signature_id: Annotated[int, Field(ge=0)] | None = None
    category: Name | None = None
    action: Literal["detected", "blocked"]


class WafHit(SecurityBase):
    """A web application firewall rule matched a request to a system."""

    type: Literal["WafHit"]
    system: Code
    src_ip: IpAddress
    rule: Name
    attack: Literal["sqli", "xss", "lfi", "rfi", "rce", "scanner", "protocol", "bot", "other"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] | None = None
    uri: Uri | None = None
    action: Literal["detected", "blocked"]


class MalwareDetection(SecurityBase):
    """Malware found on a host (``device``) by an endpoint agent or a gateway scanner."""

    type: Literal["MalwareDetection"]
    device: Code
    malware: Name
    file_path: FilePath | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    action: Literal["detected", "blocked", "quarantined"]


class PortScan(SecurityBase):
    """One source probed many ports of a destination within ``window_s`` seconds."""

    type: Literal["PortScan"]
    src_ip: IpAddress
    dst_ip: IpAddress
    ports_scanned: Annotated[int, Field(ge=1, le=65536)]
    window_s: Annotated[float, Field(gt=0, le=86400)]


class DdosAlert(SecurityBase):
    """A request or traffic spike against a system, far above its baseline."""

    type: Literal["DdosAlert"]
    system: Code
    requests_per_s: Annotated[float, Field(ge=0, le=1e9)]
    baseline_per_s: Annotated[float, Field(ge=0, le=1e9)]
    sources: Annotated[int, Field(ge=0)] | None = None


SECURITY_MODELS = (AuthFailure, FirewallLog, IdsAlert, WafHit, MalwareDetection, PortScan, DdosAlert)
SecurityEvent = Annotated[
    AuthFailure | FirewallLog | IdsAlert | WafHit | MalwareDetection | PortScan | DdosAlert,
    Field(discriminator="type"),
]
