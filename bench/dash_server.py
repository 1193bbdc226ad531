"""``ioc dash`` plus two routes for the wall benchmark (``python -m bench.dash_server``).

The same app factory and server as ``ioc dash``.  ``/bench/refresh`` lists the callback requests
a wall screen's browser posts on each tick (built from the app's callback map, so the benchmark
follows the layout as it changes); ``/bench/stats`` reports the repository's ``queries`` counter
and the snapshot cache's ``reads``, so the benchmark can count what thirty screens cost the
database.  With sign-in on the wall, ``IOC_BENCH_WALL_TOKEN`` is the wall token its screens use.
"""
from __future__ import annotations

import inspect
import logging
import os
import sys
from typing import Any

from ioc_dash.app import create_app
from streams.core.settings import Settings

TICK = ("tick", "n_intervals")
#: what a freshly opened wall screen holds in the inputs a tick callback may also read
INITIAL = {("tick", "n_intervals"): 1, ("url", "pathname"): "/", ("url", "search"): "", ("url", "hash"): "",
           ("lang", "data"): "vi", ("scale", "data"): 1.0}


def _specs(key: str) -> list[dict[str, str]]:
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    out = []
    for p in parts:
        cid, prop = p.rsplit(".", 1)
        out.append({"id": cid, "property": prop})
    return out


def _layout_ids(node: Any, found: set[str]) -> set[str]:
    cid = getattr(node, "id", None)
    if isinstance(cid, str):
        found.add(cid)
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            _layout_ids(child, found)
    return found


def _json_ids(value: Any, found: set[str]) -> set[str]:
    """Component ids in a callback response (components as ``{"type", "namespace", "props"}``)."""
    if isinstance(value, dict):
        props = value.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            found.add(props["id"])
        for v in value.values():
            _json_ids(v, found)
    elif isinstance(value, list):
        for v in value:
            _json_ids(v, found)
    return found


def _body(key: str, cb: dict[str, Any], values: dict[tuple[str, str], Any], changed: str) -> dict[str, Any]:
    outputs = _specs(key)
    body: dict[str, Any] = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [{"id": i["id"], "property": i["property"], "value": values.get((i["id"], i["property"]))}
                   for i in cb.get("inputs", [])],
        "changedPropIds": [changed],
    }
    if cb.get("state"):
        body["state"] = [{"id": i["id"], "property": i["property"], "value": values.get((i["id"], i["property"]))}
                         for i in cb["state"]]
    return body


def _server_side(app) -> dict[str, dict[str, Any]]:
    return {k: cb for k, cb in app.callback_map.items()
            if "callback" in cb and all(isinstance(i.get("id"), str) for i in cb.get("inputs", []))}


def refresh_bodies(app, path: str = "/", token: str | None = None) -> list[dict[str, Any]]:
    """The requests a wall screen showing ``path`` posts on each tick.

    The components on screen are the static layout's plus those the routing callbacks (inputs
    ``url.pathname``) put there for ``path``; every server-side callback fired by ``tick`` whose
    outputs are all on screen is one request.
    """
    layout = app.layout() if callable(app.layout) else app.layout
    on_screen = _layout_ids(layout, set())
    values = {**INITIAL, ("url", "pathname"): path}
    callbacks = _server_side(app)
    client = app.server.test_client()
    client.get(f"{path}?token={token}" if token else path)  # a wall token signs the client in
    for key, cb in callbacks.items():
        if ("url", "pathname") in {(i["id"], i["property"]) for i in cb.get("inputs", [])}:
            resp = client.post("/_dash-update-component", json=_body(key, cb, values, "url.pathname"))
            if resp.status_code == 200:
                _json_ids(resp.get_json(), on_screen)
    bodies = []
    for key, cb in callbacks.items():
        inputs = {(i["id"], i["property"]) for i in cb.get("inputs", [])}
        if TICK in inputs and all(o["id"] in on_screen for o in _specs(key)):
            bodies.append(_body(key, cb, values, "tick.n_intervals"))
    return bodies


def instrument(app, token: str | None = None) -> None:
    """Add ``/bench/stats`` and ``/bench/refresh`` to a wall app (before it serves anything)."""
    cache = app.server.config.get("IOC_CACHE")
    read = getattr(cache, "read", None)  # the repository's snapshot, under the wall's timing wrapper
    repo = getattr(inspect.unwrap(read), "__self__", None) if read is not None else None
    bodies: list[dict[str, Any]] = []

    @app.server.get("/bench/stats")
    def stats():
        return {"queries": getattr(repo, "queries", None), "reads": getattr(cache, "reads", None)}

    @app.server.get("/bench/refresh")
    def refresh():
        return {"bodies": bodies}

    bodies.extend(refresh_bodies(app, token=token))  # after the routes: it serves requests, which ends the app's setup


def main() -> int:
    settings = Settings()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # as `ioc dash`: no line per refresh
    app = create_app(settings)
    instrument(app, os.environ.get("IOC_BENCH_WALL_TOKEN") or None)
    app.run(host=settings.dash_host, port=settings.dash_port, debug=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
