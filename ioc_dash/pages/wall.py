"""``/wall``: the pages in rotation (``?playlist=…&every=…``), no controls with ``kiosk=1``; a new
critical alert brings its page forward.  The rotation itself is ``ioc_dash.kiosk.step`` (pure)."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import dash
from dash import Input, Output, State, dcc, html

from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import critical_alerts, page_of
from ioc_dash.i18n import pick_lang, t
from ioc_dash.kiosk import KioskConfig, KioskState, step

KEY, PATH, TITLE = "wall", "/wall", "page_wall"


def layout(config: KioskConfig) -> html.Div:
    return html.Div([dcc.Store(id="kiosk-config", data=config.as_dict()), dcc.Store(id="kiosk-state"),
                     html.Div(id="kiosk-progress", className="kiosk-progress"), html.Div(id="kiosk-page")],
                    className="kiosk-wall", id="kiosk-wall")


def progress(config: KioskConfig, state: KioskState, lang: str) -> list[html.Span]:
    return [html.Span(t(f"page_{key}", lang),
                      className="kiosk-step current" if key == state.page and not state.forced
                      and i == state.index else "kiosk-step")
            for i, key in enumerate(config.playlist)]


def now() -> float:
    """The rotation's clock (the server's; tests replace it)."""
    return time.time()


def register(app: dash.Dash, ctx: WallContext, layouts: Mapping[str, Callable[[str], object]]) -> None:
    @app.callback(Output("kiosk-state", "data"), Output("kiosk-page", "children"), Output("kiosk-progress", "children"),
                  Input("tick", "n_intervals"), State("kiosk-state", "data"), State("kiosk-config", "data"),
                  State("lang", "data"))
    def rotate(_n, state_data, config_data, lang):
        lang = pick_lang(lang)
        config = KioskConfig.from_dict(config_data, list(layouts))
        snap = ctx.cache.get()
        before = KioskState.from_dict(state_data, list(layouts))
        critical = [(a["id"], page_of(a, ctx.rule_pages)) for a in critical_alerts(snap.alerts, snap.taken_at)]
        after = step(before, config, now=now(), critical=critical)
        page = layouts[after.page](lang) if before is None or after.page != before.page else dash.no_update
        return after.as_dict(), page, progress(config, after, lang)
