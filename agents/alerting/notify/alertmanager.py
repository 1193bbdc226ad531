"""Alerts for Alertmanager's ``POST /api/v2/alerts`` (pure).

One Alertmanager alert per IOC alert::

    labels       alertname = rule, entity, severity, and the rule's own labels
    annotations  summary (vi), summary_en, runbook, alert_id, value, acknowledged_by
    startsAt     fired_at
    endsAt       resolved_at once resolved; else now + margin, so that Alertmanager resolves it by
                 itself if the re-sends stop (the evaluator re-sends open alerts every 60 s)
    generatorURL the alert's page on the dashboard

Alertmanager keeps no history, so firing alerts and those resolved within the last minutes are
re-sent periodically: ``resend_batch`` builds that array from rows of the ``alert`` table.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from agents.alerting.payload import build_payload

CORE_LABELS = ("alertname", "entity", "severity")
_BAD_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def label_name(name: str) -> str:
    """A valid Prometheus label name (``[a-zA-Z_][a-zA-Z0-9_]*``) for ``name``."""
    clean = _BAD_LABEL_CHARS.sub("_", name) or "_"
    return f"_{clean}" if clean[0].isdigit() else clean


def _iso(ts: datetime) -> str:
    return ts.isoformat()


def page_url(template: str, alert_id: Any) -> str:
    return template.replace("{id}", str(alert_id))


RUNBOOK_DOC = "docs/runbooks.md#"


def runbook_url(runbook: str | None, template: str, lang: str = "vi") -> str:
    """A rule's runbook as a link: ``docs/runbooks.md#x`` becomes the dashboard's ``/runbooks?lang=vi#x``
    on the site of the alert page ``template`` (what comes before ``/alerts/{id}``, or its scheme and
    host); any other value (a URL of the province's wiki) stays as it is."""
    if not runbook or not runbook.startswith(RUNBOOK_DOC):
        return runbook or ""
    anchor = runbook[len(RUNBOOK_DOC):]
    if "/alerts/{id}" in template:
        site = template.split("/alerts/{id}", 1)[0]
    else:
        parts = urlsplit(template)
        site = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return f"{site}/runbooks?lang={lang}#{anchor}"


def _value(v: Any) -> str | None:
    if v is None:
        return None
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def to_alertmanager(payload: Mapping[str, Any], *, now: datetime, margin: timedelta,
                    url_template: str) -> dict[str, Any]:
    """The Alertmanager alert for an outbox ``payload`` (see ``agents.alerting.payload``)."""
    a = payload["alert"]
    labels = {label_name(str(k)): str(v) for k, v in (a.get("labels") or {}).items()
              if label_name(str(k)) not in CORE_LABELS}
    labels.update(alertname=a["rule"], entity=str(a["entity"]), severity=a["severity"])
    if a.get("drill"):
        labels["drill"] = str(a["drill"])  # Alertmanager routes and silences can tell a drill apart
    summary = a.get("summary") or {}
    annotations = {
        "summary": summary.get("vi") or "",
        "summary_en": summary.get("en") or "",
        "runbook": runbook_url(a.get("runbook"), url_template),
        "alert_id": str(a["id"]),
        "value": _value(a.get("value")),
        "acknowledged_by": a.get("acknowledged_by"),
    }
    resolved = a.get("state") in ("resolved", "cancelled") and a.get("resolved_at")
    return {
        "labels": labels,
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": a.get("fired_at") or a.get("started_at"),
        "endsAt": a["resolved_at"] if resolved else _iso(now + margin),
        "generatorURL": page_url(url_template, a["id"]),
    }


def resend_batch(rows: Iterable[Mapping[str, Any]], *, now: datetime, resolved_within: timedelta,
                 margin: timedelta, url_template: str) -> list[dict[str, Any]]:
    """The v2 array to re-send: firing alerts, and alerts resolved within ``resolved_within``.

    ``rows`` are rows of the ``alert`` table (dicts); others (pending, cancelled, older resolved,
    never fired) are left out.
    """
    out = []
    for row in rows:
        if not row.get("fired_at"):
            continue
        if row["state"] == "firing":
            event = "firing"
        elif row["state"] == "resolved" and row.get("resolved_at") and now - row["resolved_at"] <= resolved_within:
            event = "resolved"
        else:
            continue
        out.append(to_alertmanager(build_payload(dict(row), event), now=now, margin=margin, url_template=url_template))
    out.sort(key=lambda al: (al["labels"]["alertname"], al["labels"]["entity"]))
    return out
