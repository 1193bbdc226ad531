"""The read API for upper levels: versioned JSON over HTTP, ``/api/v1/…``, described by OpenAPI.

So the national platform or the province's reporting system pulls figures instead of someone typing
them.  Every request but the description carries ``Authorization: Bearer <token>``, a read token made
with ``ioc users api-token create``; a token may make ``IOC_API_RATE_PER_MIN`` requests a minute (a
count kept in the database, so every dashboard process shares it), then 429 with ``Retry-After``.
Errors are JSON ``{"error": "…"}`` with 400, 401, 404, 429 or 503.

    GET /api/v1/openapi.json                 the description (no token)
    GET /api/v1/indicators[?prefix=health.]  every indicator's current values per entity
    GET /api/v1/sla?month=YYYY-MM            service levels per system for a calendar month
    GET /api/v1/reports/{day|week|month}/{period}   the figures of an operations report
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from agents.indicators.ops_report import OpsReport, parse_period
from agents.indicators.sla import MonthSla, load_sla_policy, month_report, parse_month
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import InputError, IOCError
from streams.core.geography import Province
from streams.core.settings import Settings

VERSION = "v1"
PREFIX = f"/api/{VERSION}"
INDICATOR_CACHE_S = 10.0  # the indicators are read at most this often, whoever asks

api = Blueprint("ioc_api", __name__, url_prefix=PREFIX)


def _settings() -> Settings:
    return current_app.config["IOC_SETTINGS"]


def _error(status: int, message: str, **headers: str) -> Response:
    resp = jsonify({"error": message})
    resp.status_code = status
    resp.headers.update(headers)
    return resp


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(401, "a read token is required: Authorization: Bearer <token> (ioc users api-token create)",
                          **{"WWW-Authenticate": 'Bearer realm="ioc"'})
        store = current_app.extensions["ioc_auth"].store
        try:
            used = store.api_use(token.strip(), _settings().api_rate_per_min)
        except IOCError as exc:
            return _error(503, f"cannot check the token: {exc}")
        if used is None:
            return _error(401, "unknown or revoked token", **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
        name, wait = used
        if wait:
            return _error(429, f"more than {_settings().api_rate_per_min} requests a minute; try again in "
                               f"{wait:.0f} s", **{"Retry-After": str(int(wait + 0.999))})
        try:
            return view(*args, **kwargs)
        except InputError as exc:
            return _error(400, str(exc))
        except IOCError as exc:
            return _error(503, str(exc))
    return guarded


# --- the figures -------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if value else None


def sla_json(r: MonthSla) -> dict[str, Any]:
    return {"system": r.system, "target": r.target, "availability": r.availability,
            "availability_no_data_as_down": r.worst if r.up + r.down else None, "minutes": r.minutes,
            "minutes_up": r.up, "minutes_down": r.down, "minutes_no_data": r.unknown,
            "minutes_maintenance": r.maintenance, "verdict": r.verdict,
            "outages": [{"start": _iso(o.start), "end": _iso(o.end), "minutes": o.minutes, "alert_id": o.alert_id}
                        for o in r.outages]}


def report_json(r: OpsReport) -> dict[str, Any]:
    d = r.dossiers
    return {
        "period": {"kind": r.period.kind, "label": r.period.label, "first_day": r.period.first.isoformat(),
                   "last_day": r.period.last.isoformat(), "timezone": LOCAL_TZ.key},
        "services": [sla_json(s) for s in r.services],
        "security": {"events": r.security_events,
                     "by_layer": [{"layer": int(x.key), "events": x.events, "blocked": x.blocked}
                                  for x in r.security_layers],
                     "by_kind": [{"kind": x.key, "events": x.events, "blocked": x.blocked} for x in r.security_types]},
        "dossiers": {**d.as_dict(), "plan": (r.plan.number or r.plan.name) if r.plan else None,
                     "targets": [{"key": c.target.key, "level": c.target.level, "measure": c.measure,
                                  "target": c.target.value, "value": c.value, "met": c.met}
                                 for c in r.targets if c.measure is not None]},
        "citizen_reports": {"received": r.citizens_received, "satisfaction": r.satisfaction,
                            "by_agency": [{"agency": a, "answered": s.responded, "answered_late": s.responded_late,
                                           "response_minutes_p50": s.p50_minutes, "rating_mean": s.rating_mean,
                                           "satisfied_share": s.satisfaction_share}
                                          for a, s in sorted(r.citizens.items())]},
        "sources": [{"source": s.source, "received": s.received, "accepted": s.accepted, "duplicates": s.duplicates,
                     "rejected": s.rejected, "correct": s.correct, "clean": s.clean,
                     "last_arrival": _iso(s.last_arrival)} for s in r.sources],
    }


class IndicatorCache:
    """Every indicator's values, read (SQL indicators and the derived ones, as the alert engine reads
    them) at most every ``INDICATOR_CACHE_S``, once whoever asks at the same time.  ``make_reader`` is
    called on the first request, not when the dashboard starts."""

    def __init__(self, make_reader: Callable[[], Callable[[datetime], dict[str, dict[str, float]]]],
                 ttl_s: float = INDICATOR_CACHE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.make_reader, self.ttl_s, self.clock = make_reader, ttl_s, clock
        self.read: Callable[[datetime], dict[str, dict[str, float]]] | None = None
        self._lock = threading.Lock()
        self._at = -float("inf")
        self._value: tuple[datetime, dict[str, dict[str, float]]] | None = None

    def get(self) -> tuple[datetime, dict[str, dict[str, float]]]:
        with self._lock:
            if self._value is None or self.clock() - self._at >= self.ttl_s:
                if self.read is None:
                    self.read = self.make_reader()
                now = utcnow()
                self._value, self._at = (now, self.read(now)), self.clock()
            return self._value


def indicator_reader(settings: Settings, province: Province) -> Callable[[datetime], dict[str, dict[str, float]]]:
    from agents.alerting.runner import derived_readers
    from agents.alerting.store import AlertStore
    from agents.indicators.registry import INDICATORS

    store = AlertStore(settings.dsn, names=province.names())
    readers = derived_readers(store, province)

    def read(now: datetime) -> dict[str, dict[str, float]]:
        values = store.read_values(set(INDICATORS))
        for fn in readers:
            values.update(fn(now))
        return {name: dict(sorted(v.items())) for name, v in sorted(values.items())}
    return read


@api.get("/indicators")
@token_required
def indicators():
    cache: IndicatorCache = current_app.extensions["ioc_api_indicators"]
    at, values = cache.get()
    prefix = request.args.get("prefix", "")
    return jsonify({"at": _iso(at), "indicators": {k: v for k, v in values.items() if k.startswith(prefix)}})


@api.get("/sla")
@token_required
def sla():
    settings = _settings()
    now = utcnow()
    text = request.args.get("month")
    month = parse_month(text) if text is not None else now.astimezone(LOCAL_TZ).date().replace(day=1)
    rows = month_report(settings.dsn, month, current_app.config["IOC_API_SYSTEMS"], load_sla_policy(settings.sla_file),
                        LOCAL_TZ, now)
    return jsonify({"month": f"{month:%Y-%m}", "timezone": LOCAL_TZ.key, "systems": [sla_json(r) for r in rows]})


@api.get("/reports/<kind>/<period>")
@token_required
def report(kind: str, period: str):
    from ioc_dash.reports.ops_report import build

    parse_period(kind, period)  # a bad kind or period: 400 before any reading
    return jsonify(report_json(build(_settings(), kind, period)))


@api.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


def _get(summary: str, ok: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    errors = {str(code): {"$ref": "#/components/responses/Error"} for code in (400, 401, 429, 503)}
    return {"get": {"summary": summary, "security": [{"bearer": []}], "parameters": params or [],
                    "responses": {"200": {"description": ok, "content": {"application/json": {
                        "schema": {"type": "object"}}}}, **errors}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "IOC read API", "version": "1.0.0",
             "description": "Figures of the Intelligent Operations Centre for upper levels: indicators, service "
                            "levels and the operations reports. Read tokens: `ioc users api-token create`."},
    "servers": [{"url": PREFIX}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "responses": {"Error": {"description": "an error, said in one sentence", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}}}}},
    },
    "paths": {
        "/indicators": _get("every indicator's current values per entity", "indicator -> entity -> value",
                            [{"name": "prefix", "in": "query", "required": False, "schema": {"type": "string"},
                              "description": "only the indicators whose name starts with it, e.g. health."}]),
        "/sla": _get("service levels per system for a calendar month (Asia/Ho_Chi_Minh)", "one row per system",
                     [{"name": "month", "in": "query", "required": False,
                       "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                       "description": "YYYY-MM; default: this month so far"}]),
        "/reports/{kind}/{period}": _get(
            "the figures of the operations report of a day, a week or a month", "the report's figures",
            [{"name": "kind", "in": "path", "required": True,
              "schema": {"type": "string", "enum": ["day", "week", "month"]}},
             {"name": "period", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "2026-11-30 (day), 2026-W48 or a day of the week (week), 2026-11 (month)"}]),
    },
}
OPENAPI["paths"]["/openapi.json"] = {"get": {"summary": "this description", "security": [],
                                             "responses": {"200": {"description": "OpenAPI 3.1"}}}}


def install(server: Any, settings: Settings, province: Province) -> None:
    """Serve ``/api/v1`` on the dashboard's server (the sign-in gate lets it through: the API checks its
    own tokens)."""
    server.extensions["ioc_api_indicators"] = IndicatorCache(lambda: indicator_reader(settings, province))
    server.config["IOC_API_SYSTEMS"] = [s.code for s in province.systems]
    server.register_blueprint(api)

    @server.after_request
    def no_store(resp: Response) -> Response:
        if request.path.startswith(PREFIX):
            resp.headers["Cache-Control"] = "no-store"
        return resp
