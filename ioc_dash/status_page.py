"""``/status``: the public status page of the citizen-facing services, plain HTML served by Flask.

No sign-in (``ioc_dash/auth/web.py`` lists it among the public paths), no script, no cookie: the
page is the same for every visitor of a language, so it is rendered once per read and served as
bytes.  Vietnamese, or English with ``?lang=en`` (the query only, never the language cookie, so a
proxy may keep one copy per URL).

A flood of visitors costs one database read per ``IOC_STATUS_PAGE_CACHE_S`` per process:
``PageCache`` lets one request read while the others wait for it (or, once there is a page, keep
serving the previous one), and a read that fails keeps the previous page for another period rather
than trying again for every visitor.  Responses carry ``Cache-Control: public, max-age=…``, an
``ETag`` (the SHA-256 of the page) and ``Last-Modified``; ``If-None-Match`` gets 304.

What the page may show is decided by what ``agents.indicators.status_page.StatusPage`` holds: the
public names of ``deploy/status_page.yaml``, states, figures and times.  Alert texts, rule names,
system codes, addresses and people never reach it.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import jinja2
from flask import Flask, Response, request

from agents.indicators import status_page as sp
from agents.indicators.health import StatusRules, load_status_rules
from agents.indicators.sla import load_sla_policy
from ioc_dash.i18n import LANGS, pick_lang, t
from ioc_dash.metrics import DashMetrics
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import IOCError
from streams.core.geography import Province
from streams.core.settings import Settings

log = logging.getLogger(__name__)
PATH = "/status"
T = TypeVar("T")


class PageCache(Generic[T]):
    """At most one ``compute`` per ``period_s``, whatever the number of threads asking.

    ``get()`` returns (value, hit).  While a value is fresh every caller gets it at once.  When it is
    due, one caller computes; the others get the previous value without waiting, or, before the first
    value, wait for that computation.  A computation that raises ``IOCError`` keeps the previous
    value (None before the first) until the next period."""

    def __init__(self, compute: Callable[[], T], period_s: float, clock: Callable[[], float] = time.monotonic):
        self.compute, self.period_s, self.clock = compute, period_s, clock
        self._lock = threading.Lock()
        self._entry: tuple[T | None, float] = (None, float("-inf"))  # value, when it is due again
        self.failures = 0

    def get(self) -> tuple[T | None, bool]:
        value, due = self._entry
        if self.clock() < due:
            return value, True
        if not self._lock.acquire(blocking=value is None):
            return value, True  # another thread reads: the previous page meanwhile
        try:
            value, due = self._entry
            if self.clock() < due:  # read by the thread we waited for
                return value, True
            try:
                value = self.compute()
            except IOCError as exc:
                self.failures += 1
                log.warning("status page not read, %s: %s", "the previous one is served" if value else "none to serve",
                            exc)
            self._entry = (value, self.clock() + self.period_s)
            return value, False
        finally:
            self._lock.release()


# --- the page ----------------------------------------------------------------------------------


def percent(value: float | None, lang: str) -> str:
    """99.95 % as "99,95 %" in Vietnamese, "99.95%" in English; two decimals, never rounded up to 100."""
    if value is None:
        return "—"
    hundredths = int(value * 10000) / 100  # floor: 99.999 % is not shown as 100 %
    text = f"{hundredths:.2f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')} %" if lang == "vi" else f"{text}%"


def duration(d: timedelta, lang: str) -> str:
    minutes = max(1, round(d.total_seconds() / 60)) if d.total_seconds() > 0 else 0
    if minutes >= 48 * 60:
        return t("sp_days_hours", lang).format(d=minutes // 1440, h=minutes // 60 % 24)
    if minutes >= 60:
        return t("sp_hours_minutes" if minutes % 60 else "sp_hours", lang).format(h=minutes // 60, m=minutes % 60)
    return t("sp_minutes", lang).format(m=minutes)


def when(at: datetime | None, lang: str) -> str:
    return t("sp_ongoing", lang) if at is None else at.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def day_title(bar: sp.DayBar, lang: str) -> str:
    day = bar.day.strftime("%d/%m/%Y")
    if bar.kind == sp.NO_DATA:
        return t("sp_day_no_data", lang).format(day=day)
    if bar.kind == sp.MAINTENANCE:
        return t("sp_day_maintenance", lang).format(day=day)
    text = t("sp_day_title", lang).format(day=day, value=percent(bar.availability, lang))
    return f"{text}; {t('sp_day_held', lang).format(minutes=bar.maintenance)}" if bar.maintenance else text


SUMMARY = ((sp.OUTAGE, "sp_some_out"), (sp.DEGRADED, "sp_some_degraded"), (sp.MAINTENANCE, "sp_some_held"),
           (sp.UNKNOWN, "sp_some_unknown"))


def summary(page: sp.StatusPage) -> tuple[str, str]:
    """The banner at the top: (state, text key) of the gravest state of any service."""
    states = {s.state for s in page.services}
    return next(((state, key) for state, key in SUMMARY if state in states), (sp.OPERATIONAL, "sp_all_ok"))


TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!doctype html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{{ refresh_s }}">
<title>{{ tr('sp_title') }} – {{ tr('sp_province') }}</title>
<style>
:root { --bg:#f4f6f9; --panel:#fff; --fg:#1b2430; --muted:#5b6878; --line:#d9dee6; --good:#2e9e5b; --fair:#e0b000;
        --poor:#ee7d22; --bad:#d93b3b; --maintenance:#3b82c4; --no_data:#c3c9d2; }
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--fg); font: 1.125rem/1.45 "Noto Sans", "DejaVu Sans", sans-serif; }
@media (min-width: 1600px) { html { font-size: 20px; } }  /* large screens: no text under 20 px */
main { max-width: 60rem; margin: 0 auto; padding: 1.2rem 1rem 2rem; }
.top { display: flex; justify-content: space-between; align-items: flex-start; gap: 1rem; flex-wrap: wrap; }
.brand { color: var(--muted); margin: 0; font-size: 1rem; }
h1 { font-size: 1.7rem; margin: 0.1rem 0 1rem; }
.langs { display: flex; gap: 0.4rem; margin-bottom: 0.8rem; }
.langs a { color: var(--fg); text-decoration: none; border: 1px solid var(--line); border-radius: 1.2rem;
           padding: 0.45rem 0.9rem; min-height: 2.75rem; display: inline-flex; align-items: center; font-size: 1rem; }
.langs a.active { background: var(--fg); color: var(--panel); }
.banner { border-radius: 0.5rem; padding: 0.9rem 1.1rem; margin-bottom: 1.2rem; color: #fff; background: var(--good); }
.banner p { margin: 0; } .banner .title { font-size: 1.3rem; font-weight: 700; }
.banner .updated { font-size: 1rem; opacity: 0.95; }
.banner.outage { background: var(--bad); } .banner.degraded { background: var(--poor); }
.banner.maintenance { background: var(--maintenance); } .banner.unknown { background: #6b7683; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 0.5rem; padding: 1rem 1.1rem; margin-bottom: 1rem; }
.service-head { display: flex; justify-content: space-between; align-items: baseline; gap: 0.6rem; flex-wrap: wrap; }
h2 { font-size: 1.25rem; margin: 0 0 0.6rem; }
.state { font-weight: 700; white-space: nowrap; }
.state.operational { color: var(--good); } .state.degraded { color: #b85d10; } .state.outage { color: var(--bad); }
.state.maintenance { color: var(--maintenance); } .state.unknown { color: var(--muted); }
.bars { display: flex; gap: 2px; height: 2.6rem; margin: 0.2rem 0 0.3rem; padding: 0; list-style: none; }
.bar { flex: 1 1 0; min-width: 0; border-radius: 2px; background: var(--no_data); }
.bar.good { background: var(--good); } .bar.fair { background: var(--fair); } .bar.poor { background: var(--poor); }
.bar.bad { background: var(--bad); } .bar.maintenance { background: var(--maintenance); }
.scale { display: flex; justify-content: space-between; gap: 0.5rem; color: var(--muted); font-size: 1rem; }
.scale .availability { color: var(--fg); font-weight: 600; text-align: center; }
.short { display: none; }
.legend ul { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; margin: 0; padding: 0; list-style: none; font-size: 1rem; }
.legend li::before { content: ""; display: inline-block; width: 0.9rem; height: 0.9rem; border-radius: 2px;
                     margin-right: 0.4rem; vertical-align: -0.1rem; background: var(--no_data); }
.legend li.good::before { background: var(--good); } .legend li.fair::before { background: var(--fair); }
.legend li.poor::before { background: var(--poor); } .legend li.bad::before { background: var(--bad); }
.legend li.maintenance::before { background: var(--maintenance); }
.events { margin: 0; padding: 0; list-style: none; }
.event { border-top: 1px solid var(--line); padding: 0.7rem 0; }
.event:first-child { border-top: 0; padding-top: 0; }
.event .what { margin: 0; font-weight: 600; }
.event .what .kind { font-weight: 400; }
.event.outage .kind { color: var(--bad); } .event.maintenance .kind { color: var(--maintenance); }
.event dl { display: flex; flex-wrap: wrap; gap: 0.1rem 1.4rem; margin: 0.2rem 0 0; font-size: 1rem; }
.event dt { color: var(--muted); } .event dd { margin: 0 0 0 0.3rem; }
.event dl div { display: flex; }
.how { color: var(--muted); font-size: 1rem; }
@media (max-width: 40rem) {
  main { padding: 0.8rem 0.7rem 1.5rem; }
  h1 { font-size: 1.4rem; }
  .bars li:nth-child(-n+{{ hidden_on_phone }}) { display: none; }
  .bars { gap: 2px; }
  .long { display: none; } .short { display: inline; }
  .scale { flex-wrap: wrap; } .scale .availability { order: 3; flex-basis: 100%; text-align: left; }
}
</style></head>
<body>
<main id="status-page" data-lang="{{ lang }}">
<header class="top">
  <div><p class="brand">{{ tr('sp_province') }}</p><h1>{{ tr('sp_title') }}</h1></div>
  <nav class="langs">{% for code, label in langs %}<a href="?lang={{ code }}" hreflang="{{ code }}" id="lang-{{ code }}"
     class="{{ 'active' if code == lang else '' }}">{{ label }}</a>{% endfor %}</nav>
</header>
<section class="banner {{ banner_state }}" id="status-summary" data-state="{{ banner_state }}">
  <p class="title">{{ tr(banner_key) }}</p>
  <p class="updated" id="status-updated">{{ tr('sp_updated').format(time=updated) }}</p>
</section>
{% for s in services %}
<section class="card service" id="service-{{ loop.index }}" data-state="{{ s.state }}">
  <div class="service-head"><h2>{{ s.name }}</h2><span class="state {{ s.state }}">{{ s.state_text }}</span></div>
  <ol class="bars" role="img" aria-label="{{ bars_label }}">
    {%- for b in s.bars %}<li class="bar {{ b.kind }}" data-day="{{ b.iso }}" title="{{ b.title }}"></li>{% endfor -%}
  </ol>
  <div class="scale"><span><span class="long">{{ days_ago }}</span><span class="short">{{ days_ago_short }}</span></span>
    <span class="availability">{{ s.availability }}</span><span>{{ tr('sp_today') }}</span></div>
</section>
{% endfor %}
<section class="card legend" id="status-legend"><h2>{{ tr('sp_legend') }}</h2><ul>
  {% for kind, text in legend %}<li class="{{ kind }}">{{ text }}</li>{% endfor %}
</ul></section>
<section class="card" id="status-incidents"><h2>{{ tr('sp_incidents').format(n=days) }}</h2>
{% if events %}<ul class="events">{% for e in events %}
  <li class="event {{ e.kind }}"><p class="what">{{ e.service }} · <span class="kind">{{ e.kind_text }}</span></p>
    <dl><div><dt>{{ tr('sp_from') }}:</dt><dd>{{ e.start }}</dd></div><div><dt>{{ tr('sp_to') }}:</dt><dd>{{ e.end }}</dd></div>
    <div><dt>{{ tr('sp_duration') }}:</dt><dd>{{ e.duration }}</dd></div></dl></li>
{% endfor %}</ul>{% else %}<p id="status-no-incidents">{{ tr('sp_no_incidents') }}</p>{% endif %}
</section>
<p class="how">{{ tr('sp_how') }}</p>
</main>
</body></html>
""")

PHONE_DAYS = 30  # days of bars a narrow screen shows (the availability stays over every day)
LEGEND = (sp.GOOD, sp.FAIR, sp.POOR, sp.BAD, sp.MAINTENANCE, sp.NO_DATA)


def render(page: sp.StatusPage, config: sp.StatusPageConfig, lang: str, refresh_s: int) -> str:
    """The page in ``lang``: pure, from the public objects only."""
    def tr(key: str) -> str:
        return t(key, lang).replace("{province}", config.province)

    banner_state, banner_key = summary(page)
    services = [{"name": s.service.name(lang), "state": s.state, "state_text": tr(f"sp_state_{s.state}"),
                 "bars": [{"kind": b.kind, "iso": b.day.isoformat(), "title": day_title(b, lang)} for b in s.bars],
                 "availability": (tr("sp_availability").format(value=percent(s.availability, lang), n=page.days)
                                  if s.availability is not None else tr("sp_availability_none").format(n=page.days))}
                for s in page.services]
    names = [s.name(lang) for s in config.services]
    events = [{"kind": e.kind, "service": names[e.service], "start": when(e.start, lang), "end": when(e.end, lang),
               "kind_text": tr("sp_event_planned" if e.planned(page.taken_at) else f"sp_event_{e.kind}"),
               "duration": duration(e.duration(page.taken_at), lang)}
              for e in page.incidents]
    bands = config.bands
    legend = [(k, tr(f"sp_kind_{k}").format(value=percent(bands.good if k == sp.GOOD else bands.poor, lang)))
              for k in LEGEND]
    return TEMPLATE.render(
        lang=lang, tr=tr, refresh_s=refresh_s, langs=[(code, t(f"lang_{code}", lang)) for code in LANGS],
        banner_state=banner_state, banner_key=banner_key, updated=when(page.taken_at, lang), services=services,
        bars_label=tr("sp_bars_label").format(n=page.days), days_ago=tr("sp_days_ago").format(n=page.days),
        days_ago_short=tr("sp_days_ago").format(n=min(PHONE_DAYS, page.days)),
        hidden_on_phone=max(0, page.days - PHONE_DAYS), legend=legend, events=events, days=page.days)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One read of the page, in every language: bytes and their ETag."""

    bodies: dict[str, bytes]
    etags: dict[str, str]
    taken_at: datetime


def rendered(page: sp.StatusPage, config: sp.StatusPageConfig, refresh_s: int) -> Rendered:
    bodies = {lang: render(page, config, lang, refresh_s).encode() for lang in LANGS}
    return Rendered(bodies, {lang: hashlib.sha256(b).hexdigest()[:32] for lang, b in bodies.items()}, page.taken_at)


# --- the route ---------------------------------------------------------------------------------


class StatusView:
    """``GET /status``: the cached page, 304 when the browser has it, 503 before any read succeeded."""

    def __init__(self, cache: PageCache[Rendered], metrics: DashMetrics, max_age_s: int) -> None:
        self.cache, self.metrics, self.max_age_s = cache, metrics, max_age_s

    def __call__(self) -> Response:
        lang = pick_lang(request.args.get("lang"))
        page, hit = self.cache.get()
        if page is None:
            resp = Response(t("sp_unavailable", lang), 503, content_type="text/plain; charset=utf-8")
            resp.headers.update({"Cache-Control": "no-store", "Retry-After": str(self.max_age_s)})
            self.metrics.status_requests.labels("unavailable").inc()
            return resp
        if hit:
            self.metrics.status_cache_hits.inc()
        resp = Response(page.bodies[lang], content_type="text/html; charset=utf-8")
        resp.set_etag(page.etags[lang])
        resp.last_modified = page.taken_at
        resp.headers["Cache-Control"] = f"public, max-age={self.max_age_s}"
        resp.headers["Content-Language"] = lang
        resp = resp.make_conditional(request)
        self.metrics.status_requests.labels("not_modified" if resp.status_code == 304 else "page").inc()
        return resp


def reader(settings: Settings, config: sp.StatusPageConfig, metrics: DashMetrics,
           status_rules: StatusRules | None = None) -> Callable[[], Rendered]:
    """The read behind the cache: the database, the page, rendered."""
    rules = status_rules or load_status_rules()
    policy = load_sla_policy(settings.sla_file)
    refresh_s = max(30, round(settings.status_page_cache_s))

    def read() -> Rendered:
        now = utcnow()
        try:
            readings = sp.read(settings.dsn, config, status_rules=rules, down_below=policy.down_below,
                               outage_rules=policy.outage_rules, tz=LOCAL_TZ, now=now)
        except IOCError:
            metrics.status_reads.labels("failed").inc()
            raise
        metrics.status_reads.labels("ok").inc()
        return rendered(sp.build(config, readings, now=now, tz=LOCAL_TZ), config, refresh_s)

    return read


def install(server: Flask, settings: Settings, province: Province, metrics: DashMetrics, *,
            read: Callable[[], Rendered] | None = None) -> StatusView:
    """Serve ``/status`` (the sign-in gate lets it through); the services' file is checked here, so a
    wrong system code stops the dashboard at start with its name."""
    config = replace(sp.load_config(settings.status_page_file, [s.code for s in province.systems]),
                     province=province.name)
    cache = PageCache(read or reader(settings, config, metrics), settings.status_page_cache_s)
    view = StatusView(cache, metrics, max(1, round(settings.status_page_cache_s)))
    server.add_url_rule(PATH, "ioc_status_page", view, methods=["GET"])
    server.extensions["ioc_status_page"] = view
    return view
