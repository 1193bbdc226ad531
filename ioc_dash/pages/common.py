"""Pieces every page is built from, and the one way a page refreshes.

A page module has ``KEY`` (its name in playlists), ``PATH``, ``TITLE`` (an i18n key),
``layout(lang)`` and ``register(app, ctx)``.  ``on_refresh`` registers a page's callback: on each
tick of the shell's interval it gets the shared snapshot (one database read per period for every
screen), the language and the screen's scale, and returns the page's outputs.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from ioc_dash.context import WallContext
from ioc_dash.i18n import pick_lang, t
from ioc_dash.repository import Snapshot

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def page(key: str, lang: str, *children: Any, className: str = "") -> html.Div:
    """A page: its heading, then its panels in a grid (``className`` picks the grid)."""
    return html.Div([html.H2(t(f"page_{key}", lang), className="page-heading"),
                     html.Div(list(children), className=f"page-grid {className}".strip())],
                    className=f"page page-{key}", id=f"page-{key}")


def panel(title: Any, *children: Any, className: str = "", id: str | None = None) -> html.Section:
    return html.Section([html.H3(title), *children], className=f"panel {className}".strip(),
                        **({"id": id} if id else {}))


def graph(id: str, height: str) -> dcc.Graph:
    """A graph of a given CSS height (rem, or calc() of the viewport); plotly fills it."""
    return dcc.Graph(id=id, config=GRAPH_CONFIG, className="graph", style={"height": height},
                     figure={"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}})


Refresh = Callable[[Snapshot, str, float], Any]


def on_refresh(app: dash.Dash, ctx: WallContext, *outputs: Output) -> Callable[[Refresh], Refresh]:
    """Register ``fn(snapshot, lang, scale) -> outputs`` to run on every tick while its outputs are shown."""
    def register(fn: Refresh) -> Refresh:
        @app.callback(*outputs, Input("tick", "n_intervals"), State("lang", "data"), State("scale", "data"))
        def refresh(_n: int | None, lang: str | None, scale: float | None) -> Any:
            return fn(ctx.cache.get(), pick_lang(lang), float(scale or 1.0))

        refresh.__name__ = f"refresh_{fn.__name__}"
        return fn
    return register
