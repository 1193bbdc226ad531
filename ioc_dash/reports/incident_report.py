"""An incident's report for the national incident-response network: structured JSON, printable HTML, PDF.

Circular 20/2017/TT-BTTTT (coordination of cyber-incident response nationwide) has the operator of
an information system notify an incident to the system's owner, the national coordinating body
(VNCERT/CC) and the incident-response units concerned; ``build`` gathers what such a report says —
who reports and how to reach them, when the incident was detected, the systems affected, a
description, the severity, the measures taken — with the incident's alerts and its whole timeline.
``render_html`` lays the same dict out as a printable page (Vietnamese by default), ``render_pdf``
through WeasyPrint.  Pure, apart from WeasyPrint: the console's route reads the database.

The reporting organisation comes from the settings (``IOC_REPORT_ORG``, ``IOC_REPORT_ORG_ADDRESS``,
``IOC_REPORT_CONTACT``, ``IOC_REPORT_PHONE``, ``IOC_REPORT_EMAIL``), else from the province file's
``operator:`` block (name, address, contact, phone, email), else the IOC centre of the province.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.alerting.incidents import Entry
from ioc_dash.i18n import rule_title, t
from streams.core.clock import LOCAL_TZ

SCHEMA = "ioc-incident-report/1"
BASIS = "20/2017/TT-BTTTT"
CSS_FILE = Path(__file__).with_name("incident_report.css")
#: events that are something someone did about the incident: its "measures taken"
MEASURES = frozenset({("incident", "owner_taken"), ("incident", "note"), ("incident", "closed"),
                      ("alert", "acknowledged"), ("alert", "assigned"), ("alert", "commented"),
                      ("alert", "silenced"), ("alert", "resolved_by_operator")})
ALERT_KINDS = frozenset({"pending", "fired", "suppressed", "flapping", "silenced", "maintenance", "resolved",
                         "cancelled", "escalated", "acknowledged", "assigned", "commented", "resolved_by_operator"})


@dataclass(frozen=True, slots=True)
class Reporter:
    organisation: str
    address: str = ""
    contact: str = ""
    phone: str = ""
    email: str = ""


def reporter(settings: Any, province: Any) -> Reporter:
    """The reporting organisation: settings first, then the province file's ``operator:`` block."""
    block = province.extra.get("operator") if isinstance(province.extra.get("operator"), Mapping) else {}

    def pick(setting: str, key: str) -> str:
        return str(getattr(settings, setting) or block.get(key) or "").strip()

    return Reporter(pick("report_org", "name") or t("increp_default_org", "vi").format(province=province.name),
                    pick("report_org_address", "address"), pick("report_contact", "contact"),
                    pick("report_phone", "phone"), pick("report_email", "email"))


def iso(ts: datetime | None) -> str | None:
    """Vietnam local time, ISO 8601 with its offset (what the receiving team reads)."""
    return ts.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if ts else None


def shown(ts: datetime | None, lang: str) -> str:
    if ts is None:
        return t("increp_none", lang)
    return ts.astimezone(LOCAL_TZ).strftime("%H:%M:%S %d/%m/%Y" if lang == "vi" else "%Y-%m-%d %H:%M:%S")


# --- the words of an event ------------------------------------------------------------------------


def kind_words(source: str, kind: str, lang: str) -> str:
    """The name of an event: of the incident (``source`` "incident") or of one of its alerts."""
    if source == "incident":
        return t(f"inc_kind_{kind}", lang)
    if kind in ALERT_KINDS:
        return t(f"inc_akind_{kind}", lang)
    return t("inc_akind_other", lang).format(kind=kind)


def kind_label(entry: Entry, lang: str) -> str:
    return kind_words(entry.source, entry.kind, lang)


def related_words(reason: str, related: str, lang: str) -> str:
    """Why an alert joined its incident: the entity, or the rule by its title, that relates them."""
    return t(f"inc_reason_{reason}", lang).format(related=rule_title(related, lang) if reason == "rule" else related)


def actor_words(actor: str, lang: str) -> str:
    """Who did it: a user's name, or the monitoring system itself."""
    return t("inc_actor_system", lang) if actor == "system" else actor


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def describe(entry: Entry, lang: str) -> str:
    """What the event says, in words: the alert and why it joined, the note, the comment …"""
    d = entry.detail
    parts: list[str] = []
    if entry.source == "incident":
        if entry.kind in ("opened", "alert_joined"):
            parts.append(t("inc_d_alert", lang).format(alert=d.get("alert"), entity=d.get("entity")))
            if entry.kind == "alert_joined" and d.get("reason") in ("entity", "topology", "rule"):
                parts.append(related_words(d["reason"], d.get("related", ""), lang))
            if d.get("severity_from"):
                parts.append(t("inc_d_severity_from", lang).format(severity=t(f"severity_{d['severity_from']}", lang)))
        elif entry.kind in ("reopened", "resolved"):
            parts.append(t("inc_d_last_alert", lang).format(alert=d.get("alert")))
        elif entry.kind == "owner_taken" and d.get("previous"):
            parts.append(t("inc_d_previous_owner", lang).format(previous=d["previous"]))
        elif entry.kind == "note":
            parts.append(str(d.get("text", "")))
        elif entry.kind == "title_changed":
            parts.append(str(d.get("title", "")))
        elif entry.kind == "closed":
            parts.append(str(d.get("note", "")))
        return " — ".join(p for p in parts if p)
    if d.get("value") is not None:
        parts.append(t("inc_d_value", lang).format(value=_value(d["value"])))
    if d.get("level") is not None:
        parts.append(t("inc_d_level", lang).format(level=d["level"]))
    if d.get("assignee"):
        parts.append(t("inc_d_assignee", lang).format(assignee=d["assignee"]))
    if d.get("until_resolved"):
        parts.append(t("inc_d_until_resolved", lang))
    elif d.get("until"):
        parts.append(t("inc_d_until", lang).format(until=shown(datetime.fromisoformat(d["until"]), lang)))
    if d.get("comment"):
        parts.append(str(d["comment"]))
    return " — ".join(parts)


# --- the structured report ------------------------------------------------------------------------


def _names(alerts: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(a["entity"] for a in alerts))


def build(incident: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], entries: Iterable[Entry],
          who: Reporter, *, names: Mapping[str, str], levels: Mapping[str, int | None], province_code: str,
          now: datetime) -> dict[str, Any]:
    """The report as a JSON-ready dict: codes for machines, Vietnamese words beside them for people."""
    entries = list(entries)
    fired = [a["fired_at"] for a in alerts if a.get("fired_at")]
    started = [a["started_at"] for a in alerts if a.get("started_at")]
    def summaries(lang: str) -> str:
        return "; ".join(a.get(f"summary_{lang}") or a.get("summary_vi") or f"{a['rule']} · {a['entity']}"
                         for a in alerts)

    measures = [{"at": iso(e.at), "by": e.actor, "source": e.source, "alert_id": e.alert_id, "action": e.kind,
                 "action_vi": kind_label(e, "vi"), "text_vi": describe(e, "vi"), "text_en": describe(e, "en")}
                for e in entries if (e.source, e.kind) in MEASURES and e.actor != "system"]
    return {
        "schema": SCHEMA,
        "basis": BASIS,
        "reference": f"IOC-{province_code}-INC-{incident['id']}",
        "generated_at": iso(now),
        "reporter": asdict(who),
        "incident": {
            "id": incident["id"], "title": incident["title"],
            "severity": incident["severity"], "severity_vi": t(f"severity_{incident['severity']}", "vi"),
            "state": incident["state"], "state_vi": t(f"inc_state_{incident['state']}", "vi"),
            "opened_at": iso(incident["opened_at"]),
            "detected_at": iso(min(fired) if fired else incident["opened_at"]),
            "first_signs_at": iso(min(started) if started else None),
            "resolved_at": iso(incident.get("resolved_at")),
            "closed_at": iso(incident.get("closed_at")), "closed_by": incident.get("closed_by"),
            "closing_note": incident.get("closing_note"),
            "owner": incident.get("owner"),
            "drill": incident.get("drill"),
        },
        "affected": [{"code": code, "name": names.get(code, code), "security_level": levels.get(code)}
                     for code in _names(alerts)],
        "description": t("increp_description", "vi").format(title=incident["title"], n=len(alerts),
                                                            alerts=summaries("vi")),
        "description_en": t("increp_description", "en").format(title=incident["title"], n=len(alerts),
                                                               alerts=summaries("en")),
        "alerts": [{"id": a["id"], "rule": a["rule"], "entity": a["entity"], "severity": a["severity"],
                    "state": a["state"], "summary_vi": a.get("summary_vi") or "", "summary_en": a.get("summary_en") or "",
                    "started_at": iso(a.get("started_at")), "fired_at": iso(a.get("fired_at")),
                    "resolved_at": iso(a.get("resolved_at")), "acknowledged_by": a.get("acknowledged_by"),
                    "acknowledged_at": iso(a.get("acknowledged_at")), "joined_because": a.get("reason")}
                   for a in alerts],
        "measures": measures,
        "timeline": [{"at": iso(e.at), "source": e.source, "alert_id": e.alert_id, "kind": e.kind,
                      "kind_vi": kind_label(e, "vi"), "actor": e.actor, "text_vi": describe(e, "vi"),
                      "text_en": describe(e, "en"), "detail": dict(e.detail)} for e in entries],
    }


# --- printable HTML and PDF -----------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _when(value: str | None, lang: str) -> str:
    return shown(datetime.fromisoformat(value) if value else None, lang)


def _rows(pairs: Iterable[tuple[str, Any]]) -> str:
    return "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs)


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], cls: str) -> str:
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<table class="{cls}"><thead><tr>{"".join(f"<th>{_e(h)}</th>" for h in head)}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def render_html(report: Mapping[str, Any], lang: str = "vi") -> str:
    """A standalone printable page (its stylesheet inline) of ``build``'s dict."""
    def w(key: str, **values: Any) -> str:
        return t(key, lang).format(**values) if values else t(key, lang)

    unset = w("increp_not_set")
    inc, who = report["incident"], report["reporter"]
    severity = w(f"severity_{inc['severity']}")
    measures = (_table([w("increp_at"), w("increp_by"), w("increp_action"), w("increp_detail")],
                       ([_when(m["at"], lang), m["by"], kind_words(m["source"], m["action"], lang), m[f"text_{lang}"]]
                        for m in report["measures"]), "measures")
                if report["measures"] else f'<p class="empty">{_e(w("increp_no_measures"))}</p>')
    body = [
        f'<p class="meta">{_e(w("increp_reference", reference=report["reference"]))} · '
        f'{_e(w("increp_generated", at=_when(report["generated_at"], lang)))}</p>',
        f"<h1>{_e(w('increp_title'))}</h1>",
        f'<p class="to">{_e(w("increp_to"))}</p>',
        f'<p class="meta">{_e(w("increp_basis"))}</p>',
        f'<p class="drill">{_e(w("increp_drill", drill=inc["drill"]))}</p>' if inc.get("drill") else "",
        f"<h2>{_e(w('increp_s_reporter'))}</h2>",
        '<table class="fields">' + _rows([(w("increp_org"), who["organisation"]),
                                          (w("increp_address"), who["address"] or unset),
                                          (w("increp_contact"), who["contact"] or unset),
                                          (w("increp_phone"), who["phone"] or unset),
                                          (w("increp_email"), who["email"] or unset)]) + "</table>",
        f"<h2>{_e(w('increp_s_incident'))}</h2>",
        '<table class="fields">' + _rows([
            (w("increp_name"), f"#{inc['id']} {inc['title']}"), (w("increp_severity"), severity),
            (w("increp_state"), w(f"inc_state_{inc['state']}")),
            (w("increp_detected"), _when(inc["detected_at"], lang)),
            (w("increp_first_signs"), _when(inc["first_signs_at"], lang)),
            (w("increp_resolved"), _when(inc["resolved_at"], lang)),
            (w("increp_owner"), inc["owner"] or w("increp_nobody")),
            *([(w("increp_closed"), _when(inc["closed_at"], lang)), (w("increp_closed_by"), inc["closed_by"]),
               (w("increp_closing_note"), inc["closing_note"])] if inc.get("closed_at") else []),
        ]) + "</table>",
        f"<h2>{_e(w('increp_s_systems'))}</h2>",
        _table([w("increp_code"), w("increp_system_name"), w("increp_level")],
               ([s["code"], s["name"], w("increp_level_n", n=s["security_level"]) if s["security_level"] else
                 w("increp_none")] for s in report["affected"]), "systems"),
        f"<h2>{_e(w('increp_s_description'))}</h2>",
        f'<p class="description">{_e(report["description" if lang == "vi" else "description_en"])}</p>',
        _table([w("increp_alert"), w("increp_rule"), w("increp_entity"), w("increp_severity"), w("increp_summary"),
                w("increp_fired"), w("increp_alert_state")],
               ([f"#{a['id']}", rule_title(a["rule"], lang), a["entity"], w(f"severity_{a['severity']}"),
                 a[f"summary_{lang}"] or a["summary_vi"], _when(a["fired_at"], lang), w(f"state_{a['state']}")]
                for a in report["alerts"]), "alerts"),
        f"<h2>{_e(w('increp_s_measures'))}</h2>",
        measures,
        f"<h2>{_e(w('increp_s_timeline'))}</h2>",
        _table([w("increp_at"), w("increp_source"), w("increp_action"), w("increp_by"), w("increp_detail")],
               ([_when(e["at"], lang), w("increp_source_incident") if e["source"] == "incident" else
                 f"{w('increp_alert')} #{e['alert_id']}", kind_words(e["source"], e["kind"], lang),
                 actor_words(e["actor"], lang),
                 e[f"text_{lang}"]] for e in report["timeline"]), "timeline"),
    ]
    css = CSS_FILE.read_text(encoding="utf-8")
    page = w("increp_page")
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{_e(report['reference'])}</title><style>{css}"
            f'@page {{ @bottom-right {{ content: "{_e(page)} " counter(page) "/" counter(pages); }} }}</style>'
            f"</head><body>{''.join(body)}</body></html>")


def render_pdf(report: Mapping[str, Any], lang: str = "vi") -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(report, lang), base_url=str(CSS_FILE.parent)).write_pdf()
