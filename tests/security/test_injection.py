"""Hostile text through every operator input that reaches SQL, against the real database.

Each string goes through the sign-in form, every console action and filter, the wall's query
string, the ``ioc users`` / ``ioc alerts`` / ``ioc maintenance`` commands and the stores
themselves.  Each call must either store the text exactly (read back here) or be refused with a
clear error; afterwards every table still exists, the tables operator input writes to changed by
exactly the intended rows, and no call took seconds (the ``pg_sleep(5)`` never ran).
"""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import psycopg
import pytest
from pydantic import SecretStr

from ioc_dash.app import create_app
from ioc_dash.auth.passwords import normalise_name
from ioc_dash.auth.store import UserStore
from streams.core.errors import AuthError, InputError, IOCError
from streams.core.inputs import recordable
from agents.alerting.store import AlertStore
from tests.ioc_dash.conftest import FAST_PASSWORDS, PASSWORD, alert_maker, client_for, dash_call, ioc_runner, login
from tests.support import ROOT, settings_env

pytestmark = pytest.mark.integration

HOSTILE = [
    "x'); DROP TABLE alert_event; --",
    "' OR '1'='1",
    '"; SELECT pg_sleep(5); --',
    "'; SELECT pg_sleep(5)::text; --",
    "$$; DELETE FROM app_user; $$",
    "$tag$; DELETE FROM users; $tag$",
    "\\x27; \\'; \\\\ \\N E'\\x00' \\",
    "%s %(name)s {0} %% ?",  # the driver's and Python's own placeholders
    "Sở Thông tin và Truyền thông — Rạch Giá",
    "<script>window.__pwned=1</script>",
    "Robert'); DELETE FROM login_attempt WHERE ('1'='1",
]
#: PostgreSQL cannot store these verbatim: they must be refused, never half-done
UNSTORABLE = ["nul \x00 byte", "lone surrogate \ud800"]
#: the tables operator input writes to: their row counts must move exactly as intended
WATCHED = ("users", "user_session", "wall_token", "login_attempt", "auth_event", "alert", "alert_event",
           "alert_rule_state", "notification_outbox", "maintenance_window", "maintenance_occurrence")
SLOW_S = 2.5  # pg_sleep(5) would take longer


class Guard:
    """Runs one call: times it, and checks the tables before and after."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.tables = self._tables()
        assert set(WATCHED) <= self.tables

    def _tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}

    def counts(self) -> dict[str, int]:
        return {t: self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WATCHED}  # constants

    def call(self, what: str, fn, *, changes: dict[str, int] | None = None):
        """``fn()`` (its result, or the IOCError it raised) with the watched tables moving by ``changes``."""
        before = self.counts()
        started = time.monotonic()
        try:
            result = fn()
        except IOCError as exc:
            result = exc
        took = time.monotonic() - started
        assert took < SLOW_S, f"{what} took {took:.1f} s: did a pg_sleep run?"
        assert self._tables() == self.tables, f"{what}: tables changed: {self.tables ^ self._tables()}"
        after = self.counts()
        moved = {t: after[t] - before[t] for t in WATCHED if after[t] != before[t]}
        assert moved == {t: n for t, n in (changes or {}).items() if n}, f"{what}: rows moved {moved}"
        return result

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="module")
def guard(test_settings):
    g = Guard(test_settings.dsn)
    yield g
    g.close()


@pytest.fixture(scope="module")
def settings(test_settings, tmp_path_factory):
    return test_settings.model_copy(update={"dash_session_key": SecretStr("i" * 40),
                                            "run_dir": tmp_path_factory.mktemp("inject"),
                                            "dash_login_max_failures": 1000})


@pytest.fixture(scope="module")
def app(settings):
    app = create_app(settings)
    app.server.extensions["ioc_auth"].store._passwords = FAST_PASSWORDS  # cheap hashes for the test users
    return app


@pytest.fixture(scope="module")
def users(settings):
    store = UserStore(settings.dsn, FAST_PASSWORDS)
    yield store
    store.close()


@pytest.fixture(scope="module")
def operator(users):
    name = f"inj-op-{uuid.uuid4().hex[:6]}"
    users.add_user(name, "operator", PASSWORD, actor="tests")
    return name


@pytest.fixture(scope="module")
def alerts(settings):
    """``make(entity) -> id``: firing alerts, deleted with their maintenance windows afterwards."""
    with alert_maker(settings) as make:
        yield make
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM maintenance_window WHERE created_by = ANY(%s) OR reason = ANY(%s)",
                     (HOSTILE, HOSTILE))


def _signed_in(app, name):
    client = client_for(app)
    assert login(client, name).status_code == 302
    return client


def _events(dsn: str, alert_id: int) -> list[dict]:
    return AlertStore(dsn).history(alert_id)


# --- sign-in -------------------------------------------------------------------------------------


def test_sign_in_form(app, guard, users):
    for text in HOSTILE + UNSTORABLE[:1]:  # a form cannot carry a lone surrogate
        client = client_for(app)
        resp = guard.call(f"sign-in as {text!r}", lambda: login(client, text, text + " and more"),
                          changes={"login_attempt": 1})
        assert resp.status_code == 401, (text, resp.status_code)
        assert "Sai tên người dùng hoặc mật khẩu" in resp.get_data(as_text=True)
        last = users.attempts(1)[0]
        expected = normalise_name(text)[:64].replace("\x00", "\ufffd")  # a NUL cannot be stored: recorded as U+FFFD
        assert (last["username"], last["outcome"]) == (expected, "unknown_user")
        assert "ioc_session=" not in resp.headers.get("Set-Cookie", "")


def test_hostile_passwords_work_as_passwords(app, guard, users):
    store = users
    name = f"inj-pw-{uuid.uuid4().hex[:6]}"
    store.add_user(name, "viewer", PASSWORD, actor="tests")
    for i, text in enumerate(HOSTILE):
        password = text if len(text) >= 10 else text + " padding!"
        guard.call("set-password", lambda: store.set_password(name, password, actor="tests"),
                   changes={"auth_event": 1, "user_session": -1 if i else 0})  # it ends the last session
        client = client_for(app)
        ok = guard.call("sign-in", lambda: login(client, name, password),
                        changes={"login_attempt": 1, "user_session": 1})
        assert ok.status_code == 302 and "ioc_session=" in ok.headers["Set-Cookie"], text
        wrong = guard.call("wrong password", lambda: login(client_for(app), name, password + "'"),
                           changes={"login_attempt": 1})
        assert wrong.status_code == 401
        assert guard.call("quote-only password", lambda: login(client_for(app), name, "' OR '1'='1' --"),
                          changes={"login_attempt": 1}).status_code == 401


# --- console actions -----------------------------------------------------------------------------

ACT = "..console-action-result.children...console-alert-version.data.."


def _act(client, app, alert_id: int, button: str, *, comment=None, assignee=None, until=None) -> str:
    values = {f"{button}.n_clicks": 1, "console-alert-loc.search": f"?id={alert_id}", "console-comment.value": comment,
              "console-assignee.value": assignee, "console-until.value": until, "console-alert-version.data": 0,
              "console-lang.data": "en"}
    resp = dash_call(client, app, ACT, values, triggered=f"{button}.n_clicks")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return str(resp.get_json()["response"]["console-action-result"]["children"])


def test_console_actions(app, guard, settings, operator, alerts):
    client = _signed_in(app, operator)
    alert_id = alerts(f"inj-console-{uuid.uuid4().hex[:6]}")
    one = {"alert_event": 1}
    for text in HOSTILE:
        said = guard.call("acknowledge", lambda: _act(client, app, alert_id, "console-ack", comment=text), changes=one)
        assert "Done" in said, said
        said = guard.call("assign", lambda: _act(client, app, alert_id, "console-assign", assignee=text), changes=one)
        assert "Done" in said, said
        assert AlertStore(settings.dsn).fetch("SELECT assigned_to FROM alert WHERE id = %s",
                                              (alert_id,))[0]["assigned_to"] == text.strip()
        said = guard.call("comment", lambda: _act(client, app, alert_id, "console-comment-btn", comment=text),
                          changes=one)
        assert "Done" in said, said
        said = guard.call("silence until <text>", lambda: _act(client, app, alert_id, "console-silence", until=text))
        assert "Bad time" in said, said  # refused: not a time
        said = guard.call("silence", lambda: _act(client, app, alert_id, "console-silence", until="2h", comment=text),
                          changes=one)
        assert "Done" in said, said
        said = guard.call("silence until resolved", lambda: _act(client, app, alert_id, "console-silence-resolved",
                                                                 comment=text), changes=one)
        assert "Done" in said, said
        events = _events(settings.dsn, alert_id)[-5:]
        assert [e["kind"] for e in events] == ["acknowledged", "assigned", "commented", "silenced", "silenced"]
        assert all(e["actor"] == operator for e in events)
        assert [e["detail"].get("comment", e["detail"].get("assignee")) for e in events] == [text.strip()] * 5
    for text in UNSTORABLE:
        for button, field in (("console-comment-btn", "comment"), ("console-ack", "comment"),
                              ("console-assign", "assignee")):
            said = guard.call(f"{button} with {text!r}",
                              lambda: _act(client, app, alert_id, button, **{field: text}))
            assert "Not done" in said and ("NUL" in said or "Unicode" in said), said
    said = guard.call("resolve", lambda: _act(client, app, alert_id, "console-resolve", comment=HOSTILE[0]),
                      changes=one)
    assert "Done" in said
    last = _events(settings.dsn, alert_id)[-1]
    assert (last["kind"], last["detail"]["comment"]) == ("resolved_by_operator", HOSTILE[0])


def _callbacks(client, app, key: str, values: dict):
    resp = dash_call(client, app, key, values)
    assert resp.status_code in (200, 204), (key, values, resp.status_code, resp.get_data(as_text=True)[:300])
    return resp


def test_console_filters_and_every_query_string(app, guard, operator, alerts):
    client = _signed_in(app, operator)
    alert_id = alerts(f"inj-filter-{uuid.uuid4().hex[:6]}")
    refresh = "..console-alerts.children...console-f-rule.options.."
    show = "..console-alert-detail.children...console-alert-history.children.."
    route = "..page.children...nav.children...langs.children...lang.data...site-title.children...wall.className.."
    def q(v):  # a lone surrogate goes as the bytes a client could send
        return quote(v, errors="surrogatepass")

    def qs(d):
        return urlencode(d, errors="surrogatepass")

    for text in HOSTILE + UNSTORABLE:
        lists = {"console-f-state.value": [text], "console-f-severity.value": [text], "console-f-rule.value": [text]}
        texts = {"console-f-entity.value": text, "console-f-text.value": text, "console-lang.data": text}
        r = guard.call("alert filters", lambda: _callbacks(client, app, refresh, {**lists, **texts}))
        assert f"alert-row-{alert_id}" not in r.get_data(as_text=True)  # no state is called that
        r = guard.call("text filters", lambda: _callbacks(client, app, refresh, texts))
        for query in (f"?id={q(text)}", f"?id={alert_id}&id={q(text)}", "?" + q(text), "?id=²"):
            r = guard.call("alert page query", lambda: _callbacks(client, app, show, {
                "console-alert-loc.search": query, "console-alert-version.data": text, "console-lang.data": text}))
            assert "console-no-alert" in r.get_data(as_text=True)
        for path, query in (("/" + q(text), ""), ("/", "?" + qs({"lang": text})),
                            ("/wall", "?" + qs({"kiosk": "1", "playlist": text, "every": text})),
                            ("/console/alert", "?" + qs({"id": text})), ("/console/alerts", "?" + q(text))):
            guard.call("router", lambda: _callbacks(client, app, route, {"url.pathname": path, "url.search": query}))
        for key, spec in app.callback_map.items():  # every wall page with a hostile language
            if spec["inputs"][0]["id"] == "tick" and "kiosk-config" not in {s["id"] for s in spec["state"]}:
                guard.call(key, lambda: _callbacks(client, app, key, {"tick.n_intervals": 1, "lang.data": text}))
        for url in (f"/login?next={q(text)}", f"/console/alert?id={q(text)}", f"/?lang={q(text)}",
                    f"/alerts/{q(text)}", f"/wall?playlist={q(text)}&kiosk=1"):
            status = guard.call(url, lambda: client.get(url).status_code)
            assert status in (200, 302, 404), (url, status)


# --- the ioc command -----------------------------------------------------------------------------


@pytest.fixture
def ioc(settings, monkeypatch, capsys):
    return ioc_runner(settings.dsn, monkeypatch, capsys)


def test_ioc_users(ioc, guard, users):
    real = f"inj-cli-{uuid.uuid4().hex[:6]}"
    assert ioc("users", "add", "--name", real, "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    for text in HOSTILE + UNSTORABLE[:1]:
        for args, stdin in ((("users", "add", "--name", text, "--role", "viewer", "--password-stdin"), PASSWORD + "\n"),
                            (("users", "create-admin", "--name", text, "--password-stdin"), PASSWORD + "\n"),
                            (("users", "disable", "--name", text), None),
                            (("users", "enable", "--name", text), None),
                            (("users", "set-role", "--name", text, "--role", "admin"), None),
                            (("users", "set-password", "--name", text, "--password-stdin"), PASSWORD + "\n"),
                            (("users", "wall-token", "create", "--name", text), None),
                            (("users", "wall-token", "revoke", "--name", text), None)):
            code, out, err = guard.call(" ".join(args[:2]), lambda: ioc(*args, stdin=stdin))
            assert code == 1 and err.startswith("AuthError: ") and err.count("\n") == 1, (args, code, out, err)
        password = text if len(text) >= 10 and "\x00" not in text else text.replace("\x00", "") + " long enough"
        code, _, err = guard.call("set-password", lambda: ioc("users", "set-password", "--name", real,
                                                              "--password-stdin", stdin=password + "\n"),
                                  changes={"auth_event": 1})
        assert code == 0, err
        assert users.login(real, password, address="10.9.9.9").name == real
    assert ioc("users", "audit", "--limit", "5")[0] == 0


def test_ioc_alerts_and_maintenance(ioc, guard, settings, alerts):
    alert_id = alerts(f"inj-cli-{uuid.uuid4().hex[:6]}")
    for text in HOSTILE:
        code, out, err = guard.call("alerts ack", lambda: ioc("alerts", "ack", str(alert_id), "--by", text,
                                                              "--comment", text), changes={"alert_event": 1})
        assert code == 0 and out == f"alert {alert_id} acknowledged by {text}\n", err
        last = _events(settings.dsn, alert_id)[-1]
        assert (last["actor"], last["detail"]["comment"]) == (text, text)
        assert text in ioc("alerts", "history", str(alert_id))[1]
        code, out, err = guard.call("maintenance add", lambda: ioc(
            "maintenance", "add", "--system", text, "--reason", text, "--by", text,
            "--start", "2031-01-01T00:00", "--end", "2031-01-01T02:00"),
            changes={"maintenance_window": 1, "maintenance_occurrence": 1})
        assert code == 0, err
        wid = int(out.split()[2])
        row = AlertStore(settings.dsn).fetch("SELECT system, reason, created_by FROM maintenance_window WHERE id = %s",
                                             (wid,))[0]
        assert row == {"system": text, "reason": text, "created_by": text}
        assert text in ioc("maintenance", "list")[1]
        for bad in (("--weekly", text), ("--start", text, "--end", text)):
            code, _, err = guard.call("maintenance add (bad time)", lambda: ioc(
                "maintenance", "add", "--system", text, "--reason", text, "--by", text, *bad))
            assert code == 1 and err.startswith("ConfigError: ") and err.count("\n") == 1, err
        assert guard.call("maintenance delete", lambda: ioc("maintenance", "delete", str(wid)),
                          changes={"maintenance_window": -1, "maintenance_occurrence": -1})[0] == 0
    for text in UNSTORABLE[:1]:
        for args in (("alerts", "ack", str(alert_id), "--by", text), ("alerts", "ack", str(alert_id), "--by", "x",
                                                                      "--comment", text),
                     ("maintenance", "add", "--reason", text, "--by", "x", "--start", "2031-01-01T00:00",
                      "--end", "2031-01-01T02:00")):
            code, _, err = guard.call(" ".join(args[:2]), lambda: ioc(*args))
            assert code == 1 and err.startswith("InputError: ") and "NUL" in err, err


def test_ioc_as_a_process(guard, settings, alerts):
    """The real command line: arguments reach the store as the shell passed them."""
    alert_id = alerts(f"inj-proc-{uuid.uuid4().hex[:6]}")
    text = HOSTILE[2]
    done = subprocess.run([sys.executable, "-m", "streams.cli.main", "alerts", "ack", str(alert_id), "--by", text,
                           "--comment", HOSTILE[0]], env=settings_env(settings), cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    last = _events(settings.dsn, alert_id)[-1]
    assert (last["actor"], last["detail"]["comment"]) == (text, HOSTILE[0])
    assert set(guard._tables()) == guard.tables


# --- the stores themselves -----------------------------------------------------------------------


def test_alert_store_directly(guard, settings, alerts):
    store = AlertStore(settings.dsn)
    alert_id = alerts(f"inj-store-{uuid.uuid4().hex[:6]}")
    one = {"alert_event": 1}
    for text in HOSTILE:
        guard.call("acknowledge", lambda: store.acknowledge(alert_id, text, text), changes=one)
        a = guard.call("assign", lambda: store.assign(alert_id, text, text), changes=one)
        assert (a["acknowledged_by"], a["assigned_to"]) == (text, text)
        guard.call("comment", lambda: store.comment(alert_id, text, text), changes=one)
        until = datetime.now(timezone.utc) + timedelta(hours=1)
        guard.call("silence", lambda: store.silence(alert_id, text, until=until, comment=text), changes=one)
        assert [(e["actor"], e["detail"].get("comment", e["detail"].get("assignee")))
                for e in store.history(alert_id)[-4:]] == [(text, text)] * 4
        assert guard.call("alerts of a state", lambda: store.alerts(states=[text, "firing"], limit=5)) is not None
        assert guard.call("alerts of a state", lambda: store.alerts(states=[text])) == []
        wid = guard.call("add_maintenance", lambda: store.add_maintenance(
            system=text, reason=text, actor=text, starts_at=until, ends_at=until + timedelta(hours=1)),
            changes={"maintenance_window": 1, "maintenance_occurrence": 1})
        w = next(w for w in store.maintenance_windows() if w["id"] == wid)
        assert (w["system"], w["reason"], w["created_by"]) == (text, text, text)
        guard.call("delete_maintenance", lambda: store.delete_maintenance(wid),
                   changes={"maintenance_window": -1, "maintenance_occurrence": -1})
    for text in UNSTORABLE:
        for what, fn in (("acknowledge", lambda: store.acknowledge(alert_id, text)),
                         ("comment", lambda: store.comment(alert_id, "x", text)),
                         ("assign", lambda: store.assign(alert_id, "x", text)),
                         ("silence", lambda: store.silence(alert_id, "x", until_resolved=True, comment=text)),
                         ("resolve", lambda: store.resolve(alert_id, "x", text)),
                         ("add_maintenance", lambda: store.add_maintenance(system=text, reason="r", actor="x",
                                                                           starts_at=until, ends_at=until))):
            err = guard.call(what, fn)
            assert isinstance(err, InputError) and ("NUL" in str(err) or "Unicode" in str(err)), (what, err)
    # an entity that arrives in events becomes part of an alert (its summary says it): stored verbatim
    for text in HOSTILE:
        hostile_id = guard.call("an alert about a hostile entity", lambda: alerts(text),
                                changes={"alert": 1, "alert_event": 2, "alert_rule_state": 1})
        row = store.fetch("SELECT entity, summary_vi, summary_en FROM alert WHERE id = %s", (hostile_id,))[0]
        assert row["entity"] == text and text in row["summary_vi"] and text in row["summary_en"]


def test_user_store_directly(guard, users):
    store = users
    real = f"inj-us-{uuid.uuid4().hex[:6]}"
    store.add_user(real, "viewer", PASSWORD, actor="tests")
    for text in HOSTILE + UNSTORABLE:
        for what, fn in (("add_user", lambda: store.add_user(text, "viewer", PASSWORD, actor="tests")),
                         ("add_user role", lambda: store.add_user(f"inj-{uuid.uuid4().hex[:6]}", text, PASSWORD,
                                                                  actor="tests")),
                         ("set_role", lambda: store.set_role(real, text, actor="tests")),
                         ("set_disabled", lambda: store.set_disabled(text, True, actor="tests")),
                         ("create_wall_token", lambda: store.create_wall_token(text, actor="tests")),
                         ("revoke_wall_token", lambda: store.revoke_wall_token(text, actor="tests"))):
            assert isinstance(guard.call(what, fn), AuthError), what
        assert guard.call("wall_principal", lambda: store.wall_principal(text)) is None
        assert guard.call("session_principal", lambda: store.session_principal(
            text.encode("utf-8", "surrogatepass"), idle_s=60)) is None
        err = guard.call("login", lambda: store.login(text, text, address=text, user_agent=text),
                         changes={"login_attempt": 1})
        assert isinstance(err, AuthError)
        row = store.attempts(1)[0]
        assert (row["username"], row["address"], row["user_agent"]) == (
            recordable(normalise_name(text)), recordable(text), recordable(text))
