"""Dossier KPIs per unit or per level over a period, as provinces report them, and the plan targets.

Inputs: ``dossier_day`` rows of the period (days ``start`` ≤ time < end, dicts of its columns)
and the ``dossier_state`` rows of dossiers in progress.  A period starts at a local midnight.

* to process = received in the period + carried over into its first day;
* in progress (now, from the state), split by ``agents.indicators.deadlines.due_status``: late, about to be
  late (time left ≤ min(1 day, 20 % of the time allowed)), not yet due;
* resolved early / on time / late, returned, withdrawn (in the period);
* late rate = (late in progress + late resolved) / to process;
* on-time rate = (early + on time) / resolved;
* online share = online / received; full-process share = full-process online / received;
* full-process online share = dossiers of full-process procedures received online / all received
  dossiers of full-process procedures (what the plan's "offered full-process" yields in use);
* VNeID share = dossiers whose applicant signed in with VNeID / dossiers whose sign-in is reported;
* digitisation rate = digitised / received; results digitisation rate = results digitised / resolved.

The in-progress split describes *now*: it belongs to periods that end now (today, this month).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from agents.indicators.deadlines import DueSoon, due_status
from agents.indicators.dossier import DOSSIER_DAY
from streams.core.clock import LOCAL_TZ
from streams.core.windows import local_day_start

SUMS = tuple(c for c in DOSSIER_DAY.sums if c != "carried_over")


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(slots=True)
class DossierKpi:
    received: int = 0
    carried_over: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    returned: int = 0
    withdrawn: int = 0
    digitised: int = 0
    results_digitised: int = 0
    online: int = 0
    full_process: int = 0
    full_process_received: int = 0
    auth_reported: int = 0
    auth_vneid: int = 0
    in_progress_late: int = 0
    in_progress_due_soon: int = 0
    in_progress_not_due: int = 0

    @property
    def to_process(self) -> int:
        return self.received + self.carried_over

    @property
    def resolved(self) -> int:
        return self.resolved_early + self.resolved_on_time + self.resolved_late

    @property
    def in_progress(self) -> int:
        return self.in_progress_late + self.in_progress_due_soon + self.in_progress_not_due

    @property
    def late_rate(self) -> float | None:
        return _ratio(self.in_progress_late + self.resolved_late, self.to_process)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.resolved_early + self.resolved_on_time, self.resolved)

    @property
    def online_share(self) -> float | None:
        return _ratio(self.online, self.received)

    @property
    def full_process_share(self) -> float | None:
        return _ratio(self.full_process, self.received)

    @property
    def full_process_online_share(self) -> float | None:
        return _ratio(self.full_process, self.full_process_received)

    @property
    def vneid_share(self) -> float | None:
        return _ratio(self.auth_vneid, self.auth_reported)

    @property
    def digitisation_rate(self) -> float | None:
        return _ratio(self.digitised, self.received)

    @property
    def results_digitisation_rate(self) -> float | None:
        return _ratio(self.results_digitised, self.resolved)

    def as_dict(self) -> dict[str, Any]:
        """Counts and ratios, for the wall and the API."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("to_process", "resolved", "in_progress", *RATIOS):
            out[name] = getattr(self, name)
        return out


RATIOS = ("late_rate", "on_time_rate", "online_share", "full_process_share", "full_process_online_share",
          "vneid_share", "digitisation_rate", "results_digitisation_rate")


def dossier_kpis(day_rows: Iterable[Mapping[str, Any]], open_rows: Iterable[Mapping[str, Any]], *,
                 start: datetime, now: datetime, by: str | None = "unit_code",
                 rule: DueSoon = DueSoon()) -> dict[str | None, DossierKpi]:
    """KPIs per ``by`` (``unit_code``, ``level``; None: the whole province) from ``start`` to now."""
    out: dict[str | None, DossierKpi] = {}

    def kpi(row: Mapping[str, Any]) -> DossierKpi:
        k = row[by] if by else None
        return out.setdefault(k, DossierKpi())

    rows = [r for r in day_rows if r["time"] >= start]
    # carried over into the period: the open dossiers at its first day with data (a database that
    # started mid-month has no row for the 1st, and its first day's snapshot stands for it)
    first_day: dict[str | None, datetime] = {}
    for row in rows:
        k = row[by] if by else None
        if k not in first_day or row["time"] < first_day[k]:
            first_day[k] = row["time"]
    for row in rows:
        acc = kpi(row)
        if row["time"] == first_day[row[by] if by else None]:
            acc.carried_over += row["carried_over"]
        for c in SUMS:
            setattr(acc, c, getattr(acc, c) + (row.get(c) or 0))  # a column added later: 0 in older rows
        acc.full_process_received += full_process_received(row)
    for row in open_rows:
        if row["status"] == "in_progress":
            acc = kpi(row)
            name = "in_progress_" + due_status(row["received_date"], row["due_date"], now, rule)
            setattr(acc, name, getattr(acc, name) + 1)
    return out


def full_process_received(row: Mapping[str, Any]) -> int:
    """Dossiers of full-process procedures a row counts as received: the wall's query sums them
    (``full_process_received``); a ``dossier_day`` row has them when its online kind is full-process."""
    if "full_process_received" in row:
        return row["full_process_received"] or 0
    return row["received"] if row.get("online_kind") == "full_process" else 0


def full_process_procedures(procedures: Iterable[Any]) -> float | None:
    """Share of the procedures (the province file's, with their ``online`` kind) offered full-process
    online; None without procedures.  The file does not say which are eligible: all of them count."""
    kinds = [p.online for p in procedures]
    return _ratio(sum(k == "full_process" for k in kinds), len(kinds))


def local_month_start(now: datetime) -> datetime:
    """The local midnight that starts ``now``'s month, in UTC (the period of monthly reports)."""
    return local_day_start(now.astimezone(LOCAL_TZ).replace(day=1))


def plan_values(by_level: Mapping[str | None, DossierKpi], whole: DossierKpi) -> dict[tuple[str, str | None], float | None]:
    """Live values keyed as ``agents.indicators.plan.check_targets`` wants them: (indicator, level or None)."""
    out: dict[tuple[str, str | None], float | None] = {}
    for level, k in [*by_level.items(), (None, whole)]:
        for name in RATIOS:
            out[(f"dossier.{name}", level)] = getattr(k, name)
    return out


#: a unit's late rate is an alert indicator only over at least this many dossiers to process: one
#: late dossier of three is 33 %, and says nothing about a desk
LATE_RATE_MIN_DOSSIERS = 20


def dossier_indicators(by_unit: Mapping[str | None, DossierKpi]) -> dict[str, dict[str, float]]:
    """Values of the ``dossier.*`` alert indicators per unit (KPIs of the current month)."""
    late = {u: k.late_rate for u, k in by_unit.items()
            if u is not None and k.late_rate is not None and k.to_process >= LATE_RATE_MIN_DOSSIERS}
    soon = {u: float(k.in_progress_due_soon) for u, k in by_unit.items() if u is not None}
    return {"dossier.late_rate": late, "dossier.about_to_be_late": soon}
