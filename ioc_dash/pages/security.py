"""Security: findings by severity and layer, attack rate per minute, top sources, the layer-4 link,
the four protection layers of each information system (the security register), open alerts, and
the recent findings with their system's level and on-site contact (severity weighted by level).

Three columns over the findings, every text at 20 px or more on a 1920×1080 wall."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import alert_list
from ioc_dash.figures_security import (attack_rate_figure, coverage_grid, finding_tiles, findings_table, layer_table,
                                       soc_link_tile, top_sources_table, weigh_findings)
from ioc_dash.i18n import t
from ioc_dash.pages.common import graph, on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "security", "/security", "page_security"
#: rows of the lists that fit the page at 1920×1080 with every text at 20 px
FINDINGS_SHOWN, SOURCES_SHOWN, ALERTS_SHOWN = 4, 5, 2


def column(*panels: html.Section) -> html.Div:
    """Panels one above the other; the last one takes the height left."""
    return html.Div(list(panels), className="page-column")


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        column(panel(t("sec_findings_title", lang), html.Div(id="sec-tiles")),
               panel(t("sec_layers_title", lang), html.Div(id="sec-layers"))),
        column(panel(t("sec_rate_title", lang), graph("sec-rate", "11rem")),
               panel(t("sec_sources_title", lang), html.Div(id="sec-sources"))),
        column(panel(t("sec_coverage_title", lang), html.Div(id="sec-coverage")),
               panel(t("alerts_title", lang), html.Div(id="sec-alerts"))),
        panel(t("sec_recent_title", lang), html.Div(id="sec-findings"), className="span-3"),
        className="grid-security",
    )


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("sec-tiles", "children"), Output("sec-rate", "figure"), Output("sec-layers", "children"),
                Output("sec-sources", "children"), Output("sec-findings", "children"), Output("sec-alerts", "children"),
                Output("sec-coverage", "children"))
    def security(snap: Snapshot, lang: str, scale: float):
        now = snap.taken_at
        findings = weigh_findings(snap.findings, snap.register, ctx.register_policy)
        counts = ctx.finding_counts(snap)
        return (
            [finding_tiles(counts, lang), soc_link_tile(snap.soc_links, now, lang)],
            attack_rate_figure(snap.attack_rate, lang, scale),
            layer_table(counts, lang),
            top_sources_table(snap.top_sources, now, lang, limit=SOURCES_SHOWN),
            findings_table(findings, now, lang, limit=FINDINGS_SHOWN),
            alert_list(snap.alerts, now, lang, limit=ALERTS_SHOWN, page=KEY, pages=ctx.rule_pages),
            coverage_grid(ctx.coverage(snap), lang, ctx.register_policy),
        )
