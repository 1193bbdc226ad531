"""Pure functions from snapshot data to what the wall shows.  Tests call them directly.

This module holds what every page shares: formatting (times in Asia/Ho_Chi_Minh), badges,
tiles and tables, the dark plotly layout, system statuses, freshness and the stale banner, and
the sources table.  Each page's own figures are in ``figures_<page>.py``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dash import dcc, html

from agents.indicators import health
from agents.indicators.health import HealthStatus, StatusRules
from agents.indicators.history import Entity, entity_href
from agents.indicators.sources import SourceHealth, source_health
from ioc_dash.i18n import t
from ioc_dash.repository import Snapshot
from streams.core.clock import LOCAL_TZ
from streams.core.geography import Province

STATUS_ORDER = {"down": 0, "degraded": 1, "stale": 2, "ok": 3}
SEVERITIES = ("critical", "high", "medium", "low", "informational")
#: colours of the wall (the same as assets/wall.css), for plotly figures
COLORS = {"ok": "#2fbf71", "degraded": "#f2b134", "down": "#e5484d", "unknown": "#6b7a90",
          "critical": "#e5484d", "high": "#f27b35", "medium": "#f2b134", "low": "#4ea1f2", "informational": "#6b7a90",
          "fg": "#e8eef7", "muted": "#8ea0b8", "grid": "#24324a", "panel": "#121c2e", "accent": "#4ea1f2"}
#: on the wall every text is at least 20 px: plotly's fonts (axes, legends, notes), at scale 1 (1920×1080)
FONT_PX = 20
#: badge class of a sensor status (normal < alert < danger) and of a camera state
LEVEL_BADGE = {"normal": "ok", "alert": "degraded", "danger": "down", None: "unknown"}
CAMERA_BADGE = {"online": "ok", "flapping": "degraded", "offline": "down", "unknown": "unknown"}


# --- formatting --------------------------------------------------------------------------------


def local_time(ts: datetime | None, fmt: str = "%H:%M:%S %d/%m/%Y") -> str:
    return ts.astimezone(LOCAL_TZ).strftime(fmt) if ts else "—"


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}".replace(",", " ")
    return f"{text} {unit}".rstrip()


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}/s"


def ago(ts: datetime | None, now: datetime, lang: str) -> str:
    if ts is None:
        return t("never", lang)
    s = max(0, int((now - ts).total_seconds()))
    if s < 60:
        return t("seconds_ago", lang).format(n=s)
    if s < 3600:
        return t("minutes_ago", lang).format(n=s // 60)
    if s < 86400:
        return t("hours_ago", lang).format(n=s // 3600)
    return t("days_ago", lang).format(n=s // 86400)


# --- building blocks ---------------------------------------------------------------------------


def badge(text: str, kind: str) -> html.Span:
    return html.Span(text, className=f"badge badge-{kind}")


def tile(value: Any, label: str, kind: str = "unknown", *, id: str | None = None, sub: str | None = None,
         text: bool = False) -> html.Div:
    """A big number (or, with ``text``, a word) over its label; ``kind`` colours it."""
    parts = [html.Div(str(value), className="tile-value"), html.Div(label, className="tile-label")]
    if sub:
        parts.append(html.Div(sub, className="tile-sub"))
    return html.Div(parts, className=f"tile tile-{kind}" + (" tile-text" if text else ""), **({"id": id} if id else {}))


def data_table(head: Sequence[str], rows: Iterable[Sequence[Any]], *, id: str, row_ids: Sequence[Any] | None = None,
               row_classes: Sequence[str] | None = None, numeric: Iterable[int] = (),
               empty: str | None = None) -> html.Table:
    """A table of the wall: ``numeric`` column indexes are right-aligned tabular figures."""
    numeric = set(numeric)
    body = []
    for i, row in enumerate(rows):
        attrs: dict[str, Any] = {}
        if row_ids is not None:
            attrs["id"] = row_ids[i]
        if row_classes is not None:
            attrs["className"] = row_classes[i]
        body.append(html.Tr([html.Td(cell, className="num" if j in numeric else None) for j, cell in enumerate(row)],
                            **attrs))
    if not body and empty:
        body = [html.Tr(html.Td(empty, colSpan=len(head), className="empty"))]
    head_row = html.Tr([html.Th(h, className="num" if j in numeric else None) for j, h in enumerate(head)])
    return html.Table([html.Thead(head_row), html.Tbody(body)], className="status-table", id=id)


def rgba(color: str, alpha: float) -> str:
    """``#rrggbb`` with an opacity, for fills."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def figure_layout(scale: float = 1.0, **extra: Any) -> dict[str, Any]:
    """The wall's dark plotly layout; ``scale`` grows fonts with the screen (1 at 1920×1080)."""
    layout: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": COLORS["fg"], "size": round(FONT_PX * scale), "family": "Noto Sans, DejaVu Sans, sans-serif"},
        "margin": {"l": round(50 * scale), "r": round(15 * scale), "t": round(10 * scale), "b": round(40 * scale)},
        "xaxis": {"gridcolor": COLORS["grid"], "zeroline": False},
        "yaxis": {"gridcolor": COLORS["grid"], "zeroline": False},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                   "font": {"size": round(FONT_PX * scale)}},
        "hoverlabel": {"font": {"size": round(FONT_PX * scale)}},
    }
    for key, value in extra.items():  # axes, margins, legend: merged one level deep
        layout[key] = {**layout[key], **value} if isinstance(value, dict) and isinstance(layout.get(key), dict) else value
    return layout


def empty_figure(text: str, scale: float = 1.0) -> dict[str, Any]:
    return {"data": [], "layout": figure_layout(scale, xaxis={"visible": False}, yaxis={"visible": False},
                                                annotations=[{"text": text, "showarrow": False, "x": 0.5, "y": 0.5,
                                                              "xref": "paper", "yref": "paper",
                                                              "font": {"size": round(FONT_PX * scale),
                                                                       "color": COLORS["muted"]}}])}


# --- information systems -----------------------------------------------------------------------


def system_statuses(snapshot: Snapshot, province: Province, *, rules: StatusRules) -> list[HealthStatus]:
    """Every system of the province, with data or without; worst first.  The same statuses as the
    alert engine's health.* indicators (``agents.alerting.derived.health_values``)."""
    statuses = health.system_statuses(snapshot.systems, [s.code for s in province.systems],
                                      now=snapshot.taken_at, rules=rules)
    return sorted(statuses.values(), key=lambda s: (STATUS_ORDER[s.status], s.system))


def system_name(province: Province, code: str, lang: str) -> str:
    try:
        system = province.system(code)
    except KeyError:
        return code
    return system.name if lang == "vi" else system.name_en


def summary_tiles(statuses: list[HealthStatus], lang: str) -> html.Div:
    counts = {k: 0 for k in STATUS_ORDER}
    for s in statuses:
        counts[s.status] += 1
    return html.Div([tile(counts[k], t(f"status_{k}", lang), k, id=f"tile-{k}")
                     for k in ("down", "degraded", "stale", "ok")], className="tiles")


# --- freshness ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    stale: bool
    newest: datetime | None
    reason: str | None  # no_data | data_old | pipeline_stopped | db_unreachable


def live_workers(snapshot: Snapshot, stale_after: timedelta) -> list[dict[str, Any]]:
    return [w for w in snapshot.workers if snapshot.taken_at - w["last_seen"] <= stale_after]


def freshness(snapshot: Snapshot, *, stale_after: timedelta) -> Freshness:
    """Whether the wall can be trusted now; the reason when it cannot."""
    newest = snapshot.newest_data
    if snapshot.error:
        return Freshness(True, newest, "db_unreachable")
    if newest is None:
        return Freshness(True, None, "no_data")
    if snapshot.workers and not live_workers(snapshot, stale_after):
        return Freshness(True, newest, "pipeline_stopped")
    if snapshot.taken_at - newest > stale_after:
        return Freshness(True, newest, "data_old")
    return Freshness(False, newest, None)


def stale_banner(fresh: Freshness, lang: str) -> html.Div:
    if not fresh.stale:
        return html.Div(className="stale-banner hidden", id="stale-banner")
    text = t("stale_since", lang).format(since=local_time(fresh.newest)) if fresh.newest else t("no_data_yet", lang)
    return html.Div([html.Strong(text), html.Span(" · " + t(f"stale_{fresh.reason}", lang))],
                    className="stale-banner", id="stale-banner")


def drill_banner(drills: Sequence[Mapping[str, Any]], now: datetime, lang: str) -> html.Div:
    """"DIỄN TẬP" while a drill runs: its title, scenario and time left (every drill running)."""
    running = [d for d in drills if d["ends_at"] > now]
    if not running:
        return html.Div(className="drill-banner hidden", id="drill-banner")
    parts: list[Any] = [html.Strong(t("drill_banner", lang), className="drill-word")]
    for d in running:
        left = int((d["ends_at"] - now).total_seconds())
        title = d.get(f"title_{lang}") or d.get("title_vi") or d["scenario"]
        parts.append(html.Span(f" · {title} ({d['scenario']}) · "
                               + t("drill_left", lang).format(left=f"{left // 60}:{left % 60:02d}"),
                               className="drill-run"))
    return html.Div(parts, className="drill-banner", id="drill-banner", role="status")


# --- sources -----------------------------------------------------------------------------------

SOURCE_WINDOW = timedelta(minutes=5)
SOURCE_BADGE = {"ok": "ok", "incomplete": "degraded", "dirty": "degraded", "silent": "down"}


def source_healths(snapshot: Snapshot, families: list[str], *, stale_after: timedelta) -> list[SourceHealth]:
    rows = {r["source"]: r for r in snapshot.sources}
    out = []
    for fam in families:
        r = rows.get(fam, {})
        out.append(source_health(
            fam, received=r.get("received") or 0, rejected=r.get("rejected") or 0,
            duplicates=r.get("duplicates") or 0, window=SOURCE_WINDOW, last_event=r.get("last_event"),
            last_arrival=r.get("last_arrival"), expected_per_s=r.get("expected_per_s"), now=snapshot.taken_at,
        ))
    return out


def sources_table(healths: list[SourceHealth], now: datetime, lang: str) -> html.Table:
    head = [t(k, lang) for k in ("source", "status", "rate", "expected", "rejected", "duplicates", "last_arrival")]
    rows = [[dcc.Link(t(f"feed_{h.source}", lang), href=entity_href(Entity("source", h.source), lang=lang),
                      className="entity-link"), badge(t(f"source_{h.status}", lang), SOURCE_BADGE[h.status]),
             rate(h.received_per_s), rate(h.expected_per_s), pct(h.rejected_share), pct(h.duplicate_share),
             ago(h.last_arrival, now, lang)] for h in healths]
    return data_table(head, rows, id="sources-table", numeric=range(2, 7),
                      row_ids=[{"type": "source-row", "source": h.source} for h in healths])
