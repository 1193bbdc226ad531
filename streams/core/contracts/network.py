"""The province's networks: the dedicated data network (mạng truyền số liệu chuyên dùng) from the data
centre to every district and commune, the camera networks, and IPv6 readiness per system.

A network monitoring system (SNMP polling, ICMP probes: Zabbix, LibreNMS, PRTG …) reports each link
of the province file's ``networks`` every poll: whether it is up (``ifOperStatus``), its utilisation
(the busier direction, share of its capacity), packet loss and round-trip latency to its far end.
An IPv6 check per information system says whether its name has an AAAA record and whether it
answers over IPv6 (seed, section II.3: IPv6 for every system).  Codes come from the province file.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from streams.core.contracts.base import Code, Event, Latency, Ratio, ShortText, UtcDatetime


class LinkStatus(Event):
    """One poll of a network link: up or down and, when up, how busy and how clean it is."""

    key_field: ClassVar[str] = "link"

    type: Literal["LinkStatus"]
    link: Code
    dateObserved: UtcDatetime
    up: bool
    utilisation: Ratio | None = None
    packet_loss: Ratio | None = None
    latency_ms: Latency | None = None
    capacity_mbps: Annotated[float, Field(gt=0, le=1_000_000)] | None = None
    reason: ShortText | None = None  # why it is down, as the poller says ("LOS", "no ARP" …)

    @model_validator(mode="after")
    def _down_is_down(self) -> LinkStatus:
        if not self.up and (self.utilisation or self.latency_ms is not None):
            raise ValueError("a link that is down carries no traffic nor latency")
        return self


class Ipv6Check(Event):
    """Whether an information system is reachable over IPv6."""

    key_field: ClassVar[str] = "system"

    type: Literal["Ipv6Check"]
    system: Code
    dateObserved: UtcDatetime
    aaaa: bool  # its name has an AAAA record
    reachable: bool  # it answered over IPv6

    @model_validator(mode="after")
    def _reachable_needs_aaaa(self) -> Ipv6Check:
        if self.reachable and not self.aaaa:
            raise ValueError("reachable over IPv6 without an AAAA record")
        return self


NETWORK_MODELS = (LinkStatus, Ipv6Check)
NetworkEvent = Annotated[LinkStatus | Ipv6Check, Field(discriminator="type")]
