"""Dash app factory: the wall display.

``create_app(settings)`` builds the app: a shell (location, language, interval, stale and drill
banners, header with clock) and a router from a dict of routes (path -> (title key, ``layout(lang)``)) —
the wall pages of ``ioc_dash.pages``, plus ``ioc_dash.console.PAGES`` when that module exists —
and ``/wall``, the pages in rotation; the pages of ``pages.history.PAGES`` get the range bar (``?range=…``:
their history from the rollups instead of the live panels) and ``/history`` shows one entity's history.  ``ioc_dash.auth.install(app, settings)`` runs when that
module exists.  Callbacks are thin: each takes the shared snapshot (``IOC_CACHE``: one database
read per refresh period for every screen) and hands it to the pure figure functions.  ``/metrics``
(``ioc_dash/metrics.py``) counts requests, callback latency, the snapshot's age and the sessions.
``/status`` (``ioc_dash/status_page.py``) is the public status page: plain HTML, no sign-in.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
from dash import Input, Output, State, dcc, html

from agents.alerting.rules import load_rules
from agents.indicators.camera import night_watch_hours
from agents.indicators.health import StatusRules, load_status_rules
from agents.indicators.plan import load_plans
from agents.indicators.register import load_policy
from agents.indicators.producers import load_source_rules
from agents.indicators.sensor_kpi import load_sensor_rules
from ioc_dash import ack_page, api, figures, headers, runbooks, snapshots, status_page
from ioc_dash import metrics as dash_metrics
from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import rule_pages
from ioc_dash.geo import load_outline, locations, outline_path
from ioc_dash.i18n import LANG_COOKIE, LANGS, pick_lang, query_lang, request_lang, t
from ioc_dash.kiosk import parse_config
from ioc_dash.history_store import HistoryStore
from ioc_dash.pages import WALL_PAGES, history, wall
from ioc_dash.repository import SnapshotCache, wall_repository
from streams.core.geography import Province, load_province
from streams.core.errors import ConfigError
from streams.core.settings import Settings
from streams.core.topics import FEEDS
from streams.core.clock import utcnow

log = logging.getLogger(__name__)
FAMILIES = list(FEEDS)
Layout = Callable[[str], Any]
Routes = dict[str, tuple[str, Layout]]
#: phones lay the page out at their own width (the console's narrow layout, console.css), not at 980 px
VIEWPORT = {"name": "viewport", "content": "width=device-width, initial-scale=1"}
SCALE_JS = "function(_) { return Math.max(0.5, Math.min(window.innerWidth / 1920, window.innerHeight / 1080)); }"


def optional(module: str) -> ModuleType | None:
    """``ioc_dash.auth`` / ``ioc_dash.console`` when they exist (another engineer's work)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


def wall_routes() -> Routes:
    return {p.PATH: (p.TITLE, p.layout) for p in WALL_PAGES}


def shell(refresh_s: float) -> html.Div:
    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="lang", data="vi"),
        dcc.Store(id="scale", data=1.0),
        dcc.Interval(id="tick", interval=int(refresh_s * 1000)),
        html.Div(id="banner"),
        html.Header([html.H1(id="site-title", className="site-title"), html.Nav(id="nav", className="nav"),
                     html.Div(id="langs", className="nav-langs"), html.Div(id="clock", className="clock")],
                    className="wall-header"),
        html.Main(id="page", className="page-host"),
    ], className="wall", id="wall")


def with_lang(path: str, search: str | None, lang: str) -> str:
    """The same page and query, in ``lang``."""
    query = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k != "lang"] + [("lang", lang)]
    return f"{path}?{urlencode(query)}"


def is_wall_path(routes: Routes, path: str) -> bool:
    """A page of the wall (or the rotation, or no page at all) rather than of another section: it shows the
    wall's navigation; a page of another section (``/console/...``) brings its own."""
    return path not in routes or path in {p.PATH for p in WALL_PAGES}


def nav(routes: Routes, path: str, lang: str) -> list[Any]:
    """Links to the wall pages, the rotation and the first page of each other section (``/console``:
    the console has its own navigation); the current page's link is marked."""
    wall_paths = {p.PATH for p in WALL_PAGES}
    entries = [(p, title) for p, (title, _) in routes.items() if p in wall_paths] + [(wall.PATH, wall.TITLE)]
    sections: dict[str, tuple[str, str]] = {}  # "/console" -> (href, title key)
    for p in routes:
        if p not in wall_paths:
            section = "/" + p.strip("/").split("/")[0]
            href = section if section in routes else p
            sections.setdefault(section, (href, routes[href][0]))
    entries += sections.values()
    return [dcc.Link(t(title, lang), href=p, className="nav-link active" if p == path else "nav-link")
            for p, title in entries]


def lang_links(path: str, search: str | None, lang: str) -> list[Any]:
    """The language switch: the same page in each language."""
    return [dcc.Link(t(f"lang_{code}", lang), href=with_lang(path, search, code),
                     className="lang-link active" if code == lang else "lang-link", id=f"lang-{code}")
            for code in LANGS]


def clock_text(now: datetime) -> list[Any]:
    return [html.Span(figures.local_time(now, "%H:%M"), className="clock-time"),
            html.Span(figures.local_time(now, "%d/%m/%Y"), className="clock-date")]


def _rule_pages(settings: Settings) -> dict[str, str]:
    try:
        return rule_pages(load_rules(settings.alert_rule_files()))
    except ConfigError as exc:  # the wall still runs; critical alerts then bring the overview forward
        log.warning("alert rules not loaded, alerts go to the overview: %s", exc)
        return {}


def build_context(settings: Settings, province: Province, cache: SnapshotCache,
                  status_rules: StatusRules | None = None) -> WallContext:
    return WallContext(
        cache=cache, province=province, stale_after=timedelta(seconds=settings.stale_after_s), families=FAMILIES,
        sensor_rules=load_sensor_rules(), plans=load_plans(settings.plan_dir), status_rules=status_rules or load_status_rules(),
        outline=load_outline(outline_path(settings.province_file, province)), places=locations(province),
        rule_pages=_rule_pages(settings), night_watch=night_watch_hours(settings.night_watch_hours),
        register_policy=load_policy(), source_rules=load_source_rules(),
    )


def create_app(settings: Settings, *, province: Province | None = None, read_snapshot=None) -> dash.Dash:
    province = province or load_province(settings.province_file)
    status_rules = load_status_rules()
    if read_snapshot is None:
        read_snapshot = wall_repository(settings.dsn, province, status_rules).snapshot
    metrics = dash_metrics.DashMetrics()
    cache = SnapshotCache(dash_metrics.timed(read_snapshot, metrics), settings.dash_refresh_s)
    ctx = build_context(settings, province, cache, status_rules)
    console = optional("ioc_dash.console")  # before the app: its callbacks are hooks new apps take

    app = dash.Dash(__name__, title=f"IOC {province.name}", update_title=None, suppress_callback_exceptions=True,
                    meta_tags=[VIEWPORT])
    app.server.config["IOC_CACHE"] = cache
    app.server.config["IOC_SETTINGS"] = settings
    app.server.config["IOC_CONTEXT"] = ctx
    dash_metrics.install(app.server, settings, metrics)  # first: it counts what the sign-in gate refuses too
    routes = wall_routes()
    if console is not None:
        routes.update(console.PAGES)
    app.layout = shell(settings.dash_refresh_s)
    register_shell(app, ctx, routes)
    for page in WALL_PAGES:
        page.register(app, ctx)
    wall.register(app, ctx, {p.KEY: p.layout for p in WALL_PAGES})
    history.register(app, history.HistoryViews(ctx, HistoryStore(settings.dsn), settings.dsn, settings.sla_file))

    @app.server.get("/healthz")
    def healthz():
        return {"ok": True}

    auth = optional("ioc_dash.auth")
    if auth is not None:
        auth.install(app, settings, province=province.name)
        snapshots.install(app, settings)  # who may see them is a question for the sign-in
        runbooks.install(app.server, settings)
        api.install(app.server, settings, province)  # /api/v1: read tokens of its own (ioc users api-token)
    ack_page.install(app.server, settings, province=province.name)  # /ack/<token>: an e-mail's acknowledge link, no sign-in
    status_page.install(app.server, settings, province, metrics)  # /status: public, no sign-in
    headers.install(app)
    return app


def register_shell(app: dash.Dash, ctx: WallContext, routes: Routes) -> None:
    keys = [p.KEY for p in WALL_PAGES]

    @app.callback(Output("page", "children"), Output("nav", "children"), Output("langs", "children"),
                  Output("lang", "data"), Output("site-title", "children"), Output("wall", "className"),
                  Input("url", "pathname"), Input("url", "search"))
    def route(pathname: str | None, search: str | None):
        lang = request_lang(search)
        if query_lang(search) == lang:
            dash.callback_context.response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax")
        path = (pathname or "/").rstrip("/") or "/"
        kiosk = False
        if path == wall.PATH:
            config = parse_config(search, keys)
            kiosk = config.kiosk
            body: Any = wall.layout(config)
        elif path in history.PAGES and path in routes:  # the range bar, then the live page or its history
            body = history.page_body(path, search, lang, routes[path][1])
        elif path == history.PATH:
            body = history.entity_body(search, lang)
        elif path in routes:
            body = routes[path][1](lang)
        else:
            body = html.Div(t("page_not_found", lang), className="page-missing", id="page-missing")
        if kiosk:  # no controls
            return body, [], [], lang, t("title", lang).format(province=ctx.province.name), "wall kiosk"
        links = nav(routes, path, lang) if is_wall_path(routes, path) else []
        return body, links, lang_links(path, search, lang), lang, t("title", lang).format(province=ctx.province.name), "wall"

    @app.callback(Output("banner", "children"), Output("clock", "children"),
                  Input("tick", "n_intervals"), Input("lang", "data"))  # a language switch redraws it at once
    def banner(_n, lang):
        lang = pick_lang(lang)
        snap = ctx.cache.get()
        fresh = figures.freshness(snap, stale_after=ctx.stale_after)
        now = utcnow()
        return ([figures.stale_banner(fresh, lang), figures.drill_banner(snap.drills, now, lang)],
                clock_text(now))

    app.clientside_callback(SCALE_JS, Output("scale", "data"), Input("url", "pathname"))
