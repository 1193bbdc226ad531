"""Sources: every feed's four checks, freshness, rate and rejected share; the workers."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash import figures
from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import alert_list
from ioc_dash.figures_sources import checks_table, rate_figure
from ioc_dash.i18n import t
from ioc_dash.pages.common import graph, on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "sources", "/sources", "page_sources"


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("sources_title", lang), html.Div(id="src-table"), className="span-2"),
        panel(t("sources_rate_title", lang), graph("src-rate", "12rem"), className="span-2"),
        panel(t("workers_title", lang), html.Div(id="src-workers")),
        panel(t("alerts_title", lang), html.Div(id="src-alerts")),
        className="grid-2",
    )


def worker_status(worker: dict, live: bool, lang: str) -> html.Span | html.Div:
    """Running, degraded (an agent crashed lately: the worker's heartbeat says which) or stopped."""
    if not live:
        return figures.badge(t("worker_stopped", lang), "down")
    info = worker.get("info") or {}
    if info.get("status") != "degraded":
        return figures.badge(t("worker_live", lang), "ok")
    agents = ", ".join(info.get("degraded") or ()) or "?"
    return html.Div([figures.badge(t("worker_degraded", lang), "degraded"),
                     html.Div(t("worker_crashed", lang).format(agents=agents), className="tile-sub")])


def workers_table(snap: Snapshot, ctx: WallContext, lang: str) -> html.Table:
    live = {w["worker"] for w in figures.live_workers(snap, ctx.stale_after)}
    rows = [[w["worker"], worker_status(w, w["worker"] in live, lang),
             figures.local_time(w.get("started_at")), figures.ago(w["last_seen"], snap.taken_at, lang)]
            for w in snap.workers]
    head = [t(k, lang) for k in ("worker", "status", "started", "last_seen")]
    return figures.data_table(head, rows, id="workers-table", numeric=[2, 3], empty=t("none", lang))


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("src-table", "children"), Output("src-rate", "figure"),
                Output("src-workers", "children"), Output("src-alerts", "children"))
    def sources(snap: Snapshot, lang: str, scale: float):
        healths = figures.source_healths(snap, ctx.families, stale_after=ctx.stale_after)
        return (checks_table(healths, snap.taken_at, lang), rate_figure(snap.source_rate, ctx.families, snap.taken_at, lang, scale),
                workers_table(snap, ctx, lang),
                alert_list(snap.alerts, snap.taken_at, lang, limit=3, page=KEY, pages=ctx.rule_pages))
