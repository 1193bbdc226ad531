"""Cameras and the border: cameras by state per area, detections per border zone and class (last
hour, same hour yesterday, 24 hours), the zones on the outline, the newest tracks with their
snapshots (for those allowed to see them), and the open border and camera alerts."""
from __future__ import annotations

import dash
from dash import Output, html

from agents.indicators.camera import above_usual, area_states, in_night_watch, zone_counts, zone_weeks
from ioc_dash import snapshots
from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import alert_list
from ioc_dash.figures_border import (area_table, attention_cameras, night_note, tracks_table, zone_hours, zone_map,
                                     zone_table)
from ioc_dash.i18n import t
from ioc_dash.pages.common import graph, on_refresh, page, panel
from ioc_dash.repository import Snapshot
from streams.core.clock import LOCAL_TZ

KEY, PATH, TITLE = "border", "/border", "page_border"


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("border_areas_title", lang), html.Div(id="border-areas"), className="border-areas-panel"),
        panel(t("border_zones_title", lang), html.Div(id="border-zones"), className="border-zones-panel"),
        panel(t("border_map_title", lang), graph("border-map", "18.5rem")),
        panel(t("border_tracks_title", lang), html.Div(id="border-tracks"), className="border-tracks-panel"),
        panel(t("border_alerts_title", lang), html.Div(id="border-alerts"), className="border-alerts-panel"),
        className="grid-border",
    )


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("border-areas", "children"), Output("border-zones", "children"),
                Output("border-map", "figure"), Output("border-tracks", "children"), Output("border-alerts", "children"))
    def border(snap: Snapshot, lang: str, scale: float):
        now, province = snap.taken_at, ctx.province
        per_area = area_states(snap.cameras, province.cameras, now)
        counts = ctx.views.get(snap, "border_counts",
                               lambda: zone_counts(snap.border_hour, snap.border_earlier, province.cameras))
        usual = ctx.views.get(snap, "border_usual", lambda: zone_weeks(snap.border_usual, province.cameras))
        hours = zone_hours(counts)
        above = frozenset(z for z, n in hours.items() if above_usual(n, usual.get(z, ())))
        night = in_night_watch(now.astimezone(LOCAL_TZ).hour, ctx.night_watch)
        return (
            area_table(per_area, province, lang),
            [night_note(ctx.night_watch, lang) if night else "",
             zone_table(counts, province, lang, usual=usual, night=night)],
            zone_map(ctx.outline, province, snap.cameras, hours, now, lang, scale, above),
            tracks_table(snap.border_tracks, province, now, lang, show_snapshots=snapshots.allowed()),
            [alert_list(snap.alerts, now, lang, limit=2, page=KEY, pages=ctx.rule_pages),
             html.H3(t("border_attention_title", lang), className="sub-heading"),
             attention_cameras(snap.cameras, province, now, lang, limit=2)],
        )
