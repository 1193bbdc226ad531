"""The network family's indicators: each link's state and how clean it is, IPv6 readiness per system.

``network_state`` keeps, per link, whether it is up and since when (``since`` moves only when the
state changes), its latest utilisation, loss and latency; per system, its latest IPv6 check.
``network_window`` counts polls per link and minute (how many up, loss and latency summed), so
availability over any period is ``polls_up / polls``.  A link that stops being polled is not
called down here: ``network.link_silent_s`` says how long it has been silent, and the rule pages
on "down", which the poller reports.  What pages is in ``ALERT_INDICATORS`` (SQL over these tables);
the alert engine suppresses a link's alert below a link that is down (the province file's
``parent``), so a fibre cut to a district pages once, not once per commune.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agents.indicators.queries import network as queries
from agents.indicators.tally import Tally
from streams.core.contracts import Event
from streams.core.contracts.network import Ipv6Check, LinkStatus
from streams.core.tables import CounterTable, FeedSpec, Increments, RawTable, StateTable, States, attrs_json
from streams.core.windows import at_epoch, epoch_of, window_of

WINDOW_S = 60
LOSSY = 0.02  # a link losing more than 2 % of its packets shows as lossy
LINK, SYSTEM = "link", "system"
_ATTRS = frozenset({"capacity_mbps", "reason", "aaaa", "reachable"})

NETWORK_EVENT = RawTable(
    "network_event",
    (("time", "timestamptz"), ("id", "text"), ("type", "text"), ("entity", "text"), ("up", "boolean"),
     ("utilisation", "double precision"), ("packet_loss", "double precision"), ("latency_ms", "double precision"),
     ("attrs", "jsonb")),
    lambda e: (e.dateObserved, e.id, e.type, e.entity, e.optional("up"), e.optional("utilisation"),
               e.optional("packet_loss"), e.optional("latency_ms"),
               attrs_json(type(e), _ATTRS)(e)),
)

NETWORK_WINDOW = CounterTable(
    "network_window",
    key=("link", "window_s", "time"),
    sums=("polls", "polls_up", "loss_sum", "loss_n", "latency_sum", "latency_n"),
    greatest=("utilisation_max", "last_event"),
)

NETWORK_STATE = StateTable(
    "network_state",
    key=("entity",),
    columns=("kind", "up", "since", "utilisation", "packet_loss", "latency_ms", "reason", "aaaa", "reachable",
             "last_seen"),
    keys_of=lambda fresh: {(e.entity,) for e in fresh},
    updated_at=True,
)


def apply(prev: dict[str, Any] | None, ev: Event) -> dict[str, Any]:
    """A link's or a system's state after one more event (events come in time order)."""
    prev = prev or {}
    if prev.get("last_seen") is not None and ev.event_time < prev["last_seen"]:
        return dict(prev)  # an older poll, stored late: the state already knows better
    if isinstance(ev, Ipv6Check):
        return {**prev, "entity": ev.entity, "kind": SYSTEM, "aaaa": ev.aaaa, "reachable": ev.reachable, "last_seen": ev.dateObserved}
    assert isinstance(ev, LinkStatus)
    changed = prev.get("up") is None or prev["up"] != ev.up
    return {**prev, "entity": ev.entity, "kind": LINK, "up": ev.up, "since": ev.dateObserved if changed else prev.get("since"),
            "utilisation": ev.utilisation, "packet_loss": ev.packet_loss, "latency_ms": ev.latency_ms,
            "reason": ev.reason, "last_seen": ev.dateObserved}


def window_row(ev: LinkStatus) -> dict[str, Any]:
    return {"link": ev.link, "window_s": WINDOW_S, "time": at_epoch(window_of(epoch_of(ev.dateObserved), WINDOW_S)),
            "polls": 1, "polls_up": int(ev.up),
            "loss_sum": ev.packet_loss or 0.0, "loss_n": int(ev.packet_loss is not None),
            "latency_sum": ev.latency_ms or 0.0, "latency_n": int(ev.latency_ms is not None),
            "utilisation_max": ev.utilisation, "last_event": ev.dateObserved}


def network_increments(fresh: Sequence[Event], states: States) -> Increments:
    incs = Increments()
    windows = Tally(NETWORK_WINDOW)
    for ev in fresh:
        key = (ev.entity,)
        incs.states[key] = apply(incs.states.get(key) or states.get(key), ev)
        if isinstance(ev, LinkStatus):
            windows.add(window_row(ev))
    return windows.into(incs)


NETWORK_FEED = FeedSpec("network", NETWORK_EVENT, network_increments, NETWORK_STATE, (NETWORK_WINDOW,))


def availability(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Link -> share of its polls that found it up, over the ``network_window`` rows given."""
    polls: dict[str, list[int]] = {}
    for r in rows:
        acc = polls.setdefault(r["link"], [0, 0])
        acc[0] += r["polls_up"]
        acc[1] += r["polls"]
    return {link: (up / n if n else None) for link, (up, n) in polls.items()}


def link_views(states: Sequence[dict[str, Any]], links: Sequence[Any], now: datetime,
               silent_after_s: float = 180) -> list[dict[str, Any]]:
    """One row per link of the province file, worst first: down, silent, lossy, then up."""
    by = {s["entity"]: s for s in states if s.get("kind") == LINK}
    out = []
    for link in links:
        s = by.get(link.code, {})
        seen = s.get("last_seen")
        silent = seen is None or (now - seen).total_seconds() > silent_after_s
        status = "down" if s.get("up") is False else "silent" if silent else (
            "lossy" if (s.get("packet_loss") or 0) > LOSSY else "up")
        out.append({"link": link.code, "name": link.name, "parent": link.parent, "status": status,
                    "since": s.get("since"), "utilisation": s.get("utilisation"),
                    "packet_loss": s.get("packet_loss"), "latency_ms": s.get("latency_ms"),
                    "reason": s.get("reason"), "last_seen": seen})
    order = {"down": 0, "silent": 1, "lossy": 2, "up": 3}
    return sorted(out, key=lambda v: (order[v["status"]], v["link"]))

#: what a rule may watch on this family: indicator -> (meaning, SQL returning (entity, value))
ALERT_INDICATORS: dict[str, tuple[str, str]] = {
    "network.link_down": ("network link: 1 when its poller reports it down, else 0", queries.LINK_DOWN),
    "network.link_silent_s": ("network link: seconds since its last poll", queries.LINK_SILENT_S),
    "network.packet_loss": ("network link: average packet loss over the last 5 minutes (0–1)", queries.PACKET_LOSS),
    "network.utilisation": ("network link: highest utilisation over the last 5 minutes (0–1)", queries.UTILISATION),
    "network.ipv6_ready": ("information system: 1 when it answers over IPv6 (AAAA record and reachable), else 0",
                           queries.IPV6_READY),
}
