"""Sources: every producer of every feed (systems, agencies, camera links, stations) with its four
checks, grouped by feed; the workers."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash import figures
from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import alert_list
from ioc_dash.figures_sources import producer_columns
from ioc_dash.i18n import t
from ioc_dash.pages.common import on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "sources", "/sources", "page_sources"


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("sources_title", lang), html.Div(id="src-producers"), className="span-2"),
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


def workers_table(snap: Snapshot, ctx: WallContext, lang: str, limit: int = 2) -> html.Div:
    live = {w["worker"] for w in figures.live_workers(snap, ctx.stale_after)}
    workers = sorted(snap.workers, key=lambda w: w["worker"] in live)  # stopped ones first
    rows = [[w["worker"], worker_status(w, w["worker"] in live, lang),
             figures.local_time(w.get("started_at")), figures.ago(w["last_seen"], snap.taken_at, lang)]
            for w in workers]
    head = [t(k, lang) for k in ("worker", "status", "started", "last_seen")]
    table = figures.data_table(head, rows[:limit], id="workers-table", numeric=[2, 3], empty=t("none", lang))
    more = [html.Div(t("workers_more", lang).format(n=len(rows) - limit), className="table-more")] \
        if len(rows) > limit else []
    return html.Div([table, *more])


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("src-producers", "children"), Output("src-workers", "children"),
                Output("src-alerts", "children"))
    def sources(snap: Snapshot, lang: str, scale: float):
        return (producer_columns(ctx.producers(snap), ctx.families, ctx.producer_names(), snap.taken_at, lang),
                workers_table(snap, ctx, lang),
                alert_list(snap.alerts, snap.taken_at, lang, limit=2, page=KEY, pages=ctx.rule_pages))
