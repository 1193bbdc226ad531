"""/console/sla?month=YYYY-MM: each information system's service level over a calendar month
(``agents.indicators.sla``): its target, availability over the minutes with data, the same with every
unknown minute counted down, minutes down, allowed, without data and under maintenance, the verdict,
and the outages with the alert that saw each.  Every role that may view the console sees it."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from dash import Input, Output, State, dcc, hooks, html

from agents.indicators.sla import (MEETS, MISSES, NO_DATA, MonthSla, SlaPolicy, load_sla_policy, month_report,
                                   next_month, parse_month, previous_month)
from ioc_dash.auth import current_principal, require
from ioc_dash.console.common import LANG_STORE, settings
from ioc_dash.console.views import page
from ioc_dash.figures import local_time, pct
from ioc_dash.i18n import t
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import InputError, IOCError
from streams.core.geography import Province, load_province

PATH = "/console/sla"
BODY = "sla-body"
VERDICT_CLASS = {MEETS: "sla-meets", MISSES: "sla-misses", NO_DATA: "sla-none"}  # else undetermined


@lru_cache(maxsize=4)
def _province(path: Path) -> Province:
    return load_province(path)


@lru_cache(maxsize=4)
def _policy(path: Path) -> SlaPolicy:
    return load_sla_policy(path)


def month_of(search: str | None, today: date) -> date:
    values = parse_qs((search or "").lstrip("?")).get("month")
    return parse_month(values[-1]) if values else today.replace(day=1)


def layout(lang: str) -> html.Div:
    return page(current_principal(), lang, PATH, lambda: [dcc.Location(id="sla-loc", refresh=False),
                                                          html.Div(id=BODY)], "console-sla")


def minutes_text(n: float, lang: str) -> str:
    hours, minutes = divmod(round(n), 60)
    return t("con_sla_hm", lang).format(h=hours, m=f"{minutes:02d}") if hours else \
        t("con_sla_m", lang).format(m=minutes)


def _month_link(month: date, key: str, lang: str) -> html.A:
    return html.A(t(key, lang).format(month=f"{month.month:02d}/{month.year}"), href=f"{PATH}?month={month:%Y-%m}",
                  className="nav-link")


def view(rows: list[MonthSla], month: date, province: Province, lang: str) -> html.Div:
    names = province.names()
    head = ("con_sla_system", "con_sla_target", "con_sla_availability", "con_sla_worst", "con_sla_down",
            "con_sla_allowed", "con_sla_unknown", "con_sla_maintenance", "con_sla_outages", "con_sla_verdict")
    body = [html.Tr([
        html.Td(names.get(r.system, r.system), title=r.system),
        html.Td(pct(r.target, 2), className="num"),
        html.Td(pct(r.availability, 3), className="num"),
        html.Td(pct(r.worst if r.up + r.down else None, 3), className="num"),
        html.Td(minutes_text(r.down, lang), className="num"),
        html.Td(minutes_text(r.allowed_down_minutes, lang), className="num"),
        html.Td(minutes_text(r.unknown, lang), className="num"),
        html.Td(minutes_text(r.maintenance, lang), className="num"),
        html.Td(str(len(r.outages)), className="num"),
        html.Td(t(f"con_sla_{r.verdict}", lang), className=VERDICT_CLASS.get(r.verdict, "sla-undetermined")),
    ], id=f"sla-{r.system}") for r in rows]
    outages = [html.Tr([
        html.Td(names.get(r.system, r.system)), html.Td(local_time(o.start, "%H:%M %d/%m/%Y")),
        html.Td(local_time(o.end, "%H:%M %d/%m/%Y")), html.Td(minutes_text(o.minutes, lang), className="num"),
        html.Td(html.A(f"#{o.alert_id}", href=f"/console/alert?id={o.alert_id}") if o.alert_id else "—"),
    ]) for r in rows for o in r.outages]
    outage_head = ("con_sla_system", "con_sla_from", "con_sla_to", "con_sla_duration", "con_sla_alert")
    return html.Div([
        html.H1(t("con_sla_title", lang).format(month=f"{month.month:02d}/{month.year}")),
        html.Div([_month_link(previous_month(month), "con_sla_prev", lang),
                  _month_link(next_month(month), "con_sla_next", lang)], className="sla-months"),
        html.P(t("con_sla_help", lang)),
        html.Div(html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in head])), html.Tbody(body)],
                            className="status-table", id="sla-table"), className="panel"),
        html.Div([html.H2(t("con_sla_outage_list", lang)),
                  html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in outage_head])),
                              html.Tbody(outages)], className="status-table", id="sla-outages")
                  if outages else html.P(t("con_sla_no_outage", lang), id="sla-outages")], className="panel"),
    ])


@hooks.callback(Output(BODY, "children"), Input("sla-loc", "search"), State(LANG_STORE, "data"))
def show(search, lang):
    require("view")
    now = utcnow()
    try:
        month = month_of(search, now.astimezone(LOCAL_TZ).date())
        s = settings()
        province = _province(s.province_file)
        rows = month_report(s.dsn, month, [x.code for x in province.systems], _policy(s.sla_file), LOCAL_TZ, now)
    except InputError as exc:
        return html.P(str(exc), className="console-error", id="sla-error")
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error", id="sla-error")
    return view(rows, month, province, lang)
