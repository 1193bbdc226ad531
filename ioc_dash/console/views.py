"""Pure pieces of the console: filters, parsers and components built from alert rows.

No Flask, no database: tests call these with plain dicts.  Dash escapes every text it renders,
so summaries, comments and entity names from events are shown as text, never as HTML.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode

from dash import html

from agents.alerting.notify.alertmanager import runbook_url
from agents.indicators.history import around
from ioc_dash.auth.roles import Principal, can
from ioc_dash.figures import ago, local_time
from ioc_dash.figures_alerts import SEVERITY_BADGE  # the wall's colours, the same in the console
from ioc_dash.i18n import rule_title, t
from streams.core.clock import LOCAL_TZ
from streams.core.errors import IOCError

STATES = ("pending", "firing", "resolved", "cancelled")
OPEN_STATES = ("pending", "firing")
SEVERITIES = ("critical", "high", "medium", "low", "informational")
STATE_BADGE = {"firing": "down", "pending": "degraded", "resolved": "ok", "cancelled": "unknown"}


def fold(text: Any) -> str:
    """Lower case without diacritics, so "ngap" finds "ngập" and "Rach Gia" finds "Rạch Giá"."""
    s = unicodedata.normalize("NFKD", str(text or "").replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True, slots=True)
class AlertFilter:
    states: tuple[str, ...] = OPEN_STATES
    severities: tuple[str, ...] = ()  # empty = all
    rules: tuple[str, ...] = ()  # empty = all
    entity: str = ""
    text: str = ""

    def matches(self, a: dict[str, Any]) -> bool:
        if self.states and a["state"] not in self.states:
            return False
        if self.severities and a["severity"] not in self.severities:
            return False
        if self.rules and a["rule"] not in self.rules:
            return False
        if self.entity and fold(self.entity) not in fold(a["entity"]):
            return False
        if self.text:
            hay = " ".join(fold(a.get(k)) for k in ("summary_vi", "summary_en", "rule", "entity", "assigned_to",
                                                    "acknowledged_by"))
            hay += " " + " ".join(fold(v) for v in (a.get("labels") or {}).values())
            return all(word in hay for word in fold(self.text).split())
        return True


def filter_alerts(rows: Iterable[dict[str, Any]], f: AlertFilter) -> list[dict[str, Any]]:
    """Matching alerts, firing before pending before the rest, most severe first, newest first."""
    order = {s: i for i, s in enumerate(("firing", "pending", "resolved", "cancelled"))}
    sev = {s: i for i, s in enumerate(SEVERITIES)}
    out = [a for a in rows if f.matches(a)]
    out.sort(key=lambda a: (order.get(a["state"], 9), sev.get(a["severity"], 9), -a["started_at"].timestamp()))
    return out


_ALERT_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits, within bigint


def parse_alert_id(search: str | None) -> int | None:
    values = parse_qs((search or "").lstrip("?")).get("id")
    if not values or not _ALERT_ID.fullmatch(values[-1]):  # not str.isdigit(): "²" is a digit to it
        return None
    return int(values[-1])


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$", re.I)
_UNIT_S = {"m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_until(text: str, now: datetime) -> datetime:
    """"2h", "30m", "1d" from now, or a Vietnam local time "YYYY-MM-DD HH:MM"; UTC, in the future."""
    text = (text or "").strip()
    if m := _RELATIVE.match(text):
        until = now + timedelta(seconds=float(m.group(1)) * _UNIT_S[m.group(2).lower()])
    else:
        try:
            local = datetime.fromisoformat(text.replace("T", " "))
        except ValueError:
            raise ValueError(f"{text!r} is neither like 2h / 30m / 1d nor YYYY-MM-DD HH:MM") from None
        until = (local if local.tzinfo else local.replace(tzinfo=LOCAL_TZ)).astimezone(timezone.utc)
    if until <= now:
        raise ValueError(f"{local_time(until)} is not in the future")
    if until - now > timedelta(days=30):
        raise ValueError("at most 30 days ahead")
    return until


def parse_drill_list(output: str) -> list[tuple[str, str]]:
    """(name, "name (N min): title") from ``ioc drill --list``: scenario lines start unindented."""
    out, name = [], None
    for line in output.splitlines():
        if line and not line[0].isspace():
            name = line.split()[0]
            out.append((name, line.strip()))
        elif name and line.strip().startswith("en:") and out and out[-1][0] == name:
            out[-1] = (name, f"{out[-1][1]} — {line.strip()[3:].strip().split('. ')[0]}")
    return out


# --- components ---------------------------------------------------------------------------------


def badge(text: str, kind: str) -> html.Span:
    return html.Span(text, className=f"badge badge-{kind}")


def nav(principal: Principal | None, lang: str, active: str) -> html.Nav:
    """The console's navigation, the only one on its pages: back to the wall, the console's pages and who is
    signed in (the shell adds the language switch)."""
    links = [("/console/alerts", "con_alerts", "view"), ("/console/quiet", "con_quiet", "view"),
             ("/console/drills", "con_drills", "drills.run"),
             ("/console/drills/runs", "con_drill_runs", "view"), ("/console/register", "con_register", "view"),
             ("/console/users", "con_users", "users.manage")]
    links += [("/console/incidents", "con_incidents", "view"), ("/console/handover", "con_handover", "view"),
              ("/console/sla", "con_sla", "view"), ("/console/reports", "con_reports", "view")]
    items: list[Any] = [html.A(t("con_to_wall", lang), href="/", className="nav-link console-to-wall")]
    items += [html.A(t(key, lang), href=href, className="nav-link active" if href == active else "nav-link")
              for href, key, perm in links if can(principal, perm)]
    if principal and not principal.is_wall:
        items.append(html.Span(t("con_signed_in_as", lang).format(name=principal.name,
                                                                  role=t(f"role_{principal.role}", lang)),
                               id="console-user", className="console-user"))
        items.append(html.Form(html.Button(t("con_sign_out", lang), id="console-logout", type="submit"),
                               action="/logout", method="POST", className="console-logout"))
    return html.Nav(items, className="console-nav")


def forbidden(principal: Principal | None, lang: str, active: str) -> html.Div:
    return html.Div([nav(principal, lang, active), html.P(t("con_forbidden", lang), id="console-forbidden")],
                    className="console")


def page(principal: Principal | None, lang: str, path: str, body: Callable[[], Sequence[Any]],
         class_name: str = "", permission: str = "view") -> html.Div:
    """A console page: refused unless ``permission``; else the console's navigation, the language
    store the callbacks read (``common.lang_store``) and ``body()``."""
    from ioc_dash.console.common import lang_store

    if not can(principal, permission):
        return forbidden(principal, lang, path)
    return html.Div([nav(principal, lang, path), lang_store(lang), *body()],
                    className=f"console {class_name}".strip())


EMPTY = "—"  # no value (nobody acknowledged, nobody assigned)
#: the alert list's columns: (title key, class); on a phone (console.css) each row is a card and the
#: class places the cell in it, labelled by its column title (``data-label``)
ALERT_COLUMNS = (("con_col_id", "al-id"), ("con_f_state", "al-state"), ("con_f_severity", "al-severity"),
                 ("con_f_rule", "al-rule"), ("con_f_entity", "al-entity"), ("con_col_summary", "al-summary"),
                 ("con_col_started", "al-started num"), ("con_col_ack", "al-ack ack-cell"),
                 ("con_col_assignee", "al-assignee"))


def _alert_cells(a: dict[str, Any], lang: str, now: datetime | None) -> list[Any]:
    silenced = a.get("silence_until_resolved") or a.get("silenced_until")
    started = [local_time(a["started_at"])]
    if now is not None:  # how long ago, shown on a phone
        started.append(html.Span(ago(a["started_at"], now, lang), className="alert-age"))
    return [
        html.A(f"#{a['id']}", href=f"/console/alert?id={a['id']}", id=f"alert-link-{a['id']}"),
        badge(t(f"state_{a['state']}", lang), STATE_BADGE.get(a["state"], "unknown")),
        badge(t(f"severity_{a['severity']}", lang), SEVERITY_BADGE.get(a["severity"], "unknown")),
        html.Span(rule_title(a["rule"], lang), title=a["rule"]),
        html.A(a["entity"], href=entity_history_href(a, lang), className="entity-link"),
        [html.Span(t("drill_tag", lang).format(drill=a["drill"]), className="drill-tag") if a.get("drill") else "",
         a.get(f"summary_{lang}") or a.get("summary_vi") or "",
         html.Small(f" ({t('con_silenced', lang)})") if silenced else ""],
        started,
        a.get("acknowledged_by") or EMPTY,
        a.get("assigned_to") or EMPTY,
    ]


def alerts_table(rows: Sequence[dict[str, Any]], lang: str, now: datetime | None = None) -> html.Div:
    """The alert list; with ``now``, each start time also says how long ago it was."""
    if not rows:
        return html.P(t("con_none_match", lang), id="console-alerts-empty")
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k, _ in ALERT_COLUMNS]))
    body = []
    for a in rows:
        cells = [html.Td(value, className=f"{cls} al-empty" if value == EMPTY else cls, **{"data-label": t(key, lang)})
                 for (key, cls), value in zip(ALERT_COLUMNS, _alert_cells(a, lang, now))]
        body.append(html.Tr(cells, id=f"alert-row-{a['id']}", className=f"alert-row alert-{a['state']}"))
    return html.Div([html.P(t("con_count", lang).format(n=len(rows)), className="console-count"),
                     html.Table([head, html.Tbody(body)], className="status-table", id="console-alerts-table")])


def entity_history_href(a: dict[str, Any], lang: str) -> str:
    """The wall's history of an alert's entity over the days around its start (its kind is found there)."""
    return "/history?" + urlencode({"entity": a["entity"], **around(a["started_at"], LOCAL_TZ), "lang": lang})


def entity_link(a: dict[str, Any], lang: str) -> html.A:
    return html.A(a["entity"], href=entity_history_href(a, lang), id="alert-entity-history",
                  title=t("hist_link_title", lang), className="entity-link")


def alert_card(a: dict[str, Any], lang: str) -> html.Div:
    fields = [
        ("con_f_state", badge(t(f"state_{a['state']}", lang), STATE_BADGE.get(a["state"], "unknown"))),
        ("con_f_severity", badge(t(f"severity_{a['severity']}", lang), SEVERITY_BADGE.get(a["severity"], "unknown"))),
        ("con_f_rule", html.Span(rule_title(a["rule"], lang), title=a["rule"])), ("con_f_entity", entity_link(a, lang)),
        ("con_value", "—" if a.get("value") is None else f"{a['value']:g}"),
        ("con_col_started", local_time(a["started_at"])),
        ("con_col_ack", f"{a['acknowledged_by']} · {local_time(a['acknowledged_at'])}" if a.get("acknowledged_by")
         else "—"),
        ("con_col_assignee", a.get("assigned_to") or "—"),
        ("con_silenced_until", t("con_until_resolved", lang) if a.get("silence_until_resolved")
         else local_time(a["silenced_until"]) if a.get("silenced_until") else "—"),
        ("con_escalation", str(a.get("escalation_level", 0))),
        ("con_runbook", runbook_link(runbook_url(a.get("runbook"), "", lang), t("con_runbook_open", lang))),
    ]
    if a.get("drill"):
        fields.insert(0, ("con_drill_col", html.A(t("drill_tag", lang).format(drill=a["drill"]),
                                                  href=f"/console/drills/run?id={a['drill_run']}",
                                                  className="drill-tag")))
    return html.Div([
        html.H2([f"#{a['id']} ", a.get(f"summary_{lang}") or a.get("summary_vi") or a["rule"]]),
        html.Dl([html.Div([html.Dt(t(key, lang)), html.Dd(value, id=f"alert-{key}")], className=f"alert-field {key}")
                 for key, value in fields], className="alert-fields"),
    ], className="panel", id="alert-card")


def runbook_link(url: str | None, text: str | None = None) -> Any:
    """A link only to an http(s) address or a path on this site; anything else (``javascript:``, ``data:``)
    is shown as text.  ``text``: what the link says for a section of this site's runbooks."""
    if not url:
        return "—"
    scheme = url.split(":", 1)[0].lower() if ":" in url.split("/", 1)[0] else ""
    if scheme in ("http", "https") or (not scheme and not url.startswith("//")):
        return html.A(text if text and url.startswith("/runbooks") else url, href=url, title=url)
    return url


def _known(key: str, fallback: str, lang: str) -> str:
    """``t(key)``, or ``fallback`` for a key the catalogue does not have."""
    text = t(key, lang)
    return fallback if text == key else text


def _detail_text(detail: dict[str, Any] | None, lang: str) -> str:
    def value(v: Any) -> str:
        return t("con_yes", lang) if v is True else f"{v:g}" if isinstance(v, float) else str(v)

    return "; ".join(f"{_known(f'con_detail_{k}', k, lang)}: {value(v)}" for k, v in (detail or {}).items()
                     if v not in (None, "", False))


def history_table(events: Sequence[dict[str, Any]], lang: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("con_col_at", "con_col_kind", "con_col_actor",
                                                            "con_col_detail")]))
    body = [html.Tr([html.Td(local_time(e["at"]), className="num ev-at"),
                     html.Td(_known(f"con_event_{e['kind']}", e["kind"], lang), className="ev-kind"),
                     html.Td(_known("con_actor_system", e["actor"], lang) if e["actor"] == "system" else e["actor"],
                             className="ev-actor"),
                     html.Td(_detail_text(e.get("detail"), lang), className="ev-detail")], className=f"event-{e['kind']}")
            for e in events]
    return html.Table([head, html.Tbody(body)], className="status-table", id="alert-history")


def options(values: Iterable[str], lang: str, prefix: str = "") -> list[dict[str, str]]:
    return [{"label": t(f"{prefix}{v}", lang) if prefix else v, "value": v} for v in values]


def attempt(action: Callable[[], Any], done: Callable[[Any], str], lang: str,
            bad_input: str = "con_failed") -> tuple[html.Span, bool]:
    """Run an operator's action: what to show (done, or why not) and whether it was done.  A
    ``ValueError`` whose text is a catalogue key ("con_…") names the missing input; another one is
    said with the ``bad_input`` text."""
    try:
        result = action()
    except ValueError as exc:
        key = str(exc)
        text = t(key, lang) if key.startswith("con_") else t(bad_input, lang).format(error=exc)
        return html.Span(text, className="console-error"), False
    except IOCError as exc:
        return html.Span(t("con_failed", lang).format(error=exc), className="console-error"), False
    return html.Span(done(result), className="console-ok"), True
