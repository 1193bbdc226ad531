"""Pure pieces of the incident and handover pages: tables and cards built from rows.

No Flask, no database: tests call these with plain dicts.  Dash escapes every text it renders, so
titles, notes and summaries are shown as text, never as HTML.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dash import html

from agents.alerting.incidents import CLOSED, Entry, sort_incidents
from ioc_dash.console.views import SEVERITY_BADGE, STATE_BADGE, badge
from ioc_dash.figures import local_time
from ioc_dash.i18n import t
from ioc_dash.reports.incident_report import actor_words, describe, kind_label, related_words

INCIDENT_PATH, INCIDENTS_PATH, HANDOVER_PATH = "/console/incident", "/console/incidents", "/console/handover"
REPORT_ROUTE = "console/incident/report"
INCIDENT_BADGE = {"open": "down", "resolved": "ok", "closed": "unknown"}
REPORT_FORMATS = ("json", "html", "pdf")


def age_text(since: datetime, now: datetime, lang: str) -> str:
    """"45 phút", "3 giờ 12 phút", "2 ngày 4 giờ"."""
    m = max(0, int((now - since).total_seconds()) // 60)
    if m < 60:
        return t("inc_age_m", lang).format(m=m)
    if m < 24 * 60:
        return t("inc_age_hm", lang).format(h=m // 60, m=m % 60)
    return t("inc_age_dh", lang).format(d=m // (24 * 60), h=m % (24 * 60) // 60)


def severity_badge(severity: str, lang: str) -> html.Span:
    return badge(t(f"severity_{severity}", lang), SEVERITY_BADGE.get(severity, "unknown"))


def state_badge(state: str, lang: str) -> html.Span:
    return badge(t(f"inc_state_{state}", lang), INCIDENT_BADGE.get(state, "unknown"))


def link(incident_id: int, text: str | None = None, **kw) -> html.A:
    return html.A(text or f"#{incident_id}", href=f"{INCIDENT_PATH}?id={incident_id}", **kw)


def incidents_table(rows: Sequence[Mapping[str, Any]], now: datetime, lang: str) -> Any:
    """Open first, then resolved, then closed; the most severe first; with alerts, owner and age."""
    if not rows:
        return html.P(t("con_inc_none", lang), id="incidents-empty")
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in (
        "con_col_id", "con_f_state", "con_f_severity", "con_inc_title", "con_inc_alerts", "con_inc_owner",
        "con_inc_age", "con_inc_opened")]))
    body = [html.Tr([
        html.Td(link(r["id"], id=f"incident-link-{r['id']}")),
        html.Td(state_badge(r["state"], lang)),
        html.Td(severity_badge(r["severity"], lang)),
        html.Td([html.Span(t("drill_tag", lang).format(drill=r["drill"]), className="drill-tag") if r.get("drill")
                 else "", r["title"]]),
        html.Td(t("con_inc_alert_count", lang).format(open=r.get("open_alerts", 0), n=r.get("alerts", 0)),
                className="num"),
        html.Td(r.get("owner") or "—"),
        html.Td(age_text(r["opened_at"], r.get("closed_at") or now, lang), className="num"),
        html.Td(local_time(r["opened_at"]), className="num"),
    ], id=f"incident-row-{r['id']}", className=f"incident-row incident-{r['state']}") for r in sort_incidents(rows)]
    return html.Div([html.P(t("con_inc_count", lang).format(n=len(rows)), className="console-count"),
                     html.Table([head, html.Tbody(body)], className="status-table", id="incidents-table")])


def report_links(incident_id: int, lang: str) -> html.Div:
    return html.Div([html.Span(t("con_inc_report", lang), className="console-filter-label")] + [
        html.A(t(f"con_inc_report_{fmt}", lang), href=f"/{REPORT_ROUTE}?id={incident_id}&format={fmt}",
               id=f"incident-report-{fmt}", className="console-export",
               **({} if fmt == "html" else {"download": f"incident-{incident_id}.{fmt}"}))
        for fmt in REPORT_FORMATS], className="incident-report-links")


def incident_card(incident: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], now: datetime,
                  lang: str) -> html.Div:
    i = incident
    open_alerts = sum(1 for a in alerts if a["state"] in ("pending", "firing"))
    fields = [
        ("con_f_state", state_badge(i["state"], lang)),
        ("con_f_severity", severity_badge(i["severity"], lang)),
        ("con_inc_owner", f"{i['owner']} · {local_time(i['owned_at'])}" if i.get("owner") else t("increp_nobody", lang)),
        ("con_inc_opened", f"{local_time(i['opened_at'])} ({age_text(i['opened_at'], i.get('closed_at') or now, lang)})"),
        ("con_inc_resolved", local_time(i["resolved_at"]) if i.get("resolved_at") else "—"),
        ("con_inc_alerts", t("con_inc_alert_count", lang).format(open=open_alerts, n=len(alerts))),
    ]
    if i["state"] == CLOSED:
        fields += [("con_inc_closed", f"{i['closed_by']} · {local_time(i['closed_at'])}"),
                   ("con_inc_closing_note", html.Span(i["closing_note"], className="pre"))]
    if i.get("drill"):
        fields.insert(0, ("con_drill_col", html.A(t("drill_tag", lang).format(drill=i["drill"]),
                                                  href=f"/console/drills/run?id={i['drill_run']}",
                                                  className="drill-tag") if i.get("drill_run") else i["drill"]))
    return html.Div([
        html.H2([f"#{i['id']} ", html.Span(i["title"], id="incident-title-text")]),
        html.Dl([x for key, value in fields for x in (html.Dt(t(key, lang)), html.Dd(value, id=f"incident-{key}"))],
                className="alert-fields"),
        report_links(i["id"], lang),
    ], className="panel", id="incident-card")


def members_table(alerts: Sequence[Mapping[str, Any]], lang: str) -> Any:
    """The incident's alerts, each linked to its page, with why it joined."""
    if not alerts:
        return html.P(t("con_inc_no_alerts", lang), id="incident-alerts-empty")
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in (
        "con_col_id", "con_f_state", "con_f_severity", "con_f_entity", "con_col_summary", "con_col_fired",
        "con_inc_why")]))
    body = [html.Tr([
        html.Td(html.A(f"#{a['id']}", href=f"/console/alert?id={a['id']}", id=f"incident-alert-{a['id']}")),
        html.Td(badge(t(f"state_{a['state']}", lang), STATE_BADGE.get(a["state"], "unknown"))),
        html.Td(severity_badge(a["severity"], lang)),
        html.Td(a["entity"]),
        html.Td(a.get(f"summary_{lang}") or a.get("summary_vi") or a["rule"]),
        html.Td(local_time(a.get("fired_at")), className="num"),
        html.Td(related_words(a["reason"], a.get("related") or "", lang) if a.get("reason") else "—"),
    ], className=f"alert-row alert-{a['state']}") for a in alerts]
    return html.Table([head, html.Tbody(body)], className="status-table", id="incident-alerts-table")


def timeline_table(entries: Sequence[Entry], lang: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("con_col_at", "increp_source", "con_col_kind",
                                                            "con_col_actor", "con_col_detail")]))
    body = [html.Tr([
        html.Td(local_time(e.at), className="when"),
        html.Td(t("increp_source_incident", lang) if e.source == "incident" else
                html.A(f"{t('increp_alert', lang)} #{e.alert_id}", href=f"/console/alert?id={e.alert_id}")),
        html.Td(kind_label(e, lang)),
        html.Td(actor_words(e.actor, lang)),
        html.Td(describe(e, lang), className="pre"),
    ], className=f"timeline-{e.source} event-{e.kind}") for e in entries]
    return html.Table([head, html.Tbody(body)], className="status-table", id="incident-timeline-table")


# --- the shift handover ---------------------------------------------------------------------------


def draft_notes(snapshot: Mapping[str, Sequence[Mapping[str, Any]]], lang: str) -> str:
    """A first draft of a handover's notes from what is open now; the operator edits it."""
    lines = [t("con_hov_draft_incidents", lang).format(n=len(snapshot["incidents"]))]
    lines += [t("con_hov_draft_incident", lang).format(
        id=i["id"], severity=t(f"severity_{i['severity']}", lang), title=i["title"],
        owner=i.get("owner") or t("increp_nobody", lang), open=i.get("open_alerts", 0), n=i.get("alerts", 0))
        for i in snapshot["incidents"]]
    lines.append(t("con_hov_draft_alerts", lang).format(n=len(snapshot["alerts"])))
    lines += [t("con_hov_draft_alert", lang).format(
        id=a["id"], severity=t(f"severity_{a['severity']}", lang),
        summary=a.get(f"summary_{lang}") or a.get("summary_vi") or f"{a['rule']} · {a['entity']}",
        ack=a.get("acknowledged_by") or t("alert_unacknowledged", lang)) for a in snapshot["alerts"]]
    lines.append(t("con_hov_draft_todo", lang))
    return "\n".join(lines)


def snapshot_view(snapshot: Mapping[str, Sequence[Mapping[str, Any]]], lang: str, view_id: str) -> html.Div:
    """What was open when a handover was written: its incidents and its alerts, linked."""
    incidents = [html.Li([link(i["id"]), " ", severity_badge(i["severity"], lang), " ", i["title"],
                          html.Small(" · " + t("con_inc_owner", lang) + ": " + (i.get("owner") or "—"))])
                 for i in snapshot.get("incidents", ())]
    alerts = [html.Li([html.A(f"#{a['id']}", href=f"/console/alert?id={a['id']}"), " ",
                       severity_badge(a["severity"], lang), " ",
                       a.get(f"summary_{lang}") or a.get("summary_vi") or f"{a['rule']} · {a['entity']}"])
              for a in snapshot.get("alerts", ())]
    return html.Div([
        html.H3(t("con_hov_snap_incidents", lang).format(n=len(incidents))),
        html.Ul(incidents) if incidents else html.P("—"),
        html.H3(t("con_hov_snap_alerts", lang).format(n=len(alerts))),
        html.Ul(alerts) if alerts else html.P("—"),
    ], className="handover-snapshot", id=view_id)


def handover_list(rows: Sequence[Mapping[str, Any]], me: str | None, may_act: bool, lang: str) -> Any:
    """Newest first; an unacknowledged one is marked, and has a button for an operator other than its writer."""
    if not rows:
        return html.P(t("con_hov_none", lang), id="handover-empty")
    items = []
    for h in rows:
        snap = h.get("snapshot") or {}
        if h.get("acknowledged_by"):
            status = html.Span(t("con_hov_acked", lang).format(who=h["acknowledged_by"],
                                                               at=local_time(h["acknowledged_at"])),
                               className="handover-acked")
        else:
            status = badge(t("con_hov_unacked", lang), "degraded")
        button = None
        if not h.get("acknowledged_by") and may_act and me and me != h["written_by"]:
            button = html.Button(t("con_hov_btn_ack", lang), id={"type": "handover-ack", "index": h["id"]},
                                 className="console-btn btn-acknowledge")
        items.append(html.Div([
            html.Div([html.Strong(f"#{h['id']} "),
                      t("con_hov_line", lang).format(by=h["written_by"], to=h["handed_to"],
                                                     at=local_time(h["written_at"])),
                      " ", status, " ", button or ""], className="handover-head"),
            html.P(h["notes"], className="pre handover-notes"),
            html.Details([html.Summary(t("con_hov_snap_summary", lang).format(
                incidents=len(snap.get("incidents", ())), alerts=len(snap.get("alerts", ())))),
                snapshot_view(snap, lang, f"handover-snapshot-{h['id']}")]),
        ], id=f"handover-{h['id']}",
            className="handover-item " + ("handover-unacked" if not h.get("acknowledged_by") else "")))
    return html.Div(items, id="handover-items")


def user_options(users: Sequence[Mapping[str, Any]], me: str | None) -> list[dict[str, str]]:
    """Whom a handover may go to: active operators and admins other than its writer."""
    return [{"label": u["name"], "value": u["name"]} for u in users
            if not u.get("disabled") and u.get("role") in ("operator", "admin") and u["name"] != me]


def incident_link(incident: Mapping[str, Any] | None, lang: str) -> Any:
    """For the alert's page: the incident it is in."""
    if not incident:
        return html.P(t("con_inc_alert_in_none", lang), id="alert-incident", className="panel")
    return html.P([t("con_inc_alert_in", lang), " ",
                   link(incident["id"], f"#{incident['id']} {incident['title']}", id="alert-incident-link"), " ",
                   state_badge(incident["state"], lang)], id="alert-incident", className="panel")
