"""The alert lifecycle in TimescaleDB: evaluator rounds, operator actions, escalation, history.

Every change is one transaction that updates ``alert``, appends to ``alert_event`` (the audit)
and, when someone must hear of it, inserts ``notification_outbox`` rows — so a notification is
never sent for a change that was not stored, nor lost for one that was.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from psycopg.types.json import Jsonb

from agents.alerting.evaluate import States, Topology, in_maintenance, suppressor
from agents.alerting.payload import build_payload
from agents.alerting.rules import Rule
from agents.alerting.state import FIRING, INACTIVE, PENDING, RESOLVED, AlertState, Transition
from streams.core.errors import IOCError
from streams.core.inputs import check_all, storable
from agents.alerting.drillstore import active_drills, routes_for
from agents.alerting.incidents import Policy as IncidentPolicy
from agents.alerting.incidentstore import on_alert_over, on_fired
from agents.alerting.silences import Silence, check_matchers, silence_from_row, silencing
from agents.indicators.queries import security as security_sql, sources as sources_sql
from agents.indicators.registry import FAMILY_SQL
from streams.db.connect import Connection, connect

# escalation level -> [(channel, receiver)]; called with drill=<scenario> for an alert of a drill
Receivers = Callable[..., Sequence[tuple[str, str]]]
# a last check of an operator action, inside its transaction: (connection, locked alert row); raises to refuse
Check = Callable[[Connection, dict[str, Any]], None]

#: indicators read straight from SQL (``agents/indicators/queries/``); the others are computed in
#: Python by the readers of ``agents.alerting.derived`` (the health.* ones are the wall's statuses
#: from ``agents.indicators.queries.health.STATUS_SQL``; security.findings_critical weighs severities
#: by the register's levels)
INDICATOR_SQL: dict[str, str] = {
    "security.auth_failures": security_sql.AUTH_FAILURES,
    "source.age_s": sources_sql.AGE_S,
    "source.rejected_share": sources_sql.REJECTED_SHARE,
    **FAMILY_SQL,
}


def _state_row(st: AlertState) -> tuple:
    return (st.rule, st.entity, st.state, st.since, st.breach_since, st.clear_since, st.value, st.flapping,
            Jsonb([t.isoformat() for t in st.changes]))


class AlertStore:
    def __init__(self, dsn: str, names: Mapping[str, str] | None = None,
                 incidents: IncidentPolicy = IncidentPolicy()) -> None:
        self.dsn = dsn
        self.names = dict(names or {})  # entity code -> name, for ``{place}`` in summaries
        self.incidents = incidents  # how firing alerts group into incidents (agents/alerting/incidents.py)

    def _summary(self, rule: Rule, lang: str, t: Transition) -> str:
        name = self.names.get(t.entity)
        place = f"{name} ({t.entity})" if name and name != t.entity else t.entity
        return rule.text(lang, entity=t.entity, value=t.value, place=place)

    def _connect(self) -> Connection:
        return connect(self.dsn, what="alert store unavailable", table="alert", role="alerts", dict_rows=True)

    # --- evaluator side ----------------------------------------------------------------------

    def read_values(self, indicators: Iterable[str]) -> dict[str, dict[str, float | None]]:
        out: dict[str, dict[str, float | None]] = {}
        with self._connect() as conn:
            for name in sorted(set(indicators)):
                query = INDICATOR_SQL.get(name)
                if query is None:
                    continue
                rows = conn.execute(query).fetchall()
                out[name] = {str(next(iter(r.values()))): list(r.values())[1] for r in rows}
        return out

    def fetch(self, query: str, params: tuple | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only query (current-state tables for the derived indicators)."""
        with self._connect() as conn:
            return conn.execute(query, params).fetchall()

    def load_states(self) -> States:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM alert_rule_state").fetchall()
        return {
            (r["rule"], r["entity"]): AlertState(
                r["rule"], r["entity"], r["state"], r["since"], r["breach_since"], r["clear_since"], r["value"],
                r["flapping"], tuple(datetime.fromisoformat(t) for t in r["changes"]),
            )
            for r in rows
        }

    def maintenance(self, now: datetime) -> list[tuple[str | None, datetime, datetime]]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT system, starts_at, ends_at FROM maintenance_occurrence WHERE starts_at <= %s AND ends_at > %s",
                (now, now),
            ).fetchall()
        return [(r["system"], r["starts_at"], r["ends_at"]) for r in rows]

    def apply_round(
        self,
        rules: Mapping[str, Rule],
        states: States,
        transitions: Sequence[Transition],
        now: datetime,
        *,
        topology: Topology = Topology(),
        receivers_for: Receivers = lambda level, drill=None: (),
    ) -> int:
        """Persist one evaluation round; returns the number of notifications queued."""
        queued = 0
        maint = self.maintenance(now) if transitions else []
        silences = self.active_silences(now) if any(t.new == FIRING for t in transitions) else []
        with self._connect() as conn, conn.transaction():
            firing = {r["entity"]: r["id"] for r in conn.execute(
                "SELECT id, entity FROM alert WHERE state = 'firing'").fetchall()}
            drills = active_drills(conn, now) if any(t.new == PENDING for t in transitions) else {}
            for t in transitions:
                rule = rules[t.rule].for_entity(t.entity)
                if t.new == PENDING:
                    drill_run, drill = drills.get(t.entity, (None, None))
                    row = conn.execute(
                        """INSERT INTO alert (rule, entity, severity, state, started_at, value, summary_vi,
                                              summary_en, labels, runbook, flapping, drill_run, drill)
                           VALUES (%s, %s, %s, 'pending', %s, %s, %s, %s, %s, %s, %s, %s, %s)
                           ON CONFLICT DO NOTHING RETURNING id""",
                        (t.rule, t.entity, rule.severity, t.at, t.value,
                         self._summary(rule, "vi", t), self._summary(rule, "en", t), Jsonb(rule.labels), rule.runbook,
                         t.flapping, drill_run, drill),
                    ).fetchone()
                    if row:
                        self._event(conn, row["id"], "pending", t.at, {"value": t.value})
                    continue
                alert = conn.execute(
                    "SELECT * FROM alert WHERE rule = %s AND entity = %s AND state IN ('pending', 'firing') FOR UPDATE",
                    (t.rule, t.entity),
                ).fetchone()
                if alert is None:
                    continue
                if t.new == FIRING:
                    parent = suppressor(t.entity, set(firing), topology)
                    alert = conn.execute(
                        """UPDATE alert SET state = 'firing', fired_at = %s, value = %s, flapping = %s,
                                  summary_vi = %s, summary_en = %s, suppressed_by = %s, updated_at = now()
                           WHERE id = %s RETURNING *""",
                        (t.at, t.value, t.flapping, self._summary(rule, "vi", t), self._summary(rule, "en", t),
                         firing.get(parent) if parent else None, alert["id"]),
                    ).fetchone()
                    firing[t.entity] = alert["id"]
                    self._event(conn, alert["id"], "fired", t.at, {"value": t.value, "flapping": t.flapping})
                    quiet = self._quiet_reason(alert, t, parent, maint, topology, now)
                    silence = None if quiet else silencing(silences, alert["rule"], alert["entity"], alert["labels"], now)
                    if silence is not None:
                        quiet = "silenced"
                    if quiet:
                        self._event(conn, alert["id"], quiet, t.at,
                                    {"parent": parent} if silence is None else {"silence": silence.id})
                    else:
                        queued += self._notify(conn, alert, "firing", 0, receivers_for)
                    on_fired(conn, alert, t.at, quiet, topology, self.incidents)
                elif t.new in (RESOLVED, INACTIVE):
                    final = "resolved" if t.new == RESOLVED else "cancelled"
                    alert = conn.execute(
                        """UPDATE alert SET state = %s, resolved_at = %s, value = %s, updated_at = now()
                           WHERE id = %s RETURNING *""",
                        (final, t.at, t.value, alert["id"]),
                    ).fetchone()
                    firing.pop(t.entity, None)
                    self._event(conn, alert["id"], final, t.at, {"value": t.value})
                    on_alert_over(conn, alert["id"], t.at)
                    if final == "resolved" and t.notify and alert["suppressed_by"] is None and alert["fired_at"] \
                            and self._was_announced(conn, alert["id"]):
                        # everyone called about it hears it is over, once each (not after a silence or
                        # a maintenance window kept it quiet)
                        routes = list(dict.fromkeys(r for level in range(alert["escalation_level"] + 1)
                                                    for r in routes_for(receivers_for, alert, level)))
                        queued += self._notify(conn, alert, "resolved", alert["escalation_level"],
                                               lambda _level, **_drill: routes)
            # the states of this round's transitions, and every open state: what changes without a
            # transition (since when a firing alert's value has been clear, for keep_firing_for) must
            # reach the next round, which loads the states anew
            changed = {(t.rule, t.entity) for t in transitions} | {
                k for k, st in states.items() if st.state in (PENDING, FIRING)}
            rows = [_state_row(states[k]) for k in sorted(changed) if k in states]
            if rows:
                with conn.cursor() as cur:
                    cur.executemany(
                        """INSERT INTO alert_rule_state (rule, entity, state, since, breach_since, clear_since, value,
                                                         flapping, changes)
                           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                           ON CONFLICT (rule, entity) DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since,
                             breach_since = EXCLUDED.breach_since, clear_since = EXCLUDED.clear_since,
                             value = EXCLUDED.value, flapping = EXCLUDED.flapping, changes = EXCLUDED.changes,
                             updated_at = now()""",
                        rows,
                    )
        return queued

    @staticmethod
    def _quiet_reason(alert, t: Transition, parent, maint, topology: Topology, now: datetime) -> str | None:
        if parent is not None:
            return "suppressed"
        if not t.notify:
            return "flapping"
        if alert["silence_until_resolved"] or (alert["silenced_until"] and alert["silenced_until"] > now):
            return "silenced"
        if in_maintenance(alert["entity"], now, maint, topology):
            return "maintenance"
        return None

    @staticmethod
    def _event(conn, alert_id: int, kind: str, at: datetime, detail: dict[str, Any], actor: str = "system") -> None:
        conn.execute(
            "INSERT INTO alert_event (alert_id, at, kind, actor, detail) VALUES (%s, %s, %s, %s, %s)",
            (alert_id, at, kind, actor, Jsonb(detail)),
        )

    @staticmethod
    def _was_announced(conn, alert_id: int) -> bool:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM notification_outbox WHERE alert_id = %s) AS sent",
                            (alert_id,)).fetchone()["sent"]

    @staticmethod
    def _notify(conn, alert, event: str, level: int, receivers_for: Receivers, **extra) -> int:
        payload = build_payload(alert, event, level=level, **extra)
        n = 0
        for channel, receiver in routes_for(receivers_for, alert, level):
            conn.execute(
                "INSERT INTO notification_outbox (alert_id, channel, receiver, payload) VALUES (%s, %s, %s, %s)",
                (alert["id"], channel, receiver, Jsonb(payload)),
            )
            n += 1
        return n

    # --- maintenance windows ---------------------------------------------------------------------

    def add_maintenance(self, *, system: str | None, reason: str, actor: str, starts_at: datetime | None = None,
                        ends_at: datetime | None = None, recurrence: dict[str, Any] | None = None,
                        now: datetime | None = None) -> int:
        """A one-off (start, end) or weekly window; its occurrences are usable at once."""
        from agents.indicators.housekeeping import plan_occurrences

        check_all({"system": system, "reason": reason, "actor": actor, "recurrence": recurrence})
        now = now or datetime.now(timezone.utc)
        with self._connect() as conn, conn.transaction():
            wid = conn.execute(
                """INSERT INTO maintenance_window (system, starts_at, ends_at, recurrence, reason, created_by)
                   VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                (system, starts_at, ends_at, Jsonb(recurrence) if recurrence else None, reason, actor),
            ).fetchone()["id"]
            rows = plan_occurrences([(wid, system, starts_at, ends_at, recurrence)], now)
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO maintenance_occurrence (window_id, system, starts_at, ends_at) "
                                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)
        return wid

    def maintenance_windows(self) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return conn.execute(
                """SELECT w.*, (SELECT min(o.starts_at) FROM maintenance_occurrence o
                                WHERE o.window_id = w.id AND o.ends_at > now()) AS next_start
                   FROM maintenance_window w ORDER BY w.id""").fetchall()

    # --- silences by matcher (agents/alerting/silences.py) ----------------------------------------

    def active_silences(self, now: datetime, conn: Connection | None = None) -> list[Silence]:
        query = "SELECT * FROM alert_silence WHERE starts_at <= %s AND ends_at > %s AND ended_at IS NULL"
        if conn is not None:
            return [silence_from_row(r) for r in conn.execute(query, (now, now)).fetchall()]
        with self._connect() as c:
            return [silence_from_row(r) for r in c.execute(query, (now, now)).fetchall()]

    def silences(self, *, include_past: bool = False) -> list[dict[str, Any]]:
        """Silences in force or to come (and, with ``include_past``, the ended ones), newest first."""
        with self._connect() as conn:
            return conn.execute(
                "SELECT * FROM alert_silence WHERE %s OR (ended_at IS NULL AND ends_at > now()) ORDER BY id DESC",
                (include_past,)).fetchall()

    def add_silence(self, *, rule: str = "*", entity: str = "*", labels: Mapping[str, str] | None = None,
                    starts_at: datetime, ends_at: datetime, comment: str, actor: str) -> int:
        labels = {str(k): str(v) for k, v in (labels or {}).items()}
        check_matchers(rule, entity, labels, starts_at, ends_at, comment)
        storable(actor, "actor")
        with self._connect() as conn, conn.transaction():
            sid = conn.execute(
                """INSERT INTO alert_silence (rule, entity, labels, starts_at, ends_at, comment, created_by)
                   VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                (rule, entity, Jsonb(labels), starts_at, ends_at, comment, actor)).fetchone()["id"]
            conn.execute("INSERT INTO auth_event (actor, kind, subject, detail) VALUES (%s, 'silence_added', %s, %s)",
                         (actor, str(sid), Jsonb({"rule": rule, "entity": entity, "labels": labels,
                                                  "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                                                  "comment": comment})))
            return sid

    def end_silence(self, silence_id: int, actor: str) -> bool:
        """End a silence now; False when there is no such silence in force or to come."""
        storable(actor, "actor")
        with self._connect() as conn, conn.transaction():
            done = conn.execute("UPDATE alert_silence SET ended_at = now(), ended_by = %s "
                                "WHERE id = %s AND ended_at IS NULL AND ends_at > now()",
                                (actor, silence_id)).rowcount == 1
            if done:
                conn.execute("INSERT INTO auth_event (actor, kind, subject) VALUES (%s, 'silence_ended', %s)",
                             (actor, str(silence_id)))
            return done

    def delete_maintenance(self, window_id: int) -> bool:
        with self._connect() as conn:
            return conn.execute("DELETE FROM maintenance_window WHERE id = %s", (window_id,)).rowcount == 1

    # --- escalation ------------------------------------------------------------------------------

    def escalate(self, now: datetime, levels: Sequence[timedelta], receivers_for: Receivers) -> int:
        """Move unacknowledged firing alerts to the next on-call level once its delay has passed.

        ``levels[i]`` is how long after firing level ``i`` is called (``levels[0]`` is 0).
        """
        moved = 0
        with self._connect() as conn, conn.transaction():
            rows = conn.execute(
                """SELECT * FROM alert WHERE state = 'firing' AND acknowledged_at IS NULL AND suppressed_by IS NULL
                     AND NOT silence_until_resolved AND (silenced_until IS NULL OR silenced_until <= %s)
                   FOR UPDATE SKIP LOCKED""",
                (now,),
            ).fetchall()
            silences = self.active_silences(now, conn) if rows else []
            for alert in rows:
                if silencing(silences, alert["rule"], alert["entity"], alert["labels"], now):
                    continue
                nxt = alert["escalation_level"] + 1
                if nxt >= len(levels) or now - alert["fired_at"] < levels[nxt]:
                    continue
                alert = conn.execute(
                    "UPDATE alert SET escalation_level = %s, escalated_at = %s, updated_at = now() WHERE id = %s "
                    "RETURNING *", (nxt, now, alert["id"])).fetchone()
                self._event(conn, alert["id"], "escalated", now, {"level": nxt})
                self._notify(conn, alert, "escalated", nxt, receivers_for)
                moved += 1
        return moved

    # --- operator actions (each checked and audited) -----------------------------------------

    def _act(self, alert_id: int, actor: str, kind: str, sql: str, params: tuple, detail: dict[str, Any],
             allowed: tuple[str, ...] = ("pending", "firing"), check: Check | None = None,
             then: Callable | None = None) -> dict[str, Any]:
        check_all({"actor": actor, **detail, "value": params})  # refused before any change
        with self._connect() as conn, conn.transaction():
            alert = conn.execute("SELECT * FROM alert WHERE id = %s FOR UPDATE", (alert_id,)).fetchone()
            if alert is None:
                raise IOCError(f"no alert {alert_id}")
            if alert["state"] not in allowed:
                raise IOCError(f"alert {alert_id} is {alert['state']}; cannot {kind}")
            if check is not None:
                check(conn, alert)
            if sql:
                alert = conn.execute(sql, (*params, alert_id)).fetchone()
            at = datetime.now(timezone.utc)
            self._event(conn, alert_id, kind, at, detail, actor)
            if then is not None:  # what else the change moves, in the same transaction
                then(conn, alert, at)
            return alert

    def acknowledge(self, alert_id: int, actor: str, comment: str = "", *, detail: Mapping[str, Any] | None = None,
                    check: Check | None = None) -> dict[str, Any]:
        """``detail`` goes to the audit with the comment; ``check(conn, alert)`` runs in the transaction
        with the alert locked, before the change, and refuses it by raising (an acknowledge link)."""
        return self._act(alert_id, actor, "acknowledged",
                         "UPDATE alert SET acknowledged_by = %s, acknowledged_at = now(), updated_at = now() "
                         "WHERE id = %s RETURNING *", (actor,), {"comment": comment, **(detail or {})}, check=check)

    def assign(self, alert_id: int, actor: str, assignee: str) -> dict[str, Any]:
        return self._act(alert_id, actor, "assigned",
                         "UPDATE alert SET assigned_to = %s, updated_at = now() WHERE id = %s RETURNING *",
                         (assignee,), {"assignee": assignee})

    def comment(self, alert_id: int, actor: str, text: str) -> dict[str, Any]:
        return self._act(alert_id, actor, "commented", "", (), {"comment": text},
                         allowed=("pending", "firing", "resolved", "cancelled"))

    def silence(self, alert_id: int, actor: str, *, until: datetime | None = None,
                until_resolved: bool = False, comment: str = "") -> dict[str, Any]:
        if until is None and not until_resolved:
            raise IOCError("a silence needs an end time or 'until resolved'")
        return self._act(alert_id, actor, "silenced",
                         "UPDATE alert SET silenced_until = %s, silence_until_resolved = %s, updated_at = now() "
                         "WHERE id = %s RETURNING *", (until, until_resolved),
                         {"until": until.isoformat() if until else None, "until_resolved": until_resolved,
                          "comment": comment})

    def resolve(self, alert_id: int, actor: str, comment: str = "") -> dict[str, Any]:
        """Resolved by hand: if the condition still holds, the next round opens a new alert."""
        alert = self._act(alert_id, actor, "resolved_by_operator",
                          "UPDATE alert SET state = 'resolved', resolved_at = now(), updated_at = now() "
                          "WHERE id = %s RETURNING *", (), {"comment": comment},
                          then=lambda conn, a, at: on_alert_over(conn, a["id"], at))
        with self._connect() as conn:
            conn.execute("UPDATE alert_rule_state SET state = 'inactive', breach_since = NULL, clear_since = NULL, "
                         "updated_at = now() WHERE rule = %s AND entity = %s", (alert["rule"], alert["entity"]))
        return alert

    def history(self, alert_id: int) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return conn.execute("SELECT * FROM alert_event WHERE alert_id = %s ORDER BY id", (alert_id,)).fetchall()

    def alerts(self, *, states: Sequence[str] = ("pending", "firing"), limit: int = 200) -> list[dict[str, Any]]:
        check_all({"state": list(states)})
        with self._connect() as conn:
            return conn.execute(
                "SELECT * FROM alert WHERE state = ANY(%s) ORDER BY started_at DESC LIMIT %s", (list(states), limit)
            ).fetchall()
