"""Open alerts on the wall: counts by severity, the list, and which page an alert belongs to.

Rows are the snapshot's ``alerts`` (table ``alert``, pending and firing).  An alert *needs
attention* when it is firing, not suppressed by a parent's alert and not silenced.  The page of
an alert follows its rule's indicator family (``health.*`` → systems, ``sensor.*`` →
environment …); alerts of unknown rules belong to the overview.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from dash import html

from ioc_dash.figures import SEVERITIES, ago, badge, tile
from ioc_dash.i18n import t
from streams.core.families import FAMILIES

INDICATOR_PAGES = {**{f.name: f.page for f in FAMILIES}, "source": "sources", "register": "security"}
SEVERITY_BADGE = {"critical": "down", "high": "high", "medium": "degraded", "low": "low", "informational": "unknown"}
TILE_SEVERITIES = ("critical", "high", "medium", "low")


def rule_pages(rules: Iterable[Any]) -> dict[str, str]:
    """Rule name -> page key, from each rule's ``indicator`` family."""
    return {r.name: INDICATOR_PAGES.get(r.indicator.split(".", 1)[0], "overview") for r in rules}


def page_of(alert: Mapping[str, Any], pages: Mapping[str, str]) -> str:
    return pages.get(alert["rule"], "overview")


def needs_attention(alert: Mapping[str, Any], now: datetime) -> bool:
    silenced = alert.get("silenced_until") is not None and alert["silenced_until"] > now
    return alert["state"] == "firing" and alert.get("suppressed_by") is None and not silenced


def attention(alerts: Iterable[Mapping[str, Any]], now: datetime) -> list[Mapping[str, Any]]:
    return [a for a in alerts if needs_attention(a, now)]


def critical_alerts(alerts: Iterable[Mapping[str, Any]], now: datetime) -> list[Mapping[str, Any]]:
    """Firing critical alerts that need attention, newest first (the kiosk brings them forward)."""
    found = [a for a in attention(alerts, now) if a["severity"] == "critical"]
    return sorted(found, key=lambda a: a.get("fired_at") or a["started_at"], reverse=True)


def severity_counts(alerts: Iterable[Mapping[str, Any]], now: datetime) -> dict[str, int]:
    counts = {s: 0 for s in SEVERITIES}
    for a in attention(alerts, now):
        counts[a["severity"]] = counts.get(a["severity"], 0) + 1
    return counts


def severity_tiles(alerts: Iterable[Mapping[str, Any]], now: datetime, lang: str) -> html.Div:
    counts = severity_counts(alerts, now)
    return html.Div([tile(counts[s], t(f"severity_{s}", lang), SEVERITY_BADGE[s] if counts[s] else "quiet",
                          id=f"alerts-{s}") for s in TILE_SEVERITIES], className="tiles")


def summary(alert: Mapping[str, Any], lang: str) -> str:
    text = alert.get("summary_en") if lang == "en" else alert.get("summary_vi")
    return text or f"{alert['rule']}: {alert['entity']}"


def alert_list(alerts: Iterable[Mapping[str, Any]], now: datetime, lang: str, *, limit: int = 8,
               page: str | None = None, pages: Mapping[str, str] | None = None) -> html.Ul:
    """The open alerts that need attention, worst and newest first, ``limit`` rows and a "more" line;
    only those of ``page`` when it is given (with the rule -> page map ``pages``)."""
    shown = sorted(attention(alerts, now),
                   key=lambda a: (SEVERITIES.index(a["severity"]), -(a.get("fired_at") or a["started_at"]).timestamp()))
    if page is not None:
        shown = [a for a in shown if page_of(a, pages or {}) == page]
    items = []
    for a in shown[:limit]:
        note = (t("alert_acknowledged", lang).format(who=a["acknowledged_by"]) if a.get("acknowledged_by")
                else t("alert_unacknowledged", lang))
        items.append(html.Li([
            badge(t(f"severity_{a['severity']}", lang), SEVERITY_BADGE[a["severity"]]),
            html.Span([html.Span(t("drill_tag", lang).format(drill=a["drill"]), className="drill-tag")
                       if a.get("drill") else "", summary(a, lang)], className="alert-summary", title=summary(a, lang)),
            html.Span(f"{ago(a.get('fired_at') or a['started_at'], now, lang)} · {note}", className="alert-meta"),
        ], className=f"alert-item alert-{a['severity']}", id={"type": "alert-item", "alert": a["id"]}))
    if not items:
        items.append(html.Li(t("no_open_alerts", lang), className="alert-item empty"))
    if len(shown) > limit:
        items.append(html.Li(t("more_alerts", lang).format(n=len(shown) - limit), className="alert-item more"))
    return html.Ul(items, className="alert-list", id="alert-list")
