"""Pure functions from snapshot data to what the wall shows.  Tests call them directly."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dash import html

from agents.health import HealthStatus, health_status
from agents.sources import SourceHealth, source_health
from ioc_dash.i18n import t
from ioc_dash.repository import Snapshot
from simulators.province import Province

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STATUS_ORDER = {"down": 0, "degraded": 1, "unknown": 2, "ok": 3}


def local_time(ts: datetime | None, fmt: str = "%H:%M:%S %d/%m/%Y") -> str:
    return ts.astimezone(LOCAL_TZ).strftime(fmt) if ts else "—"


def system_statuses(snapshot: Snapshot, province: Province, *, stale_after: timedelta) -> list[HealthStatus]:
    """Every system of the province, with data or without; worst first."""
    rows = {r["system"]: r for r in snapshot.systems}
    out = []
    for system in province.systems:
        r = rows.get(system.code, {})
        out.append(
            health_status(
                system.code,
                probes=r.get("probes") or 0,
                probes_ok=r.get("probes_ok") or 0,
                requests=r.get("requests") or 0,
                errors=r.get("errors") or 0,
                latency_hist=r.get("latency_hist"),
                last_event=r.get("last_event"),
                now=snapshot.taken_at,
                stale_after=stale_after,
            )
        )
    out.sort(key=lambda s: (STATUS_ORDER[s.status], s.system))
    return out


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def ago(ts: datetime | None, now: datetime, lang: str) -> str:
    if ts is None:
        return t("never", lang)
    s = max(0, int((now - ts).total_seconds()))
    if s < 60:
        return t("seconds_ago", lang).format(n=s)
    if s < 3600:
        return t("minutes_ago", lang).format(n=s // 60)
    return t("hours_ago", lang).format(n=s // 3600)


def status_table(statuses: list[HealthStatus], province: Province, now: datetime, lang: str,
                 uptime: dict[str, tuple[float | None, float | None]] | None = None) -> html.Table:
    uptime = uptime or {}
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in
                               ("system", "status", "availability", "error_rate", "p95", "uptime_24h",
                                "uptime_30d", "last_event")]))
    body = []
    for s in statuses:
        system = province.system(s.system)
        name = system.name if lang == "vi" else system.name_en
        body.append(
            html.Tr(
                [
                    html.Td([html.Div(name, className="sys-name"), html.Div(s.system, className="sys-code")]),
                    html.Td(html.Span(t(f"status_{s.status}", lang), className=f"badge badge-{s.status}")),
                    html.Td(pct(s.availability), className="num"),
                    html.Td(pct(s.error_rate), className="num"),
                    html.Td(ms(s.p95_ms), className="num"),
                    html.Td(pct(uptime.get(s.system, (None, None))[0], 2), className="num"),
                    html.Td(pct(uptime.get(s.system, (None, None))[1], 2), className="num"),
                    html.Td(ago(s.last_event, now, lang), className="num"),
                ],
                className=f"row-{s.status}",
                id={"type": "system-row", "system": s.system},
            )
        )
    return html.Table([head, html.Tbody(body)], className="status-table", id="status-table")


@dataclass(frozen=True)
class Freshness:
    stale: bool
    newest: datetime | None
    reason: str | None  # no_data | data_old | pipeline_stopped | db_unreachable


def freshness(snapshot: Snapshot, *, stale_after: timedelta) -> Freshness:
    """Whether the wall can be trusted now; the reason when it cannot."""
    newest = snapshot.newest_data
    if snapshot.error:
        return Freshness(True, newest, "db_unreachable")
    if newest is None:
        return Freshness(True, None, "no_data")
    live_workers = [w for w in snapshot.workers if snapshot.taken_at - w["last_seen"] <= stale_after]
    if snapshot.workers and not live_workers:
        return Freshness(True, newest, "pipeline_stopped")
    if snapshot.taken_at - newest > stale_after:
        return Freshness(True, newest, "data_old")
    return Freshness(False, newest, None)


def stale_banner(fresh: Freshness, lang: str) -> html.Div:
    if not fresh.stale:
        return html.Div(className="stale-banner hidden", id="stale-banner")
    text = t("stale_since", lang).format(since=local_time(fresh.newest)) if fresh.newest else t("no_data_yet", lang)
    return html.Div(
        [html.Strong(text), html.Span(" · " + t(f"stale_{fresh.reason}", lang))],
        className="stale-banner",
        id="stale-banner",
    )


def summary_tiles(statuses: list[HealthStatus], lang: str) -> html.Div:
    counts = {k: 0 for k in STATUS_ORDER}
    for s in statuses:
        counts[s.status] += 1
    return html.Div(
        [
            html.Div([html.Div(str(counts[k]), className="tile-value"), html.Div(t(f"status_{k}", lang))],
                     className=f"tile tile-{k}", id=f"tile-{k}")
            for k in ("down", "degraded", "unknown", "ok")
        ],
        className="tiles",
    )


SOURCE_WINDOW = timedelta(minutes=5)


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


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}/s"


def sources_table(healths: list[SourceHealth], now: datetime, lang: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in
                               ("source", "status", "rate", "expected", "rejected", "duplicates", "last_arrival")]))
    body = [
        html.Tr([
            html.Td(t(f"feed_{h.source}", lang)),
            html.Td(html.Span(t(f"source_{h.status}", lang), className=f"badge badge-{SOURCE_BADGE[h.status]}")),
            html.Td(rate(h.received_per_s), className="num"),
            html.Td(rate(h.expected_per_s), className="num"),
            html.Td(pct(h.rejected_share), className="num"),
            html.Td(pct(h.duplicate_share), className="num"),
            html.Td(ago(h.last_arrival, now, lang), className="num"),
        ], id={"type": "source-row", "source": h.source})
        for h in healths
    ]
    return html.Table([head, html.Tbody(body)], className="status-table", id="sources-table")


SOURCE_BADGE = {"ok": "ok", "incomplete": "degraded", "dirty": "degraded", "silent": "down"}
