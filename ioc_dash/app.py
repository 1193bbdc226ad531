"""Dash app factory: the wall display.

``create_app(settings)`` builds the app; the layout is made of named pieces and the one
callback is thin: it takes the shared snapshot and hands it to the pure figure functions.
"""
from __future__ import annotations

from datetime import timedelta

import dash
from dash import Input, Output, dcc, html

from ioc_dash import figures
from ioc_dash.i18n import t
from ioc_dash.repository import Repository, Snapshot, SnapshotCache
from simulators.province import Province, load_province
from streams.settings import Settings
from streams.topics import FEEDS

FAMILIES = list(FEEDS)


def header(lang: str) -> html.Header:
    return html.Header(
        [html.H1(t("title", lang)), html.Div(id="clock", className="clock")],
        className="wall-header",
    )


def systems_panel(lang: str) -> html.Section:
    return html.Section(
        [html.H2(t("systems_title", lang)), html.Div(id="tiles"), html.Div(id="systems")],
        className="panel",
    )


def sources_panel(lang: str) -> html.Section:
    return html.Section([html.H2(t("sources_title", lang)), html.Div(id="sources")], className="panel")


def create_app(
    settings: Settings,
    *,
    province: Province | None = None,
    read_snapshot=None,
) -> dash.Dash:
    province = province or load_province(settings.province_file)
    if read_snapshot is None:
        repo = Repository(settings.dsn, systems=[s.code for s in province.systems])
        read_snapshot = repo.snapshot
    cache = SnapshotCache(read_snapshot, settings.dash_refresh_s)
    stale_after = timedelta(seconds=settings.stale_after_s)
    lang = "vi"

    app = dash.Dash(__name__, title="IOC Kiên Giang", update_title=None)
    app.server.config["IOC_CACHE"] = cache
    app.layout = html.Div(
        [
            dcc.Interval(id="tick", interval=int(settings.dash_refresh_s * 1000)),
            html.Div(id="banner"),
            header(lang),
            systems_panel(lang),
            sources_panel(lang),
        ],
        className="wall",
    )

    @app.callback(
        Output("systems", "children"),
        Output("tiles", "children"),
        Output("banner", "children"),
        Output("clock", "children"),
        Output("sources", "children"),
        Input("tick", "n_intervals"),
    )
    def refresh(_n):
        snap: Snapshot = cache.get()
        statuses = figures.system_statuses(snap, province, stale_after=stale_after)
        fresh = figures.freshness(snap, stale_after=stale_after)
        return (
            figures.status_table(statuses, province, snap.taken_at, lang, snap.uptime),
            figures.summary_tiles(statuses, lang),
            figures.stale_banner(fresh, lang),
            figures.local_time(snap.taken_at),
            figures.sources_table(figures.source_healths(snap, FAMILIES, stale_after=stale_after), snap.taken_at,
                                  lang),
        )

    @app.server.get("/healthz")
    def healthz():
        return {"ok": True}

    return app
