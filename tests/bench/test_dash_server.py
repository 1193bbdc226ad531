import dash
from dash import Input, Output, State, dcc, html

from bench.dash_server import instrument, refresh_bodies


def _app():
    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    app.layout = html.Div([dcc.Location(id="url"), dcc.Interval(id="tick"), dcc.Store(id="lang", data="vi"),
                           html.Div(id="clock"), html.Main(id="page"), html.Button(id="btn")])

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(path):  # the page's own components appear only once routed
        return html.Div([html.Div(id="a"), html.Div(id="b")]) if path == "/" else html.Div(id="elsewhere")

    @app.callback(Output("a", "children"), Output("b", "children"), Input("tick", "n_intervals"),
                  State("lang", "data"))
    def both(_n, _lang):
        return "", ""

    @app.callback(Output("clock", "children"), Input("tick", "n_intervals"))
    def clock(_n):
        return ""

    @app.callback(Output("elsewhere", "children"), Input("tick", "n_intervals"))
    def other_page(_n):  # registered, but not on the screen that shows "/"
        return ""

    @app.callback(Output("btn", "children"), Input("btn", "n_clicks"))
    def click(_n):  # not fired by the tick
        return ""

    app.clientside_callback("function(n) { return n; }", Output("btn", "title"), Input("tick", "n_intervals"))
    return app


def test_refresh_bodies_are_the_requests_a_wall_screen_posts_on_each_tick():
    app = _app()
    bodies = {b["output"]: b for b in refresh_bodies(app, "/")}
    assert set(bodies) == {"..a.children...b.children..", "clock.children"}
    multi = bodies["..a.children...b.children.."]
    assert multi["outputs"] == [{"id": "a", "property": "children"}, {"id": "b", "property": "children"}]
    assert multi["inputs"] == [{"id": "tick", "property": "n_intervals", "value": 1}]
    assert multi["state"] == [{"id": "lang", "property": "data", "value": "vi"}]
    assert bodies["clock.children"]["outputs"] == {"id": "clock", "property": "children"}
    assert {b["output"] for b in refresh_bodies(app, "/other")} == {"clock.children", "elsewhere.children"}

    client = app.server.test_client()
    client.get("/")
    for body in bodies.values():  # the server accepts them as they are
        assert client.post("/_dash-update-component", json=body).status_code == 200


def test_instrumented_app_serves_its_refresh_requests_and_counters():
    app = _app()
    instrument(app)
    client = app.server.test_client()
    bodies = client.get("/bench/refresh").get_json()["bodies"]
    assert {b["output"] for b in bodies} == {"..a.children...b.children..", "clock.children"}
    assert client.get("/bench/stats").get_json() == {"queries": None, "reads": None}  # no repository here


def test_the_stats_count_the_repository_behind_the_walls_timing_wrapper():
    from ioc_dash.metrics import DashMetrics, timed
    from ioc_dash.repository import SnapshotCache

    class Repo:
        queries = 7

        def snapshot(self):
            return None

    app = _app()
    app.server.config["IOC_CACHE"] = SnapshotCache(timed(Repo().snapshot, DashMetrics()), 2.0)
    instrument(app)
    assert app.server.test_client().get("/bench/stats").get_json() == {"queries": 7, "reads": 0}
