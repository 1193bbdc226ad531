"""Overview: the status of every system, open alerts by severity, key indicators, the sources."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash import figures
from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import alert_list, severity_tiles
from ioc_dash.figures_map import layer_counts
from ioc_dash.figures_env import status_counts
from ioc_dash.figures_security import severity_counts as finding_counts
from ioc_dash.figures_services import overdue_reports
from ioc_dash.figures_systems import status_grid
from ioc_dash.i18n import t
from ioc_dash.pages.common import on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "overview", "/", "page_overview"


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("systems_title", lang), html.Div(id="ov-systems"), className="span-2"),
        panel(t("alerts_title", lang), html.Div(id="ov-alerts"), className="row-span-2"),
        panel(t("kpi_title", lang), html.Div(id="ov-kpis"), className="span-2"),
        panel(t("sources_title", lang), html.Div(id="ov-sources"), className="span-3"),
        className="grid-overview",
    )


def kpi_tiles(ctx: WallContext, snap: Snapshot, lang: str) -> html.Div:
    """Cameras offline, stations over threshold, dossiers late, reports overdue, findings in 24 h."""
    cams = {state: n for (layer, state), n in layer_counts(ctx.map_points(snap, lang)).items() if layer == "camera"}
    stations = status_counts(ctx.stations(snap))
    over = stations["alert"] + stations["danger"]
    services = ctx.services(snap)
    overdue = overdue_reports(services.backlog)
    findings = finding_counts(ctx.finding_counts(snap))
    serious = findings["critical"] + findings["high"]
    late = services.whole.late_rate
    of = t("of_total", lang)
    return html.Div([
        figures.tile(cams.get("offline", 0), t("kpi_cameras_offline", lang), "down" if cams.get("offline") else "ok",
                     id="kpi-cameras", sub=of.format(n=sum(cams.values()))),
        figures.tile(over, t("kpi_sensors_alert", lang), "down" if stations["danger"] else "degraded" if over else "ok",
                     id="kpi-sensors", sub=of.format(n=len(ctx.province.stations))),
        figures.tile(figures.pct(late), t("kpi_dossiers_late", lang),
                     "unknown" if late is None else "degraded" if late > 0.05 else "ok", id="kpi-dossiers"),
        figures.tile(overdue, t("kpi_reports_overdue", lang), "degraded" if overdue else "ok", id="kpi-reports"),
        figures.tile(sum(findings.values()), t("kpi_findings", lang), "down" if serious else "ok", id="kpi-findings"),
    ], className="tiles")


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("ov-systems", "children"), Output("ov-alerts", "children"),
                Output("ov-kpis", "children"), Output("ov-sources", "children"))
    def overview(snap: Snapshot, lang: str, scale: float):
        statuses = ctx.statuses(snap)
        now = snap.taken_at
        healths = figures.source_healths(snap, ctx.families, stale_after=ctx.stale_after)
        return (
            [figures.summary_tiles(statuses, lang), status_grid(statuses, ctx.province, lang)],
            [severity_tiles(snap.alerts, now, lang), alert_list(snap.alerts, now, lang, limit=5)],
            kpi_tiles(ctx, snap, lang),
            figures.sources_table(healths, now, lang),
        )
