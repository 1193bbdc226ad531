"""The sign-in gate of a Dash app, through Flask's test client against the real database."""
import pytest

from ioc_dash.auth.web import output_ids, safe_next
from tests.ioc_dash.conftest import PASSWORD, client_for, console_app, dash_call, login

LIST = "..console-alerts.children...console-f-rule.options.."


@pytest.fixture
def app(web_settings, users):
    return console_app(web_settings, users)


def test_every_route_but_login_and_assets_needs_a_session(app):
    c = client_for(app)
    assert c.get("/login").status_code == 200
    assert c.get("/_dash-component-suites/dash/dcc/async-dropdown.js").status_code in (200, 404)  # public
    page = c.get("/console/alerts?lang=en")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/console/alerts?lang=en"
    for path in ("/_dash-layout", "/_dash-dependencies", "/healthz", "/alerts/1"):
        r = c.get(path)
        assert r.status_code in (302, 401), path
    assert c.get("/_dash-layout").status_code == 401
    assert dash_call(c, app, LIST, triggered="console-alerts-tick.n_intervals").status_code == 401


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(app, users, uniq, web_settings):
    name = uniq("op")
    users.add_user(name, "operator", PASSWORD, actor="t")
    c = client_for(app)
    bad = login(c, name, "not the password")
    assert bad.status_code == 401 and "Sai tên người dùng hoặc mật khẩu" in bad.get_data(as_text=True)
    ok = login(c, name, next="/console/alerts")
    assert ok.status_code == 302 and ok.headers["Location"] == "/console/alerts"
    cookie = ok.headers["Set-Cookie"]
    assert "ioc_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert c.get("/_dash-layout").status_code == 200
    assert dash_call(c, app, LIST, {"console-f-state.value": ["firing"]},
                     "console-alerts-tick.n_intervals").status_code == 200
    assert c.get("/alerts/7").headers["Location"] == "/console/alert?id=7"  # Alertmanager's links
    r = c.get("/console/alerts")
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Cache-Control"] == "no-store"
    assert c.post("/logout").status_code == 302
    assert c.get("/_dash-layout").status_code == 401


def test_a_session_ended_on_the_server_stops_working_even_while_in_use(users, uniq, web_settings, monkeypatch):
    # the gate caches principals for a few seconds; a screen refreshing faster than that must not
    # keep a revoked (or expired) session alive in the cache for ever
    import time

    import psycopg

    from ioc_dash.auth import web

    name = uniq("op")
    users.add_user(name, "operator", PASSWORD, actor="t")
    monkeypatch.setattr(web, "LOOKUP_CACHE_S", 0.5)
    fast = console_app(web_settings, users)
    c = client_for(fast)
    assert login(c, name).status_code == 302
    assert c.get("/_dash-layout").status_code == 200
    with psycopg.connect(web_settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM user_session WHERE user_id = (SELECT id FROM users WHERE name = %s)", (name,))
    statuses = []
    for _ in range(15):  # every 0.1 s, for three times the cache's life
        statuses.append(c.get("/_dash-layout").status_code)
        time.sleep(0.1)
    assert statuses[-1] == 401 and statuses.count(200) <= 6, statuses


def test_secure_cookies_and_no_open_redirect(web_settings, users, uniq):
    app = console_app(web_settings.model_copy(update={"dash_secure_cookies": True}), users)
    name = uniq("an")
    users.add_user(name, "viewer", PASSWORD, actor="t")
    r = login(client_for(app), name, next="//evil.example/x")
    assert r.headers["Location"] == "/" and "Secure" in r.headers["Set-Cookie"]
    assert safe_next("https://evil.example") == "/" and safe_next("/\\evil") == "/"
    assert safe_next("/console/alert?id=3") == "/console/alert?id=3"


def test_cross_site_posts_are_refused(app, users, uniq):
    name = uniq("op")
    users.add_user(name, "operator", PASSWORD, actor="t")
    c = client_for(app)
    assert login(c, name, headers=None).status_code == 302
    evil = c.post("/logout", headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    same = c.post("/logout", headers={"Origin": "http://localhost"})
    assert same.status_code == 302


def test_login_is_rate_limited_with_a_clear_message(app, users, uniq):
    name = uniq("admin")
    users.add_user(name, "admin", PASSWORD, actor="t")
    c = client_for(app)
    for _ in range(3):  # web_settings: 3 failures per 5 minutes
        assert login(c, name, "wrong password!").status_code == 401
    r = c.post("/login?lang=en", data={"name": name, "password": PASSWORD})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 300
    assert "Too many failed sign-ins for this user or address. Try again in 5 min." in r.get_data(as_text=True)
    assert [a["outcome"] for a in users.attempts(10) if a["username"] == name][:2] == ["rate_limited",
                                                                                       "bad_password"]


def test_wall_token_views_without_login_and_cannot_act(app, users, uniq):
    name = uniq("wall")
    token = users.create_wall_token(name, actor="t")
    app.server.extensions["ioc_auth"].cache.ttl_s = 0  # no 5 s cache: see the revocation at once
    c = client_for(app)
    refused = c.get("/wall?token=not-a-token")
    assert refused.status_code == 403 and "không hợp lệ" in refused.get_data(as_text=True)
    r = c.get(f"/wall?token={token}&lang=en")
    assert r.status_code == 302 and r.headers["Location"] == "/wall?lang=en"  # the token leaves the address bar
    assert "ioc_wall=" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    assert c.get("/wall").status_code == 200 and c.get("/_dash-layout").status_code == 200
    assert dash_call(c, app, LIST, {"console-f-state.value": ["firing"]}).status_code == 200
    acting = dash_call(c, app, "..console-action-result.children...console-alert-version.data..",
                       {"console-ack.n_clicks": 1, "console-alert-loc.search": "?id=1"}, "console-ack.n_clicks")
    assert acting.status_code == 403
    assert c.post("/logout").status_code == 302 and c.get("/wall").status_code == 200  # a wall never signs out
    users.revoke_wall_token(name, actor="t")
    assert c.get("/wall").status_code == 302


def test_output_ids_of_a_dash_request():
    assert output_ids({"outputs": {"id": "a", "property": "children"}}) == ["a"]
    assert sorted(output_ids({"outputs": [{"id": "a"}, [{"id": {"type": "row", "n": 1}}]]})) == \
        ["a", '{"n": 1, "type": "row"}']
    assert output_ids(None) == [] and output_ids({"outputs": "junk"}) == []
