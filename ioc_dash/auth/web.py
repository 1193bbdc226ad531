"""The Flask side of sign-in: one ``before_request`` hook guards every route.

    public              /login, /assets/…, /_dash-component-suites/…, /_favicon.ico, /metrics,
                        /status (the public status page: no cookie set, ioc_dash/status_page.py),
                        /ack/… (an e-mail's acknowledge link: its signed token is the proof, ioc_dash/ack_page.py)
                        /api/… (the read API: a bearer token of its own on every request, ioc_dash/api.py)
    wall-token entry    GET of a page with ?token=…: sets the wall cookie, redirects without it
    everything else     a session cookie or a wall cookie; without one, pages redirect to /login
                        and the Dash endpoints (/_dash-layout, /_dash-update-component, …) answer 401

A Dash callback whose output is registered with ``guard_outputs`` is refused (403) before it runs
when the principal lacks the permission; the callback checks again with ``require``.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Response, abort, g, has_request_context, jsonify, make_response, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ioc_dash.auth import login_page, roles
from ioc_dash.auth.ratelimit import Limit
from ioc_dash.auth.roles import Principal, can
from ioc_dash.auth.store import UserStore
from ioc_dash.auth.tokens import new_token, session_hash, session_key, wall_hash
from ioc_dash.i18n import LANG_COOKIE, LANG_PARAM, LANGS, request_lang
from streams.core.errors import AuthError, Forbidden, LoginRateLimited, SinkUnavailable
from streams.core.geography import load_province
from streams.core.settings import Settings

log = logging.getLogger("ioc.auth")

SESSION_COOKIE = "ioc_session"
WALL_COOKIE = "ioc_wall"
PUBLIC_PATHS = frozenset({"/login", "/_favicon.ico", "/favicon.ico", "/metrics", "/status"})  # /metrics: Prometheus
SHARED_PATHS = frozenset({"/status"})  # one answer for every visitor, kept by proxies: no cookie set
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/ack/", "/api/")  # /api/: its own read tokens
WALL_COOKIE_S = 400 * 86400  # the longest a browser keeps a cookie; renewed while the screen is on
LOOKUP_CACHE_S = 5.0  # a revoked session or token stops working within this

_GUARDED: dict[str, str] = {}  # Dash output component id -> permission


def guard_outputs(mapping: dict[str, str]) -> None:
    """Callbacks that write these component ids run only for principals with the permission."""
    for permission in mapping.values():
        can(None, permission)  # an unknown permission name fails here, at import
    _GUARDED.update(mapping)


def current_principal() -> Principal | None:
    return g.get("ioc_principal") if has_request_context() else None


def allowed(permission: str) -> bool:
    return can(current_principal(), permission)


def require(permission: str) -> Principal:
    """For callbacks and views: the principal, or HTTP 403."""
    try:
        return roles.require(current_principal(), permission)
    except Forbidden as exc:
        log.warning("refused: %s", exc)
        abort(403, description=str(exc))


def safe_next(value: str | None) -> str:
    """Only a path on this site: never another host (open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def output_ids(body) -> list[str]:
    """Component ids a Dash update request writes (pattern ids as sorted JSON)."""
    outs = body.get("outputs") if isinstance(body, dict) else None
    stack, ids = [outs], []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            oid = item.get("id")
            ids.append(oid if isinstance(oid, str) else json.dumps(oid, sort_keys=True))
    return ids


class _Cache:
    """Principals by token hash for a few seconds: thirty wall screens are not thirty queries."""

    def __init__(self, ttl_s: float, clock=time.monotonic) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._items: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Principal | None:
        with self._lock:
            hit = self._items.get(key)
            if hit and hit[1] > self.clock():
                return hit[0]
            self._items.pop(key, None)
            return None

    def put(self, key: bytes, principal: Principal) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (principal, self.clock() + self.ttl_s)

    def drop(self, key: bytes) -> None:
        with self._lock:
            self._items.pop(key, None)


class Gate:
    def __init__(self, settings: Settings, store: UserStore, key: bytes, province: str | None = None) -> None:
        self.settings, self.store, self.key = settings, store, key
        self.limit = Limit(settings.dash_login_max_failures, timedelta(seconds=settings.dash_login_window_s))
        self.cache = _Cache(LOOKUP_CACHE_S)
        # the centre's name on the sign-in page: the caller's province, else the province file's
        self.province = province if province is not None else load_province(settings.province_file).name

    def _login_page(self, lang: str, **kw: Any) -> str:
        return login_page.render(lang, province=self.province, **kw)

    # --- who is asking ---------------------------------------------------------------------------

    def principal(self) -> Principal | None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            h = session_hash(self.key, token)
            found = self.cache.get(h)
            if found is None and (found := self.store.session_principal(h, idle_s=self.settings.dash_session_idle_s)):
                self.cache.put(h, found)  # only when looked up: a hit must not extend the cache's few seconds
            if found:
                return found
        token = request.cookies.get(WALL_COOKIE)
        if token:
            h = wall_hash(token)
            found = self.cache.get(h)
            if found is None and (found := self.store.wall_principal(token)):
                self.cache.put(h, found)
                g.ioc_renew_wall = token  # looked up again: renew the cookie too
            return found
        return None

    def before_request(self):
        path = request.path
        if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin():
            abort(403, description="cross-site request refused")
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        try:
            if request.method == "GET" and "token" in request.args and not path.startswith("/_"):
                return self._wall_entry(path)
            principal = self.principal()
        except SinkUnavailable as exc:
            log.warning("cannot check a session: %s", exc)
            return _refuse(503, login_page.text("unavailable", request_lang()))
        if principal is None:
            if path.startswith("/_") or request.method != "GET":
                return _refuse(401, "sign in first: /login")
            return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/?=&"))
        g.ioc_principal = principal
        if path == "/_dash-update-component":
            for oid in output_ids(request.get_json(silent=True)):
                if oid in _GUARDED:
                    require(_GUARDED[oid])
        return None

    def after_request(self, resp: Response) -> Response:
        # the security headers come from ioc_dash/headers.py, on every response
        if not request.path.startswith(PUBLIC_PREFIXES):
            resp.headers.setdefault("Cache-Control", "no-store")
        lang = request.args.get(LANG_PARAM)
        if request.method == "GET" and lang in LANGS and request.path not in SHARED_PATHS:
            self._cookie(resp, LANG_COOKIE, lang, max_age=365 * 86400)
        if token := g.get("ioc_renew_wall"):
            self._cookie(resp, WALL_COOKIE, token, max_age=WALL_COOKIE_S)
        return resp

    def _cookie(self, resp: Response, name: str, value: str, max_age: int | None = None) -> None:
        resp.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Lax",
                        secure=self.settings.dash_secure_cookies)

    def _wall_entry(self, path: str):
        token = request.args["token"]
        principal = self.store.wall_principal(token)
        if principal is None:
            log.warning("a wall token was refused (from %s)", request.remote_addr)
            html = self._login_page(request_lang(), message=login_page.text("bad_token", request_lang()), form=False)
            return make_response(html, 403)
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        resp = redirect(path + ("?" + urlencode(rest) if rest else ""))
        self._cookie(resp, WALL_COOKIE, token, max_age=WALL_COOKIE_S)
        log.info("wall screen %s signed in from %s", principal.name, request.remote_addr)
        return resp

    # --- views -----------------------------------------------------------------------------------

    def login(self):
        lang = request_lang()
        next_ = safe_next(request.values.get("next"))
        if request.method == "GET":
            expired = login_page.text("expired", lang) if request.args.get("expired") else ""
            return self._login_page(lang, message=expired, kind="info", next_=next_)
        name = request.form.get("name", "")[:64]
        address = request.remote_addr or ""
        try:
            principal = self.store.login(name, request.form.get("password", ""), address=address,
                                         user_agent=request.user_agent.string, limit=self.limit)
        except LoginRateLimited as exc:
            log.warning("sign-in refused by the rate limit (from %s)", address)
            message = login_page.text("limited", lang).format(n=max(1, math.ceil(exc.retry_after / 60)))
            resp = make_response(self._login_page(lang, message=message, next_=next_, name=name), 429)
            resp.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
            return resp
        except SinkUnavailable as exc:
            log.warning("sign-in impossible: %s", exc)
            return make_response(self._login_page(lang, message=login_page.text("unavailable", lang), next_=next_), 503)
        except AuthError:
            log.info("failed sign-in from %s", address)  # not the name: people type passwords there
            return make_response(self._login_page(lang, message=login_page.text("wrong", lang), next_=next_,
                                                   name=name), 401)
        token = new_token()
        self.store.start_session(principal, session_hash(self.key, token), idle_s=self.settings.dash_session_idle_s,
                                 address=address, user_agent=request.user_agent.string)
        log.info("%s (%s) signed in from %s", principal.name, principal.role, address)
        resp = redirect(next_)
        self._cookie(resp, SESSION_COOKIE, token)
        return resp

    def logout(self):
        token = request.cookies.get(SESSION_COOKIE)
        principal = current_principal()
        if token:
            h = session_hash(self.key, token)
            self.cache.drop(h)
            self.store.end_session(h, actor=principal.name if principal else "unknown")
        resp = redirect("/login")
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp


def _same_origin() -> bool:
    """Browsers send Origin on POST; a request from another site is refused (CSRF)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _refuse(status: int, message: str):
    if request.path.startswith("/_"):
        return make_response(jsonify(error=message), status)
    return make_response(message, status, {"Content-Type": "text/plain; charset=utf-8"})


def install(app, settings: Settings, *, store: UserStore | None = None, province: str | None = None) -> Gate:
    """Guard a Dash app: sign-in, sessions, wall tokens, role checks on every route."""
    server = app.server
    server.config.setdefault("IOC_SETTINGS", settings)
    key = session_key(settings)
    server.secret_key = key
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=settings.dash_secure_cookies)
    gate = Gate(settings, store or UserStore(settings.dsn), key, province)
    server.extensions["ioc_auth"] = gate
    if settings.dash_proxy_hops:
        n = settings.dash_proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n)
    server.before_request(gate.before_request)
    server.after_request(gate.after_request)
    server.add_url_rule("/login", "ioc_login", gate.login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "ioc_logout", gate.logout, methods=["POST"])
    # Alertmanager's links (IOC_ALERT_PAGE_URL) point at /alerts/<id>: the console's alert page
    server.add_url_rule("/alerts/<int:alert_id>", "ioc_alert_link",
                        lambda alert_id: redirect(f"/console/alert?id={alert_id}"))
    return gate
