"""The figures of the security register's monthly report (``ioc register report``).

The report shows the register as it stood at the end of a month in the province's time zone
(Asia/Ho_Chi_Minh) — or now, for the month under way — and what happened during the month.  Plain
logic over what the store read (``RegisterStore``): the entries in force then, the versions in force
just before the month began, the versions made during it, the users' states and the retirements'
reasons; ``ioc_dash/reports/register_report.py`` renders it as PDF and XLSX.

- ``parse_month("2026-01")`` is the month, its bounds as local times;
- ``build_report(…)`` is everything the report shows: the headline figures (systems of the province
  file, classified and approved against the plan's target, systems per level, the four layers, the
  obligations the alerts watch), one row per system, the changes of the month and its inspections.

Headline figures count the systems of the province file (the plan's denominator); an entry for a
code the province file does not list still gets its row, marked, but is not counted.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from agents.indicators.plan import Plan, Target
from agents.indicators.register import (DUE, LAYERS, LEVELS, MISSING, OK, Entry, Policy, changed_fields, coverage,
                                        entry_from_row, gone_users, obligation_values)
from streams.core.clock import LOCAL_TZ
from streams.core.errors import InputError

TARGET_KEY = "systems_classified"
STATUSES = (OK, DUE, MISSING)
CREATED, CHANGED, RETIRED = "created", "changed", "retired"
#: the last instant before a time, as the database keeps times (microseconds)
TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @property
    def start(self) -> datetime:
        """The month's first instant, local time."""
        return datetime(self.year, self.month, 1, tzinfo=LOCAL_TZ)

    @property
    def end(self) -> datetime:
        """The next month's first instant, local time (the month is ``start <= t < end``)."""
        return datetime(self.year + self.month // 12, self.month % 12 + 1, 1, tzinfo=LOCAL_TZ)

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - TICK).date()

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(text: str) -> Month:
    """``YYYY-MM`` as a ``Month``; ``InputError`` saying what is expected otherwise."""
    try:
        day = datetime.strptime(str(text).strip(), "%Y-%m")
    except ValueError:
        raise InputError(f"month {text!r}: write it YYYY-MM, e.g. 2026-01") from None
    return Month(day.year, day.month)


def report_time(month: Month, now: datetime) -> datetime:
    """When the register is read for ``month``: the month's last instant, or ``now`` while the month
    is under way.  ``InputError`` for a month that has not begun."""
    if now < month.start:
        raise InputError(f"month {month.label} has not begun")
    return min(month.end - TICK, now)


def classified_target(plan: Plan) -> Target:
    """The plan's target "systems classified and approved"."""
    for t in plan.targets:
        if t.key == TARGET_KEY:
            return t
    raise InputError(f"plan {plan.number}: no target {TARGET_KEY!r}")


@dataclass(frozen=True, slots=True)
class SystemRow:
    """One system as the register stood: its entry (None when it has none), its four layers and the
    obligations the alerts watch."""

    system: str
    in_province: bool
    entry: Entry | None
    layers: Mapping[int, str]
    overdue_days: int
    live_uncleared: bool
    test_real_data: bool
    gone: tuple[str, ...]

    @property
    def approved(self) -> bool:
        return self.entry is not None and self.entry.approved

    @property
    def level(self) -> int | None:
        return self.entry.level if self.entry is not None else None


@dataclass(frozen=True, slots=True)
class Headline:
    systems: int                               # systems of the province file
    approved: int                              # of them, classified and approved
    target: Target                             # the plan's target (value, due date)
    by_level: Mapping[int | None, int]         # level 1–5 -> systems; None: not classified
    layers: Mapping[int, Mapping[str, int]]    # layer -> {ok, due, missing} -> systems
    inspections_overdue: int                   # systems past their next independent inspection
    live_uncleared: int                        # systems live in production without a clearance
    test_real_data: int                        # test systems holding real data
    onsite_gone: int                           # on-site people no longer active users (each counted once)

    @property
    def share(self) -> float | None:
        return self.approved / self.systems if self.systems else None

    @property
    def target_met(self) -> bool | None:
        return None if self.share is None else self.target.met_by(self.share)


@dataclass(frozen=True, slots=True)
class Change:
    """A change of the month: a new version (``created`` or ``changed``, with the fields it changed)
    or a retirement."""

    system: str
    at: datetime
    actor: str
    reason: str
    kind: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inspection:
    """An independent inspection (layer 3) dated inside the month, as the register records it."""

    system: str
    day: date
    org: str
    findings: int | None
    next_day: date | None


@dataclass(frozen=True, slots=True)
class RegisterReport:
    month: Month
    as_of: datetime     # the instant the register is shown as of
    headline: Headline
    systems: tuple[SystemRow, ...]
    changes: tuple[Change, ...]
    inspections: tuple[Inspection, ...]

    @property
    def today(self) -> date:
        """The local day obligations are judged on."""
        return self.as_of.astimezone(LOCAL_TZ).date()


def build_report(month: Month, *, as_of: datetime, entries: Iterable[Entry], systems: Sequence[str],
                 users: Mapping[str, bool], policy: Policy, target: Target,
                 before: Iterable[Mapping[str, Any]] = (), versions: Iterable[Mapping[str, Any]] = (),
                 retirements: Iterable[Mapping[str, Any]] = ()) -> RegisterReport:
    """The report of ``month``.

    ``entries``: the register in force at ``as_of``; ``systems``: the province file's codes, in order;
    ``users``: name -> active at ``as_of``; ``before``: the versions (rows) in force just before the
    month began; ``versions``: the rows ``RegisterStore.changes`` returns for the month;
    ``retirements``: the ``register_retired`` audit events of the month (``at``, ``subject``, ``reason``)."""
    today = as_of.astimezone(LOCAL_TZ).date()
    by_code = {e.system: e for e in entries}
    codes = list(dict.fromkeys(systems))
    obligations = obligation_values(by_code.values(), users, today)
    rows = []
    for code in [*codes, *sorted(set(by_code) - set(codes))]:
        e = by_code.get(code)
        rows.append(SystemRow(
            system=code, in_province=code in codes, entry=e, layers=coverage(e, users, today, policy),
            overdue_days=int(obligations["register.inspection_overdue_days"].get(code, 0)),
            live_uncleared=bool(obligations["register.live_uncleared"].get(code)),
            test_real_data=bool(obligations["register.test_real_data"].get(code)),
            gone=gone_users(e, users) if e is not None else ()))
    versions = list(versions)
    return RegisterReport(month, as_of, headline(rows, target), tuple(rows),
                          tuple(month_changes(month, before, versions, retirements)),
                          tuple(month_inspections(month, versions, by_code.values())))


def headline(rows: Sequence[SystemRow], target: Target) -> Headline:
    counted = [r for r in rows if r.in_province]
    by_level: dict[int | None, int] = {level: 0 for level in (*LEVELS, None)}
    layers = {layer: {s: 0 for s in STATUSES} for layer in LAYERS}
    for r in counted:
        by_level[r.level] += 1
        for layer, status in r.layers.items():
            layers[layer][status] += 1
    return Headline(
        systems=len(counted), approved=sum(r.approved for r in counted), target=target, by_level=by_level,
        layers=layers, inspections_overdue=sum(r.overdue_days > 0 for r in counted),
        live_uncleared=sum(r.live_uncleared for r in counted), test_real_data=sum(r.test_real_data for r in counted),
        onsite_gone=len({p for r in counted for p in r.gone}))


def month_changes(month: Month, before: Iterable[Mapping[str, Any]], versions: Iterable[Mapping[str, Any]],
                  retirements: Iterable[Mapping[str, Any]] = ()) -> list[Change]:
    """Every change made during ``month``, oldest first: each version begun in it (compared with the
    system's version before it, ``created`` when it had none in force) and each retirement."""
    chains: dict[str, dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for row in [*before, *versions]:
        chains[row["system"]][row["id"]] = row
    reasons = {(r["subject"], r["at"]): r.get("reason") or "" for r in retirements}
    out = []
    for system, by_id in chains.items():
        chain = sorted(by_id.values(), key=lambda r: (r["valid_from"], r["id"]))
        for i, row in enumerate(chain):
            if month.start <= row["valid_from"] < month.end:
                prev = chain[i - 1] if i and chain[i - 1]["retired_by"] is None \
                    and chain[i - 1]["valid_to"] == row["valid_from"] else None
                fields = changed_fields(entry_from_row(prev) if prev else None, entry_from_row(row))
                out.append(Change(system, row["valid_from"], row["changed_by"], row["change_reason"] or "",
                                  CHANGED if prev else CREATED, tuple(fields)))
            end = row["valid_to"]
            if row["retired_by"] is not None and end is not None and month.start <= end < month.end:
                out.append(Change(system, end, row["retired_by"], reasons.get((system, end), ""), RETIRED, ()))
    return sorted(out, key=lambda c: (c.at, c.system))


def month_inspections(month: Month, versions: Iterable[Mapping[str, Any]], entries: Iterable[Entry]) -> list[Inspection]:
    """The independent inspections dated inside ``month``: every (system, date) a version of the
    month or the register at its end records, with what the latest of them says about it."""
    found: dict[tuple[str, date], Inspection] = {}
    recorded = [entry_from_row(r) for r in sorted(versions, key=lambda r: (r["valid_from"], r["id"]))]
    for e in [*recorded, *entries]:
        day = e.last_inspection
        if day is not None and month.first_day <= day <= month.last_day:
            found[(e.system, day)] = Inspection(e.system, day, e.inspection_org, e.inspection_findings,
                                                e.next_inspection)
    return sorted(found.values(), key=lambda i: (i.day, i.system))
