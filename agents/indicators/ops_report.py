"""The operations report of a day, a week or a month: what the province's leadership reads.

Periods are whole local days (Asia/Ho_Chi_Minh): a day, an ISO week (Monday to Sunday), a calendar
month.  ``read_report`` gathers the figures of one period from the database — service levels per
system (``agents.indicators.sla``), security events by Directive 14 layer and by kind, dossier KPIs
against the plan's targets, citizen reports by agency, and each source's quality — into an
``OpsReport``; rendering it (PDF, XLSX) is the dashboard's business (``ioc_dash/reports``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from agents.indicators.citizen_kpi import AgencyService, agency_service, satisfaction_share
from agents.indicators.dossier_kpi import DossierKpi, dossier_kpis, plan_values
from agents.indicators.plan import Plan, TargetCheck, check_targets
from agents.indicators.sla import MonthSla, SlaPolicy, next_month, span_report
from streams.core.errors import InputError

KINDS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Period:
    kind: str
    first: date
    last: date  # included

    @property
    def label(self) -> str:
        """``2026-11-30``, ``2026-W48``, ``2026-11``: in file names and the archive."""
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first:%Y-%m}"

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return (datetime.combine(self.first, time(), tz).astimezone(timezone.utc),
                datetime.combine(self.last + timedelta(days=1), time(), tz).astimezone(timezone.utc))


def period_of(kind: str, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    if kind == "day":
        return Period(kind, day, day)
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period(kind, monday, monday + timedelta(days=6))
    if kind == "month":
        first = day.replace(day=1)
        return Period(kind, first, next_month(first) - timedelta(days=1))
    raise InputError(f"report kind {kind!r}: one of {', '.join(KINDS)}")


def last_complete(kind: str, today: date) -> Period:
    """The latest period of ``kind`` that ended before ``today``."""
    current = period_of(kind, today)
    return period_of(kind, current.first - timedelta(days=1))


_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_period(kind: str, text: str) -> Period:
    """``day`` 2026-11-30; ``week`` 2026-W48 or any day of it; ``month`` 2026-11."""
    text = (text or "").strip()
    try:
        if kind == "week" and (m := _WEEK.match(text)):
            return period_of("week", date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
        if kind == "month" and re.fullmatch(r"\d{4}-\d{2}", text):
            return period_of("month", date.fromisoformat(text + "-01"))
        if kind in ("day", "week"):
            return period_of(kind, date.fromisoformat(text))
    except ValueError:
        pass
    if kind not in KINDS:
        raise InputError(f"report kind {kind!r}: one of {', '.join(KINDS)}")
    shape = {"day": "YYYY-MM-DD", "week": "YYYY-Www or a day of the week", "month": "YYYY-MM"}[kind]
    raise InputError(f"{kind} {text!r} is not a {kind} ({shape})")


@dataclass(frozen=True, slots=True)
class SecurityRow:
    key: str  # a layer (1–4, 0 = not said) or an event type
    events: int
    blocked: int


@dataclass(frozen=True, slots=True)
class SourceRow:
    source: str
    received: int
    accepted: int
    duplicates: int
    rejected: int
    last_arrival: datetime | None

    @property
    def correct(self) -> float | None:
        """Đúng: the share of what arrived that passed the contract."""
        return (self.received - self.rejected) / self.received if self.received else None

    @property
    def clean(self) -> float | None:
        """Sạch: the share of accepted events that were not duplicates."""
        seen = self.accepted + self.duplicates
        return self.accepted / seen if seen else None


@dataclass(frozen=True, slots=True)
class OpsReport:
    period: Period
    generated: datetime
    services: tuple[MonthSla, ...]
    security_layers: tuple[SecurityRow, ...]
    security_types: tuple[SecurityRow, ...]
    dossiers: DossierKpi
    targets: tuple[TargetCheck, ...]
    plan: Plan | None  # the plan in effect on the period's last day; None when no plan file covers it
    citizens_received: int
    citizens: Mapping[str, AgencyService]
    sources: tuple[SourceRow, ...]

    @property
    def satisfaction(self) -> float | None:
        return satisfaction_share(self.citizens)

    @property
    def security_events(self) -> int:
        return sum(r.events for r in self.security_layers)


def read_report(dsn: str, period: Period, *, systems: Sequence[str], policy: SlaPolicy, plan: Plan | None,
                tz: ZoneInfo, now: datetime) -> OpsReport:
    """The figures of ``period`` from the database (its service levels up to ``now`` if it is not over)."""
    from agents.indicators.queries import ops_report as q
    from streams.db.connect import connect

    since, until = period.bounds(tz)
    services = span_report(dsn, since, until, systems, policy, now,
                           month=period.first if period.kind == "month" else None)
    params = {"since": since, "until": until, "tz": tz.key}
    with connect(dsn, what="cannot read the report's figures", role="report", dict_rows=True) as conn:
        layers = conn.execute(q.SECURITY_BY_LAYER, params).fetchall()
        types = conn.execute(q.SECURITY_BY_TYPE, params).fetchall()
        days = conn.execute(q.DOSSIER_DAYS, params).fetchall()
        agencies = conn.execute(q.CITIZEN_AGENCY_DAYS, params).fetchall()
        received = conn.execute(q.CITIZEN_RECEIVED, params).fetchone()
        sources = conn.execute(q.SOURCES, params).fetchall()
    whole = dossier_kpis(days, [], start=since, now=min(now, until), by=None).get(None, DossierKpi())
    by_level = dossier_kpis(days, [], start=since, now=min(now, until), by="level")
    return OpsReport(
        period=period, generated=now, services=tuple(services),
        security_layers=tuple(SecurityRow(str(r["layer"]), r["events"], r["blocked"]) for r in layers),
        security_types=tuple(SecurityRow(r["type"], r["events"], r["blocked"]) for r in types),
        dossiers=whole, targets=tuple(check_targets(plan, plan_values(by_level, whole))) if plan else (), plan=plan,
        citizens_received=int(next(iter(received.values()))), citizens=agency_service(agencies),
        sources=tuple(SourceRow(r["source"], r["received"], r["accepted"], r["duplicates"], r["rejected"],
                                r["last_arrival"]) for r in sources),
    )
