"""Public services: dossier KPIs of the month against the plan in effect, units with dossiers about
to be late, and citizen reports open and overdue per agency.

KPIs come from ``agents.indicators.dossier_kpi`` and ``agents.indicators.citizen_kpi`` over the snapshot's month rows;
the share of systems classified and approved from the security register (``agents.indicators.register``);
the share of procedures offered full-process from the province file's procedures; targets from the
plan in effect on the snapshot's local day (``agents.indicators.plan``, the files of ``IOC_PLAN_DIR``).
A target without a value says why (``why_*`` texts): no feed reports it, or none did this month.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dash import html

from agents.indicators.citizen_kpi import AgencyBacklog, AgencyService, agency_backlog, agency_service, satisfaction_share
from agents.indicators.dossier_kpi import (
    DossierKpi,
    dossier_kpis,
    full_process_procedures,
    local_month_start,
    plan_values,
)
from agents.indicators.health import document_values
from agents.indicators.plan import Plan, TargetCheck, check_targets
from agents.indicators.register import classified_share
from ioc_dash.figures import badge, data_table, num, pct, tile
from ioc_dash.i18n import STRINGS, t
from ioc_dash.repository import Snapshot
from streams.core.geography import Province

MEASURES = {"dossier.online_share": "online_share", "dossier.digitisation_rate": "digitisation_rate",
            "dossier.results_digitisation_rate": "results_digitisation_rate",
            "procedure.full_process_share": "full_process_procedures",
            "dossier.full_process_online_share": "full_process_online_share",
            "citizen.satisfaction_share": "satisfaction"}
MET_BADGE = {True: ("met_yes", "ok"), False: ("met_no", "down"), None: ("met_unknown", "unknown")}
#: why a measured target has no value (``why_<measure>``); ``why_no_feed`` when no feed measures it
WHY_NOT = "why_no_feed"


@dataclass(frozen=True)
class ServicesView:
    whole: DossierKpi
    by_unit: dict[str | None, DossierKpi]
    checks: list[TargetCheck]  # none without a plan in effect
    backlog: dict[str, AgencyBacklog] = field(default_factory=dict)
    service: dict[str, AgencyService] = field(default_factory=dict)

    @property
    def satisfaction(self) -> float | None:
        return satisfaction_share(self.service)


def services_view(snapshot: Snapshot, plan: Plan | None, systems: Sequence[str] = (),
                  procedures: Sequence[Any] = ()) -> ServicesView:
    """The month's KPIs and the checks of ``plan`` (none without a plan); ``systems`` (the province
    file's codes) are those the register's classified share counts (not measured without them, or
    when the register was not read); ``procedures`` (the province file's) give the share offered
    full-process."""
    now = snapshot.taken_at
    start = snapshot.month_start or local_month_start(now)

    def kpis(by: str | None) -> dict[str | None, DossierKpi]:
        return dossier_kpis(snapshot.dossier_days, snapshot.dossier_open, start=start, now=now, by=by)

    whole = kpis(None).get(None, DossierKpi())
    service = agency_service(snapshot.citizen_service)
    values = plan_values(kpis("level"), whole)
    values[("citizen.satisfaction_share", None)] = satisfaction_share(service)
    values[("procedure.full_process_share", None)] = full_process_procedures(procedures)
    values.update(document_values(snapshot.document_month))
    if snapshot.register is not None:
        values[("register.classified_share", None)] = classified_share(snapshot.register, systems)
    return ServicesView(whole, kpis("unit_code"), check_targets(plan, values) if plan else [],
                        agency_backlog(snapshot.citizen_open, now), service)


def kpi_tiles(view: ServicesView, lang: str) -> html.Div:
    k = view.whole
    late_kind = "down" if (k.late_rate or 0) > 0.05 else "ok" if k.late_rate is not None else "unknown"
    return html.Div([
        tile(num(k.received), t("received", lang), "info", id="svc-received"),
        tile(num(k.resolved), t("resolved", lang), "info", id="svc-resolved"),
        tile(pct(k.on_time_rate), t("on_time_rate", lang), "info", id="svc-on-time"),
        tile(pct(k.late_rate), t("late_rate", lang), late_kind, id="svc-late"),
        tile(num(k.in_progress_due_soon), t("due_soon", lang), "degraded" if k.in_progress_due_soon else "quiet",
             id="svc-due-soon"),
        tile(pct(k.online_share), t("online_share", lang), "info", id="svc-online"),
        tile(pct(k.digitisation_rate), t("digitisation_rate", lang), "info", id="svc-digitised"),
        tile(pct(view.satisfaction), t("satisfaction", lang), "info", id="svc-satisfaction"),
    ], className="tiles tiles-wrap")


def _plan_value(op: str, values: list[float]) -> str:
    return f"{'>' if op == '>' else '≥'} {' / '.join(pct(v, 0) for v in values)}"


def why_not(check: TargetCheck, lang: str) -> str | None:
    """Why a check has no value: no feed measures the target, or its measure had nothing to count
    (``why_<measure>``, else ``why_<source>``: every dossier measure but the sign-in says the same)."""
    if check.value is not None:
        return None
    if check.measure is None:
        return t(WHY_NOT, lang)
    key = "why_" + check.measure.replace(".", "_")
    return t(key if key in STRINGS else "why_" + check.measure.split(".")[0], lang)


SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class Notes:
    """The reasons of the values a plan table lacks, numbered as they first appear: a cell says
    "—¹" and the line under the table "¹ Chưa đo: …" (one line per reason, however many targets)."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def mark(self, reason: str) -> str:
        if reason not in self.reasons:
            self.reasons.append(reason)
        return str(self.reasons.index(reason) + 1).translate(SUPERSCRIPT)


def _verdict(checks: list[TargetCheck]) -> bool | None:
    """Met when every level with a value meets it, not met when one does not, None without values."""
    known = [c.met for c in checks if c.met is not None]
    return None if not known else all(known)


def _live(checks: list[TargetCheck], lang: str, notes: Notes) -> str:
    """The live values of one measure (one per level, ``/`` between), or "—" and the reason's mark."""
    if all(c.value is None for c in checks):
        reason = why_not(checks[0], lang)
        return "—" + (notes.mark(reason) if reason else "")
    return " / ".join(pct(c.value, 0 if len(checks) > 1 else 1) for c in checks)


def _measure_label(measure: str | None, lang: str) -> str:
    return t(MEASURES[measure], lang).lower() if measure in MEASURES else (measure or "")


def plan_rows(checks: list[TargetCheck], lang: str, notes: Notes | None = None) -> tuple[list[list[Any]], list[str]]:
    """Rows of the plan table and their classes.  A target measured once (or not at all) is one
    row, its levels' values side by side; a target with several measures is a heading row with the
    plan's values and one indented row per measure.  A value that is missing says why in ``notes``."""
    notes = notes if notes is not None else Notes()
    targets: dict[str, dict[str | None, list[TargetCheck]]] = {}
    for c in checks:
        targets.setdefault(c.target.key, {}).setdefault(c.measure, []).append(c)
    rows: list[list[Any]] = []
    classes: list[str] = []
    for by_measure in targets.values():
        first = next(iter(by_measure.values()))
        target = first[0].target
        text = target.vi if lang == "vi" else target.en
        levels = " / ".join(t("level_" + c.target.level, lang) for c in first if c.target.level)
        name = f"{text} ({levels})" if levels else text
        plan = _plan_value(target.op, [c.target.value for c in first])
        if len(by_measure) == 1:
            key, kind = MET_BADGE[_verdict(first)]
            rows.append([name, plan, _live(first, lang, notes), badge(t(key, lang), kind)])
            classes.append("plan-row")
            continue
        rows.append([name, plan, "", ""])
        classes.append("plan-group")
        for measure, group in by_measure.items():
            key, kind = MET_BADGE[_verdict(group)]
            rows.append([html.Span(_measure_label(measure, lang), className="indent"), "",
                         _live(group, lang, notes), badge(t(key, lang), kind)])
            classes.append("plan-sub")
    return rows, classes


def plan_title(plan: Plan | None, day: date, lang: str) -> str:
    """The plan panel's title: the plan in effect and its period, or that none is in effect on ``day``."""
    if plan is None:
        return t("svc_no_plan", lang).format(day=f"{day:%d/%m/%Y}")
    dates = {"start": f"{plan.valid_from:%d/%m/%Y}", "end": f"{plan.valid_to:%d/%m/%Y}"}
    if plan.number:
        return t("svc_plan_title", lang).format(number=plan.number, **dates)
    return t("svc_plan_title_short", lang).format(name=plan.short_vi if lang == "vi" else plan.short_en, **dates)


def plan_table(checks: list[TargetCheck], lang: str) -> html.Div:
    notes = Notes()
    rows, classes = plan_rows(checks, lang, notes)
    head = [t(k, lang) for k in ("target", "plan_value", "live_value", "met")]
    legend = [html.Div(f"{str(i).translate(SUPERSCRIPT)} {r}", className="plan-why")
              for i, r in enumerate(notes.reasons, start=1)]
    return html.Div([data_table(head, rows, id="plan-table", numeric=[1, 2], row_classes=classes),
                     html.Div(legend, id="plan-notes", className="plan-notes")])


def late_units_table(view: ServicesView, province: Province, lang: str, limit: int = 8) -> html.Table:
    """Units with dossiers about to be late or late, the most first."""
    label = province.names()
    units = [(u, k) for u, k in view.by_unit.items() if u and (k.in_progress_due_soon or k.in_progress_late)]
    units.sort(key=lambda uk: (-uk[1].in_progress_due_soon, -uk[1].in_progress_late, uk[0]))
    rows = [[label.get(u, u), num(k.in_progress), num(k.in_progress_due_soon), num(k.in_progress_late),
             pct(k.late_rate)] for u, k in units[:limit]]
    head = [t(k, lang) for k in ("unit", "in_progress", "due_soon", "late", "late_rate")]
    return data_table(head, rows, id="late-units-table", numeric=range(1, 5), empty=t("none", lang))


def agency_table(view: ServicesView, province: Province, lang: str, limit: int = 8) -> html.Table:
    """Open and overdue citizen reports per agency, the most overdue first."""
    label = province.names()
    label["-"] = t("no_agency", lang)
    agencies = sorted(view.backlog.items(), key=lambda ab: (-ab[1].overdue, -ab[1].open, ab[0]))
    rows = []
    for code, b in agencies[:limit]:
        s = view.service.get(code)
        rows.append([label.get(code, code), num(b.open), num(b.awaiting), num(b.overdue), num(b.due_soon),
                     pct(s.satisfaction_share if s else None, 0)])
    head = [t(k, lang) for k in ("agency", "open", "awaiting", "overdue", "due_soon", "satisfaction")]
    return data_table(head, rows, id="agency-table", numeric=range(1, 6), empty=t("none", lang))


def overdue_reports(backlog: Mapping[str, AgencyBacklog]) -> int:
    return sum(b.overdue for b in backlog.values())
