"""The province's networks as a poller sees them: every link of the province file polled each minute,
IPv6 checks of every system every five minutes.

A link is up unless cut (a rare background outage, or a drill's ``down``): then it and every link
below it (the province file's ``parent``) report down, as a poller behind the cut would see them;
the cuts are the ones the camera simulator's cameras go dark by (``simulators/links.py``).
Utilisation follows office hours; loss and latency are small and grow with depth and load, and a
drill can make a link ``lossy`` or ``congested``.  Most systems are IPv6-ready; the others lack an
AAAA record or do not answer over IPv6, fixed for the run by the seed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.base import Event, iso
from simulators.common import traffic_factor
from simulators.links import LinkOutages, seed_of
from streams.core.geography import Network, Province

POLL_S = 60.0
IPV6_CHECK_S = 300.0
IPV6_READY_SHARE = 0.75
CONDITIONS = ("down", "lossy", "congested")


@dataclass
class LinkState:
    net: Network
    depth: int  # hops below the data centre
    capacity_mbps: float
    forced: str | None = None
    due: datetime | None = None


class NetworkSimulator:
    family = "network"
    weight = 0.0  # polls on its own schedule, takes no share of the rate
    #: states a drill's force sets, followed by other processes' background (simulators/drills/shared.py)
    shared_conditions = frozenset(CONDITIONS)

    #: built on the province's shared link outages (``simulators/links.py``) by ``build_simulators``
    shares_links = True

    def __init__(self, province: Province, rng: random.Random, *, incidents: bool = True,
                 links: LinkOutages | None = None) -> None:
        if not province.networks:
            raise ValueError("the province file lists no networks")
        self.rng = rng
        self.outages = links or LinkOutages(province, seed_of(rng), incidents=incidents)
        parents = {n.code: n.parent for n in province.networks}
        self.links = {n.code: LinkState(n, _depth(n.code, parents), rng.choice((100.0, 200.0, 1000.0)))
                      for n in province.networks}
        self.systems = {s.code: _ipv6(rng) for s in province.systems}  # (AAAA record, reachable)
        self.ipv6_due: dict[str, datetime] = {}

    # -- control, used by drills ------------------------------------------------------------
    def force(self, target: str, condition: str | None) -> None:
        if condition is not None and condition not in CONDITIONS:
            raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
        if target not in self.links:
            raise ValueError(f"unknown link {target!r}; known: {', '.join(self.links)}")
        self.outages.force(target, condition == "down")
        self.links[target].forced = condition

    def key_of(self, event: Event) -> str:
        return event.get("link") or event["system"]

    # -- the links ----------------------------------------------------------------------------
    def _poll(self, st: LinkState, at: datetime) -> Event:
        ev: Event = {"id": f"{st.net.code}:poll:{at.strftime('%Y%m%dT%H%M%S')}Z", "type": "LinkStatus",
                     "link": st.net.code, "dateObserved": iso(at), "capacity_mbps": st.capacity_mbps}
        reason = self.outages.why_down(st.net.code, at)
        if reason is not None:
            return {**ev, "up": False, "packet_loss": 1.0, "reason": reason}
        load = 0.08 + 0.45 * traffic_factor(at) * self.rng.uniform(0.7, 1.1)
        if st.forced == "congested":
            load = self.rng.uniform(0.93, 1.0)
        loss = self.rng.uniform(0, 0.002) + (0.01 if load > 0.9 else 0.0)
        if st.forced == "lossy":
            loss = self.rng.uniform(0.05, 0.2)
        latency = (2 + 4 * st.depth) * (1 + 3 * max(0.0, load - 0.8)) * self.rng.uniform(0.8, 1.3)
        return {**ev, "up": True, "utilisation": round(min(1.0, load), 4), "packet_loss": round(min(1.0, loss), 4),
                "latency_ms": round(latency, 2)}

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        events: list[Event] = []
        step = timedelta(seconds=POLL_S)
        for st in self.links.values():
            due = st.due or now + step * self.rng.random()  # spread the first polls over the interval
            while due <= now:
                events.append(self._poll(st, due))
                due += step
            st.due = due
        check = timedelta(seconds=IPV6_CHECK_S)
        for code, (aaaa, reachable) in self.systems.items():
            due = self.ipv6_due.get(code) or now + check * self.rng.random()
            while due <= now:
                events.append({"id": f"{code}:ipv6:{due.strftime('%Y%m%dT%H%M%S')}Z", "type": "Ipv6Check",
                               "system": code, "dateObserved": iso(due), "aaaa": aaaa, "reachable": reachable})
                due += check
            self.ipv6_due[code] = due
        return events


def _ipv6(rng: random.Random) -> tuple[bool, bool]:
    if rng.random() < IPV6_READY_SHARE:
        return True, True
    aaaa = rng.random() < 0.5  # named over IPv6 but not answering, or not named at all
    return aaaa, False


def _depth(code: str, parents: dict[str, str | None]) -> int:
    depth, at, seen = 0, parents.get(code), {code}
    while at is not None and at in parents and at not in seen:
        seen.add(at)
        depth, at = depth + 1, parents.get(at)
    return depth
