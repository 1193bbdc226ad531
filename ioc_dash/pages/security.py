"""Security: findings by severity and layer, attack rate per minute, top sources, the layer-4 link."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import alert_list
from ioc_dash.figures_security import (attack_rate_figure, finding_tiles, findings_table, layer_figure, soc_link_tile,
                                       top_sources_table)
from ioc_dash.i18n import t
from ioc_dash.pages.common import graph, on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "security", "/security", "page_security"


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("sec_findings_title", lang), html.Div(id="sec-tiles")),
        panel(t("sec_rate_title", lang), graph("sec-rate", "10.5rem"), className="span-2"),
        panel(t("sec_layers_title", lang), graph("sec-layers", "12.5rem")),
        panel(t("sec_sources_title", lang), html.Div(id="sec-sources")),
        panel(t("alerts_title", lang), html.Div(id="sec-alerts")),
        panel(t("sec_recent_title", lang), html.Div(id="sec-findings"), className="span-3"),
        className="grid-3",
    )


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("sec-tiles", "children"), Output("sec-rate", "figure"), Output("sec-layers", "figure"),
                Output("sec-sources", "children"), Output("sec-findings", "children"), Output("sec-alerts", "children"))
    def security(snap: Snapshot, lang: str, scale: float):
        now = snap.taken_at
        return (
            [finding_tiles(snap.finding_counts, lang), soc_link_tile(snap.soc_links, now, lang)],
            attack_rate_figure(snap.attack_rate, lang, scale),
            layer_figure(snap.finding_counts, lang, scale),
            top_sources_table(snap.top_sources, now, lang),
            findings_table(snap.findings, now, lang, limit=5),
            alert_list(snap.alerts, now, lang, limit=4, page=KEY, pages=ctx.rule_pages),
        )
