"""Incidents in TimescaleDB (``incident``, ``incident_alert``, ``incident_event``; migration 043).

The alert engine calls ``on_fired`` and ``on_alert_over`` inside the transaction that stores an
alert's firing or end (``AlertStore.apply_round``), so an alert never fires without its incident
being decided, by the rules of ``agents/alerting/incidents.py`` (in a savepoint: a failure of the
incident tables is logged and never costs the alert itself).  ``IncidentStore`` reads incidents
for the console and performs the operators' actions (take ownership, add a note, rename, close),
each in one transaction that appends to ``incident_event`` with the operator's name: the audit.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from typing import Any

from psycopg.types.json import Jsonb

from agents.alerting.evaluate import Topology
from agents.alerting.incidents import (CLOSED, OPEN, RESOLVED, Candidate, Decision, Entry, Fired, Member, Policy,
                                       choose, clean_title, snapshot, state_of, timeline, title_from, worst)
from streams.core.errors import IOCError, SinkError, SinkUnavailable
from streams.core.inputs import check_all
from streams.db.connect import Connection, connect
from streams.db.errors import translated

log = logging.getLogger("ioc.incidents")

CANDIDATES = """
SELECT i.id, i.state, i.opened_at, i.resolved_at, i.drill_run, a.id AS alert_id, a.rule, a.entity, a.fired_at
FROM incident i
JOIN incident_alert ia ON ia.incident_id = i.id
JOIN alert a ON a.id = ia.alert_id
WHERE (i.state = 'open' OR (i.state = 'resolved' AND i.resolved_at >= %(since)s))
  AND i.drill_run IS NOT DISTINCT FROM %(drill_run)s
ORDER BY i.id, a.id
"""
OPEN_INCIDENT = """
INSERT INTO incident (title, severity, state, opened_at, drill_run, drill)
VALUES (%s, %s, 'open', %s, %s, %s) RETURNING id
"""
ADD_MEMBER = """
INSERT INTO incident_alert (alert_id, incident_id, joined_at, reason, related) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (alert_id) DO NOTHING
"""
INCIDENT_OF_ALERT = """
SELECT i.* FROM incident i JOIN incident_alert ia ON ia.incident_id = i.id WHERE ia.alert_id = %s FOR UPDATE OF i
"""
MEMBER_STATES = """
SELECT a.state FROM incident_alert ia JOIN alert a ON a.id = ia.alert_id WHERE ia.incident_id = %s
"""
LIST = """
SELECT i.*, count(ia.alert_id) AS alerts,
       count(*) FILTER (WHERE a.state IN ('pending', 'firing')) AS open_alerts
FROM incident i
LEFT JOIN incident_alert ia ON ia.incident_id = i.id
LEFT JOIN alert a ON a.id = ia.alert_id
WHERE i.state <> 'closed' OR i.closed_at > now() - make_interval(days => %(closed_days)s)
GROUP BY i.id
ORDER BY i.state = 'closed', i.opened_at DESC
LIMIT %(limit)s
"""
ALERTS = """
SELECT a.*, ia.joined_at, ia.reason, ia.related FROM incident_alert ia JOIN alert a ON a.id = ia.alert_id
WHERE ia.incident_id = %s ORDER BY coalesce(a.fired_at, a.started_at), a.id
"""
ALERT_EVENTS = """
SELECT e.* FROM alert_event e JOIN incident_alert ia ON ia.alert_id = e.alert_id
WHERE ia.incident_id = %s ORDER BY e.at, e.id
"""
OPEN_ALERTS = """
SELECT a.*, ia.incident_id FROM alert a LEFT JOIN incident_alert ia ON ia.alert_id = a.id
WHERE a.state IN ('pending', 'firing') ORDER BY a.started_at DESC LIMIT %s
"""


def _event(conn: Connection, incident_id: int, kind: str, at: datetime, detail: Mapping[str, Any],
           actor: str = "system") -> None:
    conn.execute("INSERT INTO incident_event (incident_id, at, kind, actor, detail) VALUES (%s, %s, %s, %s, %s)",
                 (incident_id, at, kind, actor, Jsonb(dict(detail))))


def _candidates(conn: Connection, fired: Fired, policy: Policy) -> list[Candidate]:
    rows = conn.execute(CANDIDATES, {"since": fired.at - policy.window, "drill_run": fired.drill_run}).fetchall()
    grouped: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(r["id"], []).append(r)
    return [Candidate(rs[0]["id"], rs[0]["state"], rs[0]["opened_at"], rs[0]["resolved_at"], rs[0]["drill_run"],
                      tuple(Member(r["alert_id"], r["rule"], r["entity"], r["fired_at"]) for r in rs))
            for rs in grouped.values()]


@contextmanager
def _savepoint(conn: Connection, what: str) -> Iterator[None]:
    """Work that may fail alone: its driver errors as ``SinkError``, undone to the savepoint."""
    with translated(what, table="incident", refused=SinkError), conn.transaction():
        yield


def on_fired(conn: Connection, alert: Mapping[str, Any], at: datetime, quiet: str | None, topology: Topology,
             policy: Policy) -> Decision:
    """Put a just-fired alert (an ``alert`` row, as dict) in its incident, opening one if the rules say so.

    In a savepoint: should the incident tables fail (a database not migrated to 043), the alert is
    still stored and notified, and the failure logged."""
    try:
        with _savepoint(conn, "group the alert into an incident"):
            return _group(conn, alert, at, quiet, topology, policy)
    except SinkUnavailable:
        raise  # the connection is lost: the whole round is
    except SinkError as exc:
        log.error("alert %s was not grouped into an incident: %s", alert["id"], exc)
        return Decision("none")


def _group(conn: Connection, alert: Mapping[str, Any], at: datetime, quiet: str | None, topology: Topology,
           policy: Policy) -> Decision:
    fired = Fired(alert["id"], alert["rule"], alert["entity"], alert["severity"], at, alert.get("drill_run"), quiet)
    decision = choose(fired, _candidates(conn, fired, policy), topology, policy)
    what = {"alert": fired.alert_id, "rule": fired.rule, "entity": fired.entity, "severity": fired.severity}
    if decision.action == "open":
        incident_id = conn.execute(OPEN_INCIDENT, (title_from(alert.get("summary_vi"), fired.rule, fired.entity),
                                                   fired.severity, at, fired.drill_run, alert.get("drill"))
                                   ).fetchone()["id"]
        conn.execute(ADD_MEMBER, (fired.alert_id, incident_id, at, "opened", ""))
        _event(conn, incident_id, "opened", at, what)
        return Decision("open", incident_id, "opened")
    if decision.action == "join":
        incident = conn.execute("SELECT * FROM incident WHERE id = %s FOR UPDATE", (decision.incident_id,)).fetchone()
        conn.execute(ADD_MEMBER, (fired.alert_id, incident["id"], at, decision.reason, decision.related))
        severity = worst((incident["severity"], fired.severity))
        if incident["state"] == RESOLVED:
            _event(conn, incident["id"], "reopened", at, {"alert": fired.alert_id})
        conn.execute("UPDATE incident SET severity = %s, state = 'open', resolved_at = NULL, updated_at = now() "
                     "WHERE id = %s", (severity, incident["id"]))
        _event(conn, incident["id"], "alert_joined", at,
               {**what, "reason": decision.reason, "related": decision.related,
                **({"severity_from": incident["severity"]} if severity != incident["severity"] else {})})
    return decision


def on_alert_over(conn: Connection, alert_id: int, at: datetime) -> str | None:
    """After an alert resolved (or was cancelled): its incident resolves when none of its alerts is
    open any more.  Returns the incident's state, None when the alert is in no incident (or the
    incident tables failed: logged, in a savepoint, as ``on_fired``)."""
    try:
        with _savepoint(conn, "update the alert's incident"):
            return _settle(conn, alert_id, at)
    except SinkUnavailable:
        raise
    except SinkError as exc:
        log.error("the incident of alert %s was not updated: %s", alert_id, exc)
        return None


def _settle(conn: Connection, alert_id: int, at: datetime) -> str | None:
    incident = conn.execute(INCIDENT_OF_ALERT, (alert_id,)).fetchone()
    if incident is None:
        return None
    states = [r["state"] for r in conn.execute(MEMBER_STATES, (incident["id"],)).fetchall()]
    new = state_of(incident["state"], states)
    if new == RESOLVED and incident["state"] == OPEN:
        conn.execute("UPDATE incident SET state = 'resolved', resolved_at = %s, updated_at = now() WHERE id = %s",
                     (at, incident["id"]))
        _event(conn, incident["id"], "resolved", at, {"alert": alert_id})
    return new


def _stored(what: str) -> AbstractContextManager:
    return translated(f"cannot {what}", table="incident", limit=200, hint=" (ioc db migrate?)")


class IncidentStore:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def _connect(self) -> Connection:
        return connect(self.dsn, what="incidents unavailable", table="incident", role="incidents", dict_rows=True)

    # --- reading ---------------------------------------------------------------------------------

    def incidents(self, *, limit: int = 300, closed_days: int = 30) -> list[dict[str, Any]]:
        """Incidents not closed, and those closed within ``closed_days``, with their alert counts."""
        with _stored("read incidents"), self._connect() as conn:
            return conn.execute(LIST, {"limit": limit, "closed_days": closed_days}).fetchall()

    def incident(self, incident_id: int) -> dict[str, Any]:
        with _stored("read the incident"), self._connect() as conn:
            row = conn.execute("SELECT * FROM incident WHERE id = %s", (incident_id,)).fetchone()
        if row is None:
            raise IOCError(f"no incident {incident_id}")
        return row

    def alerts(self, incident_id: int) -> list[dict[str, Any]]:
        """The incident's alerts, in the order they fired, with when and why each joined."""
        with _stored("read the incident's alerts"), self._connect() as conn:
            return conn.execute(ALERTS, (incident_id,)).fetchall()

    def events(self, incident_id: int) -> list[dict[str, Any]]:
        with _stored("read the incident's events"), self._connect() as conn:
            return conn.execute("SELECT * FROM incident_event WHERE incident_id = %s ORDER BY at, id",
                                (incident_id,)).fetchall()

    def alert_events(self, incident_id: int) -> list[dict[str, Any]]:
        with _stored("read the incident's alert events"), self._connect() as conn:
            return conn.execute(ALERT_EVENTS, (incident_id,)).fetchall()

    def timeline(self, incident_id: int) -> list[Entry]:
        return timeline(self.events(incident_id), self.alert_events(incident_id))

    def incident_of(self, alert_id: int) -> dict[str, Any] | None:
        """The incident an alert is in (id, title, state, severity), or None."""
        with _stored("read the alert's incident"), self._connect() as conn:
            return conn.execute("SELECT i.id, i.title, i.state, i.severity FROM incident i "
                                "JOIN incident_alert ia ON ia.incident_id = i.id WHERE ia.alert_id = %s",
                                (alert_id,)).fetchone()

    def shift_state(self, limit: int = 200) -> dict[str, list]:
        """The open alerts and the incidents not closed, now: what a handover carries."""
        with _stored("read the open alerts"), self._connect() as conn:
            alerts = conn.execute(OPEN_ALERTS, (limit,)).fetchall()
        return snapshot(alerts, self.incidents(closed_days=0))

    # --- operators' actions (each checked and audited) -------------------------------------------

    def _act(self, incident_id: int, actor: str, kind: str, detail: dict[str, Any], sql: str = "",
             params: tuple = (), *, allowed: tuple[str, ...] = (OPEN, RESOLVED), previous: str = "",
             refused: str = "") -> dict[str, Any]:
        """One action under the incident's row lock; ``previous`` names a column whose value before the
        change goes into the event; ``refused`` is what to say when the state does not allow it."""
        check_all({"actor": actor, **detail})  # refused before any change
        with _stored(f"record {kind}"), self._connect() as conn, conn.transaction():
            incident = conn.execute("SELECT * FROM incident WHERE id = %s FOR UPDATE", (incident_id,)).fetchone()
            if incident is None:
                raise IOCError(f"no incident {incident_id}")
            if incident["state"] not in allowed:
                raise IOCError(refused.format(id=incident_id) if refused else
                               f"incident {incident_id} is {incident['state']}; cannot {kind}")
            if previous:
                detail = {**detail, "previous": incident[previous]}
            if sql:
                incident = conn.execute(sql, (*params, incident_id)).fetchone()
            _event(conn, incident_id, kind, datetime.now(timezone.utc), detail, actor)
            return incident

    def take(self, incident_id: int, actor: str) -> dict[str, Any]:
        """``actor`` becomes the owner (the previous one is in the event)."""
        return self._act(incident_id, actor, "owner_taken", {},
                         "UPDATE incident SET owner = %s, owned_at = now(), updated_at = now() WHERE id = %s "
                         "RETURNING *", (actor,), previous="owner")

    def note(self, incident_id: int, actor: str, text: str) -> dict[str, Any]:
        text = (text or "").strip()
        if not text:
            raise ValueError("a note needs text")
        return self._act(incident_id, actor, "note", {"text": text}, allowed=(OPEN, RESOLVED, CLOSED))

    def rename(self, incident_id: int, actor: str, title: str) -> dict[str, Any]:
        title = clean_title(title)
        return self._act(incident_id, actor, "title_changed", {"title": title},
                         "UPDATE incident SET title = %s, updated_at = now() WHERE id = %s RETURNING *", (title,),
                         previous="title")

    def close(self, incident_id: int, actor: str, note: str) -> dict[str, Any]:
        """Close a resolved incident with a closing note (what was done, what the cause was)."""
        note = (note or "").strip()
        if not note:
            raise ValueError("closing an incident needs a closing note")
        return self._act(incident_id, actor, "closed", {"note": note},
                         "UPDATE incident SET state = 'closed', closed_at = now(), closed_by = %s, closing_note = %s, "
                         "updated_at = now() WHERE id = %s RETURNING *", (actor, note), allowed=(RESOLVED,),
                         refused="incident {id} is not resolved (open alerts, or closed already); "
                                 "it is closed once all its alerts are resolved")
