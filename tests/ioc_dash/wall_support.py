"""Helpers of the wall tests: a signed-in test client, callbacks posted as the browser posts them,
and rows inserted into the run's database."""
from __future__ import annotations

import json
import uuid
from typing import Any

import dash
from plotly.utils import PlotlyJSONEncoder

PAGE_INPUTS = {"tick.n_intervals": 1, "lang.data": "vi", "scale.data": 1.0}


def wall_client(app: dash.Dash, settings):
    """A Flask test client the wall lets in: with a wall token when sign-in is installed."""
    client = app.server.test_client()
    if "ioc_auth" in app.server.extensions:
        from ioc_dash.auth.store import UserStore

        store = UserStore(settings.dsn)
        try:
            token = store.create_wall_token(f"wall-test-{uuid.uuid4().hex[:8]}", actor="test")
        finally:
            store.close()
        assert client.get(f"/?token={token}").status_code == 302
    return client


def output_key(app: dash.Dash, first_output: str) -> str:
    """The callback_map key of the callback whose outputs start with ``first_output`` (``id.prop``)."""
    keys = [k for k in app.callback_map if k.strip(".").startswith(first_output)]
    assert len(keys) == 1, f"{first_output}: {keys}"
    return keys[0]


def call(client, app: dash.Dash, first_output: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST the callback as the browser would; returns ``{component id: {property: value}}``."""
    key = output_key(app, first_output)
    spec = app.callback_map[key]
    values = {**PAGE_INPUTS, **(values or {})}

    def fill(items):
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    outs = [o.rsplit(".", 1) for o in key.strip(".").split("...")]
    body = {"output": key, "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": fill(spec["inputs"]), "state": fill(spec["state"]),
            "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"]}
    if len(outs) == 1:
        body["outputs"] = body["outputs"][0]
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()["response"]


def text(value: Any) -> str:
    """Everything a component, figure or callback output says, as one string (to look for values in)."""
    return json.dumps(value, cls=PlotlyJSONEncoder, ensure_ascii=False)
