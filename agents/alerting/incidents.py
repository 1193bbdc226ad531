"""Incidents: related alerts grouped into one, with a state, a severity and a timeline.  Pure.

When an alert fires it joins an incident that is related to it (``choose``):

- an alert of the incident is about the **same entity**;
- or about an entity **above or below** it in the topology (a district link and its cameras, the
  data centre and the systems on it: ``Topology.ancestors`` either way);
- or is of the **same rule**, fired within ``Policy.window`` (fifteen cameras going offline one
  after the other are one incident).

Candidates are the open incidents, and resolved ones (not closed) whose last alert resolved within
the window: a flapping link reopens its incident rather than opening a second one.  A drill's
alerts group only with the same drill's incidents, real alerts only with real ones.  The strongest
relation wins (entity, then topology, then rule), then the newest incident.  With none related, an
alert of severity high or critical opens a new incident; lower ones, and alerts kept quiet by a
maintenance window or a silence, only join.

An incident is *open* while one of its alerts is pending or firing, *resolved* when all are over,
and *closed* by an operator with a closing note (only once resolved).  Its severity is the worst
of its alerts'; its title is its first alert's Vietnamese summary until someone edits it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.alerting.evaluate import Topology

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"
STATES = (OPEN, RESOLVED, CLOSED)
SEVERITIES = ("critical", "high", "medium", "low", "informational")  # worst first
OPENING = frozenset({"critical", "high"})
#: alerts kept quiet on purpose: they join an incident, they do not open one
QUIET_NO_OPEN = frozenset({"maintenance", "silenced"})
#: relations, strongest first (also the ``reason`` stored with a member)
RELATIONS = ("entity", "topology", "rule")
ALERT_OPEN_STATES = frozenset({"pending", "firing"})
TITLE_MAX = 200


@dataclass(frozen=True, slots=True)
class Policy:
    window: timedelta = timedelta(minutes=15)  # same rule within this; a resolved incident reopens within it
    opening: frozenset[str] = OPENING


@dataclass(frozen=True, slots=True)
class Member:
    """An alert of an incident, as the grouping sees it."""

    alert_id: int
    rule: str
    entity: str
    fired_at: datetime | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An incident a firing alert may join."""

    id: int
    state: str
    opened_at: datetime
    resolved_at: datetime | None
    drill_run: int | None
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Fired:
    """An alert that has just fired."""

    alert_id: int
    rule: str
    entity: str
    severity: str
    at: datetime
    drill_run: int | None = None
    quiet: str | None = None  # suppressed | flapping | silenced | maintenance


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # join | open | none
    incident_id: int | None = None
    reason: str = ""  # entity | topology | rule (join); opened (open)
    related: str = ""  # the entity or rule that relates the alert to the incident


def relation(alert: Fired, member: Member, topology: Topology, window: timedelta) -> str | None:
    """How ``member`` relates to ``alert``: "entity", "topology", "rule" or None."""
    if member.entity == alert.entity:
        return "entity"
    if member.entity in topology.ancestors(alert.entity) or alert.entity in topology.ancestors(member.entity):
        return "topology"
    if member.rule == alert.rule and member.fired_at is not None and abs(alert.at - member.fired_at) <= window:
        return "rule"
    return None


def joinable(c: Candidate, alert: Fired, policy: Policy) -> bool:
    if c.drill_run != alert.drill_run:
        return False
    if c.state == OPEN:
        return True
    return c.state == RESOLVED and c.resolved_at is not None and alert.at - c.resolved_at <= policy.window


def choose(alert: Fired, candidates: Iterable[Candidate], topology: Topology, policy: Policy = Policy()) -> Decision:
    """Join the most related incident, open a new one, or neither."""
    best: tuple[int, float, int] | None = None
    chosen: Decision | None = None
    for c in candidates:
        if not joinable(c, alert, policy):
            continue
        found = [(RELATIONS.index(r), m) for m in c.members
                 if (r := relation(alert, m, topology, policy.window)) is not None]
        if not found:
            continue
        rank, member = min(found, key=lambda x: x[0])
        key = (rank, -c.opened_at.timestamp(), -c.id)
        if best is None or key < best:
            best = key
            related = member.rule if RELATIONS[rank] == "rule" else member.entity
            chosen = Decision("join", c.id, RELATIONS[rank], related)
    if chosen is not None:
        return chosen
    if alert.severity in policy.opening and alert.quiet not in QUIET_NO_OPEN:
        return Decision("open", None, "opened")
    return Decision("none")


def worst(severities: Iterable[str]) -> str:
    """The worst severity (an unknown one counts below informational)."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return min(severities, key=lambda s: rank.get(s, len(SEVERITIES)), default="informational")


def state_of(current: str, alert_states: Iterable[str]) -> str:
    """The incident's state from its alerts': open while one is pending or firing, else resolved;
    a closed incident stays closed."""
    if current == CLOSED:
        return CLOSED
    return OPEN if any(s in ALERT_OPEN_STATES for s in alert_states) else RESOLVED


def title_from(summary_vi: str | None, rule: str, entity: str) -> str:
    text = " ".join((summary_vi or "").split()) or f"{rule} · {entity}"
    return text if len(text) <= TITLE_MAX else text[:TITLE_MAX - 1] + "…"


def clean_title(text: str | None) -> str:
    """An edited title: one line, not empty, at most ``TITLE_MAX`` characters; ValueError otherwise."""
    text = " ".join((text or "").split())
    if not text:
        raise ValueError("an incident needs a title")
    if len(text) > TITLE_MAX:
        raise ValueError(f"a title has at most {TITLE_MAX} characters")
    return text


# --- the timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of an incident's timeline: its own event, or an event of one of its alerts."""

    at: datetime
    source: str  # incident | alert
    kind: str
    actor: str
    alert_id: int | None
    detail: Mapping[str, Any]


def timeline(incident_events: Iterable[Mapping[str, Any]], alert_events: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Both kinds of events in time order; at the same instant an alert's event comes before the
    incident's (an alert fires, then joins), and each kind keeps its stored order."""
    rows = [(e["at"], 1, e.get("id", 0), Entry(e["at"], "incident", e["kind"], e.get("actor") or "system", None,
                                               e.get("detail") or {})) for e in incident_events]
    rows += [(e["at"], 0, e.get("id", 0), Entry(e["at"], "alert", e["kind"], e.get("actor") or "system",
                                                e["alert_id"], e.get("detail") or {})) for e in alert_events]
    return [r[3] for r in sorted(rows, key=lambda r: (r[0], r[1], r[2]))]


# --- ordering and the handover's snapshot ---------------------------------------------------------


def sort_incidents(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Open first, then resolved, then closed; the most severe first; the newest first."""
    sev = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(rows, key=lambda r: (STATES.index(r["state"]) if r["state"] in STATES else 9,
                                       sev.get(r["severity"], 9), -r["opened_at"].timestamp()))


def snapshot(alerts: Iterable[Mapping[str, Any]], incidents: Iterable[Mapping[str, Any]]) -> dict[str, list]:
    """What a shift hands over: the open alerts and the incidents not closed, as JSON-ready rows."""
    def when(ts: datetime | None) -> str | None:
        return ts.isoformat() if ts else None

    alert_rows = [{"id": a["id"], "rule": a["rule"], "entity": a["entity"], "severity": a["severity"],
                   "state": a["state"], "summary_vi": a.get("summary_vi") or "", "summary_en": a.get("summary_en") or "",
                   "started_at": when(a.get("started_at")), "acknowledged_by": a.get("acknowledged_by"),
                   "incident_id": a.get("incident_id")}
                  for a in alerts if a["state"] in ALERT_OPEN_STATES]
    incident_rows = [{"id": i["id"], "title": i["title"], "severity": i["severity"], "state": i["state"],
                      "owner": i.get("owner"), "alerts": i.get("alerts", 0), "open_alerts": i.get("open_alerts", 0),
                      "opened_at": when(i.get("opened_at"))}
                     for i in sort_incidents([i for i in incidents if i["state"] != CLOSED])]
    sev = {s: n for n, s in enumerate(SEVERITIES)}
    alert_rows.sort(key=lambda a: (sev.get(a["severity"], 9), a["started_at"] or ""))
    return {"alerts": alert_rows, "incidents": incident_rows}
