"""Fixtures of the dashboard tests: users with cheap hashes, alerts made by the alert store, an app."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import dash
import psycopg
import pytest
from argon2 import PasswordHasher
from dash import Input, Output, dcc, html
from pydantic import SecretStr

from agents.alerting.evaluate import evaluate
from agents.alerting.rules import parse_rule
from ioc_dash import auth, headers, i18n
from ioc_dash.auth.passwords import Passwords
from ioc_dash.auth.store import UserStore
from agents.alerting.store import AlertStore

#: cheap parameters keep tests fast; production uses argon2-cffi's defaults (RFC 9106)
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
PASSWORD = "a long enough passphrase"
RULE = parse_rule({"name": "console_test", "indicator": "health.availability", "condition": "below", "fire": 0.5,
                   "clear": 0.9, "severity": "critical",
                   "summary": {"vi": "{entity} ngừng <b>hoạt động</b>", "en": "{entity} is <b>down</b>"}}, "test")


def fire_alert(settings, entity: str) -> int:
    """A firing alert made the way the engine makes one: two rounds through the AlertStore."""
    store = AlertStore(settings.dsn)
    now = datetime.now(timezone.utc)
    for at in (now - timedelta(seconds=1), now):
        states, transitions = evaluate([RULE], {"health.availability": {entity: 0.1}}, store.load_states(), at)
        store.apply_round({RULE.name: RULE}, states, transitions, at)
    return next(a["id"] for a in store.alerts() if a["entity"] == entity)


@contextmanager
def alert_maker(settings) -> Iterator[Callable[[str], int]]:
    """``make(entity) -> alert id``; the alerts are deleted on leaving, since other tests of the run
    (escalation, the wall's counts) see every open alert of the shared database."""
    made: list[str] = []

    def make(entity: str) -> int:
        made.append(entity)
        return fire_alert(settings, entity)

    try:
        yield make
    finally:
        delete_fired(settings.dsn, made)


@pytest.fixture
def firing(test_settings):
    """``firing(entity) -> alert id``, deleted after the test."""
    with alert_maker(test_settings) as make:
        yield make


def delete_fired(dsn: str, entities: list[str]) -> None:
    """Delete the alerts ``fire_alert`` made for ``entities``, and their rule state."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM alert WHERE rule = %s AND entity = ANY(%s)", (RULE.name, entities))
        conn.execute("DELETE FROM alert_rule_state WHERE rule = %s AND entity = ANY(%s)", (RULE.name, entities))


@pytest.fixture
def undo(db):
    """Statements that delete what a test inserted, run when it ends."""
    statements: list[tuple[str, tuple]] = []
    yield lambda sql, *params: statements.append((sql, params))
    for sql, params in reversed(statements):
        db.execute(sql, params)


@pytest.fixture
def uniq():
    """A name no other test of the run uses (the run shares one database)."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def users(test_settings):
    store = UserStore(test_settings.dsn, FAST_PASSWORDS)
    yield store
    store.close()


@pytest.fixture
def web_settings(test_settings, tmp_path):
    return test_settings.model_copy(update={"dash_session_key": SecretStr("t" * 40), "run_dir": tmp_path,
                                            "dash_login_max_failures": 3})


def console_app(settings, store) -> dash.Dash:
    """The smallest router that serves ``ioc_dash.console.PAGES`` behind ``auth.install`` (and the
    security headers)."""
    from ioc_dash.console import PAGES

    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    app.server.config["IOC_SETTINGS"] = settings
    auth.install(app, settings, store=store)
    headers.install(app)  # as ioc_dash.app does
    app.layout = html.Div([dcc.Location(id="url"), html.Div(id="page")])

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def route(path, search):
        _title, layout = PAGES.get(path, ("", lambda lang: html.P("wall", id="wall-page")))
        return layout(i18n.request_lang(search))

    return app


def dash_call(client, app, output_key: str, values: dict | None = None, triggered: str | None = None):
    """POST /_dash-update-component for the callback writing ``output_key``, as the browser would."""
    spec = app.callback_map[output_key]
    values = values or {}

    def fill(items):
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    outs = [o.rsplit(".", 1) for o in output_key.strip(".").split("...")]
    body = {"output": output_key, "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": fill(spec["inputs"]), "state": fill(spec["state"]),
            "changedPropIds": [triggered] if triggered else []}
    if len(outs) == 1:
        body["outputs"] = body["outputs"][0]
    return client.post("/_dash-update-component", json=body)


def client_for(app):
    """A test client with its own address: the run's login attempts do not add up across tests."""
    c = app.server.test_client()
    c.environ_base["REMOTE_ADDR"] = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return c


def wall_client(app, settings):
    """A test client signed in as a wall screen (a fresh read-only wall token): every route needs one."""
    token = UserStore(settings.dsn).create_wall_token(f"wall-{uuid.uuid4().hex[:8]}", actor="tests")
    c = app.server.test_client()
    assert c.get(f"/wall?token={token}").status_code == 302
    return c


def login(client, name: str, password: str = PASSWORD, **extra):
    return client.post("/login", data={"name": name, "password": password, **extra})


def ioc_runner(dsn: str, monkeypatch, capsys, *command: str):
    """``run(*args, stdin=None) -> (exit code, stdout, stderr)`` of ``ioc <command> <args>`` on ``dsn``,
    with fast password hashing."""
    import io

    from ioc_dash.auth import store as store_module
    from streams.cli.main import main

    monkeypatch.setattr(store_module, "Passwords", lambda: FAST_PASSWORDS)

    def run(*args, stdin=None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main([*command, *args, "--database-url", dsn])
        out, err = capsys.readouterr()
        return code, out, err
    return run
