"""Networks: every link of the province file (dedicated data network, camera networks), worst first,
and IPv6 readiness per information system.  Rows: ``network_state`` (``agents/indicators/network.py``)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import dash
from dash import Output, html

from agents.indicators.network import LINK, SYSTEM, link_views
from ioc_dash.context import WallContext
from ioc_dash.figures import ago, badge, data_table, local_time, ms, pct, system_name, tile
from ioc_dash.figures_alerts import alert_list
from ioc_dash.i18n import t
from ioc_dash.pages.common import on_refresh, page, panel
from ioc_dash.repository import Snapshot
from streams.core.geography import Province

KEY, PATH, TITLE = "network", "/network", "page_network"
BADGE = {"up": "ok", "lossy": "degraded", "silent": "unknown", "down": "down"}


def layout(lang: str) -> html.Div:
    return page(KEY, lang,
                html.Div(id="net-tiles", className="tiles span-2"),
                panel(t("net_links_title", lang), html.Div(id="net-links"), className="row-span-2"),
                panel(t("net_ipv6_title", lang), html.Div(id="net-ipv6")),
                panel(t("net_alerts_title", lang), html.Div(id="net-alerts")),
                className="grid-2")


def tiles(views: Sequence[Mapping[str, Any]], checks: Sequence[Mapping[str, Any]], lang: str) -> list[html.Div]:
    count = {s: sum(v["status"] == s for v in views) for s in BADGE}
    ready = sum(bool(c.get("aaaa") and c.get("reachable")) for c in checks)
    return [tile(count["up"], t("net_up", lang), "ok", id="net-up"),
            tile(count["down"], t("net_down", lang), "down" if count["down"] else "ok", id="net-down"),
            tile(count["lossy"], t("net_lossy", lang), "degraded" if count["lossy"] else "ok"),
            tile(count["silent"], t("net_silent", lang), "unknown"),
            tile(f"{ready}/{len(checks)}", t("net_ipv6_ready", lang), "ok" if checks and ready == len(checks)
                 else "degraded", id="net-ipv6-ready")]


def links_table(views: Sequence[Mapping[str, Any]], now: datetime, lang: str,
                names: Mapping[str, str] | None = None, limit: int = 17) -> html.Div:
    """The first ``limit`` links (worst first: the healthy ones are left off) and how many more there are;
    names cut to their column show in full on hover."""
    names = names or {}
    head = [t(k, lang) for k in ("net_col_link", "net_col_status", "net_col_since", "net_col_util", "net_col_loss",
                                 "net_col_latency", "net_col_parent")]
    shown = list(views)[:limit]
    parent = lambda v: names.get(v["parent"], v["parent"]) if v["parent"] else "—"  # noqa: E731
    rows = [[html.Span(v["name"], title=f"{v['name']} ({v['link']})"),
             badge(t(f"net_{v['status']}", lang), BADGE[v["status"]]),
             ago(v["since"], now, lang) if v["status"] == "down" else local_time(v["since"], "%H:%M %d/%m")
             if v["since"] else "—", pct(v["utilisation"], 0), pct(v["packet_loss"]), ms(v["latency_ms"]),
             html.Span(parent(v), title=parent(v))] for v in shown]
    table = data_table(head, rows, id="net-links-table", numeric=(3, 4, 5), empty=t("net_no_links", lang),
                       row_ids=[f"net-link-{v['link']}" for v in shown])
    more = len(views) - len(shown)
    return html.Div([table] + ([html.Div(t("net_more_links", lang).format(n=more), className="table-more")]
                               if more > 0 else []))


def ipv6_table(checks: Sequence[Mapping[str, Any]], province: Province, lang: str) -> html.Table:
    yes = lambda flag: badge(t("net_yes" if flag else "net_no", lang), "ok" if flag else "down")  # noqa: E731
    ordered = sorted(checks, key=lambda c: (bool(c.get("aaaa") and c.get("reachable")), c["entity"]))
    head = [t(k, lang) for k in ("net_col_system", "net_col_aaaa", "net_col_reachable")]
    return data_table(head, [[system_name(province, c["entity"], lang), yes(c.get("aaaa")), yes(c.get("reachable"))]
                             for c in ordered], id="net-ipv6-table", empty=t("net_no_checks", lang))


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("net-tiles", "children"), Output("net-links", "children"),
                Output("net-ipv6", "children"), Output("net-alerts", "children"))
    def network(snap: Snapshot, lang: str, scale: float):
        views = link_views([r for r in snap.network if r["kind"] == LINK], ctx.province.networks, snap.taken_at)
        checks = [r for r in snap.network if r["kind"] == SYSTEM]
        return (tiles(views, checks, lang), links_table(views, snap.taken_at, lang, ctx.province.names()),
                ipv6_table(checks, ctx.province, lang),
                alert_list(snap.alerts, snap.taken_at, lang, limit=4, page=KEY, pages=ctx.rule_pages))
