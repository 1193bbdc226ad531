"""The page of an e-mail's acknowledge link, ``/ack/<token>``: plain HTML served by Flask, sized for
a phone, Vietnamese first with the English text below.  No sign-in: the signed token is the proof.

GET shows the alert (summary, severity, state) and one button, and changes nothing — mail scanners
and link previews fetch links.  Only the POST of that button acknowledges, as ``email:<recipient>``
(``AckStore``: audited in alert_event, the link's nonce marked used).  A used, expired or altered
link, an alert already acknowledged or over: a page that says so and points to the console.

Cheap for anyone who calls it: the signature is checked before any database work, and an address
that keeps bringing bad links is refused (429) for a while.  The token never reaches another site
(``Referrer-Policy: same-origin``, ``ioc_dash/headers.py``; ``no-referrer`` would make browsers send
``Origin: null`` with the button's POST, refused as cross-site) nor gunicorn's access log (``gunicorn_conf``).
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, make_response, render_template_string, request

from agents.alerting.notify.acklinks import LinkClaims, LinkRefused, Outcome, read_token
from agents.alerting.notify.ackstore import AckStore
from ioc_dash import i18n
from ioc_dash.auth.ratelimit import Limit, verdict
from ioc_dash.figures import local_time
from streams.core.clock import utcnow
from streams.core.errors import SinkUnavailable
from streams.core.keys import ack_link_key
from streams.core.geography import load_province
from streams.core.settings import Settings

PREFIX = "/ack/"
STATUS = {"ready": 200, "done": 200, "used": 409, "acknowledged": 409, "closed": 409, "missing": 404,
          "invalid": 400, "expired": 410, "limited": 429, "unavailable": 503}
BAD_LINKS = Limit(max_failures=20, window=timedelta(minutes=10))  # per address
TIME_FORMAT = "%H:%M %d/%m/%Y"
SEVERITY_CLASS = {"critical": "down", "high": "high", "medium": "degraded", "low": "low"}
LANGS = ("vi", "en")

PAGE = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ title }}</title>
<style>
:root { --bg:#0b1220; --panel:#121c2e; --fg:#e8eef7; --muted:#8ea0b8; --line:#24324a; --ok:#2fbf71;
        --degraded:#f2b134; --down:#e5484d; --high:#f27b35; --low:#4ea1f2; --unknown:#6b7a90; --accent:#4ea1f2; }
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--fg); font: 17px/1.45 "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 32rem; margin: 0 auto; padding: 1rem; }
.brand { color: var(--muted); font-size: 0.9rem; margin: 0 0 0.6rem; }
.card { background: var(--panel); border: 1px solid var(--line); border-left: 0.4rem solid var(--unknown);
        border-radius: 0.5rem; padding: 0.8rem 0.9rem; margin-bottom: 1rem; overflow-wrap: anywhere; }
.card.down { border-left-color: var(--down); } .card.high { border-left-color: var(--high); }
.card.degraded { border-left-color: var(--degraded); } .card.low { border-left-color: var(--low); }
.tags { display: flex; flex-wrap: wrap; gap: 0.4rem; margin: 0 0 0.5rem; padding: 0; list-style: none; font-size: 0.9rem; }
.tags li { border: 1px solid var(--line); border-radius: 1rem; padding: 0.05rem 0.6rem; }
.summary { font-size: 1.2rem; font-weight: 600; margin: 0 0 0.2rem; }
.en { color: var(--muted); }
.card .en, .when { font-size: 0.95rem; margin: 0.2rem 0 0; }
.message { margin: 0 0 1rem; overflow-wrap: anywhere; }
.message h1 { font-size: 1.3rem; margin: 0 0 0.3rem; }
.message.en h1 { font-size: 1.05rem; }
.message p { margin: 0; }
.message.good h1 { color: var(--ok); } .message.bad h1 { color: var(--degraded); }
form { margin: 0 0 1.2rem; }
button { display: block; width: 100%; min-height: 3.4rem; border: 0; border-radius: 0.5rem; background: var(--ok);
         color: #04140b; font: inherit; font-size: 1.25rem; font-weight: 700; cursor: pointer; }
button small { display: block; font-size: 0.85rem; font-weight: 400; }
.console a { color: var(--accent); font-size: 1rem; }
</style></head>
<body>
<main id="ack-page" data-outcome="{{ kind }}">
<p class="brand">IOC {{ province }}</p>
{% if alert %}
<section class="card {{ card.severity_class }}" id="ack-alert">
  <ul class="tags"><li>#{{ alert.id }}</li><li>{{ card.severity }}</li><li id="ack-state">{{ card.state }}</li></ul>
  <p class="summary" lang="vi">{{ alert.summary_vi or alert.rule }}</p>
  <p class="en" lang="en">{{ alert.summary_en }}</p>
  <p class="when">{{ card.started }}</p>
</section>
{% endif %}
<section class="message {{ tone }}" lang="vi" id="ack-message-vi"><h1>{{ vi.heading }}</h1><p>{{ vi.text }}</p></section>
{% if form %}
<form method="post"><button id="ack-submit" type="submit">{{ vi.button }}<small lang="en">{{ en.button }}</small></button></form>
{% endif %}
<section class="message en" lang="en" id="ack-message-en"><h1>{{ en.heading }}</h1><p>{{ en.text }}</p></section>
<p class="console"><a id="ack-console" href="{{ console }}">{{ vi.console }} · <span lang="en">{{ en.console }}</span></a></p>
</main>
</body></html>"""


def _texts(kind: str, lang: str, values: dict[str, Any]) -> dict[str, str]:
    return {"heading": i18n.t(f"ack_{kind}_heading", lang), "text": i18n.t(f"ack_{kind}_text", lang).format(**values),
            "button": i18n.t("ack_button", lang), "console": i18n.t("ack_console", lang)}


def both(key: str) -> str:
    """A short label in Vietnamese / English (once when the two are the same)."""
    return " / ".join(dict.fromkeys(i18n.t(key, lang) for lang in LANGS))


def _console(kind: str, alert: dict[str, Any] | None, outcome: Outcome | None) -> str:
    """The alert's page in the console when the alert is known to exist, else the alert list."""
    if alert:
        return f"/alerts/{alert['id']}"
    if outcome and outcome.alert_id and kind == "expired":
        return f"/alerts/{outcome.alert_id}"
    return "/console"


def render(kind: str, *, alert: dict[str, Any] | None = None, outcome: Outcome | None = None,
           ttl_s: float = 0, retry_s: float = 0, province: str = "") -> str:
    """The page for ``kind`` (``acklinks.KINDS``, ``limited``, ``unavailable``); Jinja escapes every value."""
    values = {"by": (outcome.by if outcome else None) or "—",
              "at": local_time(outcome.at if outcome else None, TIME_FORMAT),
              "hours": f"{ttl_s / 3600:g}", "n": max(1, math.ceil(retry_s / 60))}
    card = {}
    if alert:
        card = {"severity_class": SEVERITY_CLASS.get(alert["severity"], ""), "severity": both(f"severity_{alert['severity']}"),
                "state": both(f"state_{alert['state']}"),
                "started": f"{both('ack_started')}: {local_time(alert['fired_at'] or alert['started_at'], TIME_FORMAT)}"}
    return render_template_string(
        PAGE, kind=kind, alert=alert, card=card, title=i18n.t("ack_title", "vi").replace("{province}", province), province=province,
        console=_console(kind, alert, outcome), form=kind == "ready",
        tone="good" if kind in ("ready", "done") else "bad",
        vi=_texts(kind, "vi", values), en=_texts(kind, "en", values))


class AckPage:
    def __init__(self, settings: Settings, store: AckStore, key: bytes,
                 clock: Callable[[], datetime] = utcnow, province: str | None = None) -> None:
        self.ttl_s = settings.ack_link_ttl_s
        self.store, self.key, self.clock = store, key, clock
        self.province = province if province is not None else load_province(settings.province_file).name
        self._bad: dict[str, list[datetime]] = {}  # address -> times it brought a bad link
        self._lock = threading.Lock()

    def _limited(self, address: str, now: datetime) -> float | None:
        with self._lock:
            v = verdict(self._bad.get(address, ()), now, BAD_LINKS)
        return None if v.allowed else v.retry_after

    def _bad_link(self, address: str, now: datetime) -> None:
        with self._lock:
            if len(self._bad) > 10_000:
                self._bad.clear()
            recent = [t for t in self._bad.get(address, ()) if now - t < BAD_LINKS.window]
            self._bad[address] = [*recent, now]

    def view(self, token: str):
        now, address = self.clock(), request.remote_addr or ""
        retry = self._limited(address, now)
        if retry is not None:
            resp = self._page("limited", retry_s=retry)
            resp.headers["Retry-After"] = str(max(1, math.ceil(retry)))
            return resp
        try:
            claims = read_token(self.key, token, now=now)
        except LinkRefused as exc:
            self._bad_link(address, now)
            return self._page(exc.kind, outcome=Outcome(exc.kind, exc.alert_id))
        try:
            alert, outcome = self._act(claims, address)
        except SinkUnavailable:
            return self._page("unavailable")
        return self._page(outcome.kind, alert=alert, outcome=outcome)

    def _act(self, claims: LinkClaims, address: str) -> tuple[dict[str, Any] | None, Outcome]:
        if request.method != "POST":  # a look changes nothing
            return self.store.look(claims.alert_id, claims.nonce)
        return self.store.acknowledge(claims.alert_id, claims.actor, via="email", nonce=claims.nonce,
                                      receiver=claims.receiver, address=address, user_agent=request.user_agent.string)

    def _page(self, kind: str, **kw):
        resp = make_response(render(kind, ttl_s=self.ttl_s, province=self.province, **kw), STATUS[kind])
        resp.headers["Cache-Control"] = "no-store"
        return resp


def install(server: Flask, settings: Settings, *, store: AckStore | None = None,
            province: str | None = None) -> AckPage:
    """``GET``/``POST /ack/<token>`` on the dashboard's Flask server (``province``: the centre's name)."""
    page = AckPage(settings, store or AckStore(settings.dsn), ack_link_key(settings), province=province)
    server.add_url_rule(f"{PREFIX}<path:token>", "ioc_ack", page.view, methods=["GET", "POST"])
    return page
