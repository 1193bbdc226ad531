"""What a notification carries: the payload stored in ``notification_outbox.payload``.

Written by the evaluator and the escalation step in the same transaction as the alert's
transition; read by the dispatcher, which turns it into an Alertmanager alert, a webhook body,
an e-mail or a Telegram message.  Times are ISO 8601 UTC strings.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

#: why a notification is sent
EVENTS = ("firing", "resolved", "escalated", "acknowledged")


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def build_payload(alert: dict[str, Any], event: str, *, level: int = 0, actor: str | None = None,
                  comment: str | None = None) -> dict[str, Any]:
    """``alert`` is a row of the ``alert`` table (as a dict)."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}; known: {', '.join(EVENTS)}")
    return {
        "event": event,
        "level": level,
        "actor": actor,
        "comment": comment,
        "alert": {
            "id": alert["id"],
            "rule": alert["rule"],
            "entity": alert["entity"],
            "severity": alert["severity"],
            "state": alert["state"],
            "value": alert.get("value"),
            "summary": {"vi": alert.get("summary_vi", ""), "en": alert.get("summary_en", "")},
            "labels": dict(alert.get("labels") or {}),
            "runbook": alert.get("runbook", ""),
            "started_at": _iso(alert.get("started_at")),
            "fired_at": _iso(alert.get("fired_at")),
            "resolved_at": _iso(alert.get("resolved_at")),
            "acknowledged_by": alert.get("acknowledged_by"),
            "drill": alert.get("drill"),  # the drill scenario, for an alert of a running drill
        },
    }
