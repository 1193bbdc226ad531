"""Acknowledgements from notifications, in the database: what a link or a button can still do
(``look``, read only), and the acknowledgement itself (``acknowledge``) through
``AlertStore.acknowledge``, so it is audited in ``alert_event`` like one from the console.

An e-mail link's nonce is recorded in ``ack_link_use`` in the same transaction, with the alert row
locked: of two uses of one link, however close, one acknowledges and the other finds the row.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.alerting.notify.acklinks import Outcome, standing
from agents.alerting.store import AlertStore
from streams.core.errors import IOCError, SinkError
from streams.core.inputs import recordable
from streams.db.connect import Connection, connect
from streams.db.errors import translated

ALERT = """SELECT id, rule, entity, severity, state, summary_vi, summary_en, started_at, fired_at, resolved_at,
                  acknowledged_by, acknowledged_at, drill
           FROM alert WHERE id = %s"""
USE = "SELECT actor, used_at, address FROM ack_link_use WHERE nonce = %s"
RECORD_USE = """INSERT INTO ack_link_use (nonce, alert_id, receiver, actor, address, user_agent)
                VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (nonce) DO NOTHING RETURNING nonce"""
WHAT = "alert store unavailable"


class _Refused(IOCError):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.kind)
        self.outcome = outcome


class AckStore:
    def __init__(self, dsn: str, alerts: AlertStore | None = None) -> None:
        self.dsn = dsn
        self.alerts = alerts or AlertStore(dsn)

    def look(self, alert_id: int, nonce: str | None = None) -> tuple[dict[str, Any] | None, Outcome]:
        """The alert (or None) and what a link with ``nonce`` (a button: None) can do for it; no change."""
        with translated(WHAT, table="alert"), \
                connect(self.dsn, what=WHAT, table="alert", role="ack", dict_rows=True) as conn:
            alert = conn.execute(ALERT, (alert_id,)).fetchone()
            use = conn.execute(USE, (nonce,)).fetchone() if nonce else None
        return alert, standing(alert_id, alert, use)

    def acknowledge(self, alert_id: int, actor: str, *, via: str, nonce: str | None = None, receiver: str = "",
                    address: str = "", user_agent: str = "",
                    detail: Mapping[str, Any] | None = None) -> tuple[dict[str, Any] | None, Outcome]:
        """Acknowledge as ``actor`` unless the alert is gone, closed or acknowledged already, or the
        link (``nonce``) was used; returns the alert and ``done`` or the reason it was not."""
        alert, outcome = self.look(alert_id, nonce)
        if outcome.kind != "ready":
            return alert, outcome
        address, user_agent = recordable(address)[:200], recordable(user_agent)[:500]

        def check(conn: Connection, locked: dict[str, Any]) -> None:
            if nonce and conn.execute(RECORD_USE, (nonce, alert_id, receiver, actor, address, user_agent)).fetchone() \
                    is None:
                raise _Refused(standing(alert_id, locked, conn.execute(USE, (nonce,)).fetchone()))
            if locked["acknowledged_at"] is not None:
                raise _Refused(standing(alert_id, locked))

        audit = {"via": via, **({"receiver": receiver} if receiver else {}), **({"address": address} if address else {}),
                 **(detail or {})}
        try:
            with translated(WHAT, table="alert"):
                done = self.alerts.acknowledge(alert_id, actor, detail=audit, check=check)
        except _Refused as exc:
            return self.look(alert_id)[0], exc.outcome
        except SinkError:
            raise
        except IOCError:  # closed or deleted since the look: say which
            alert, outcome = self.look(alert_id, nonce)
            if outcome.kind == "ready":
                raise
            return alert, outcome
        return done, Outcome("done", alert_id, actor, done["acknowledged_at"])
