"""/console/users (admin): users, wall tokens and recent sign-ins; changes are made with ``ioc users``.
The audit trails (alert history, sign-ins, changes) are exported here as CSV for a range of days:
``/console/export/<trail>.csv?from=YYYY-MM-DD&to=YYYY-MM-DD``."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datetime import datetime, timedelta
from itertools import chain

from dash import dcc, hooks, html
from flask import Response, request

from agents.alerting import audit

from ioc_dash.auth import can, current_principal, require
from ioc_dash.console.common import settings, user_store
from ioc_dash.console.views import forbidden, nav
from ioc_dash.figures import local_time
from ioc_dash.i18n import t
from streams.core.clock import LOCAL_TZ
from streams.core.errors import InputError, IOCError

PATH = "/console/users"
EXPORT_HREF = "/console/export/{name}.csv"
EXPORT_DAYS = 30  # the range the form offers first: the last 30 days


def table(head: Sequence[str], rows: Sequence[Sequence[Any]], lang: str, table_id: str) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])],
                      className="status-table", id=table_id)


def layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "users.manage"):
        return forbidden(principal, lang, PATH)
    store = user_store()
    try:
        users, tokens, attempts = store.users(), store.wall_tokens(), store.attempts(20)
    except IOCError as exc:
        return html.Div([nav(principal, lang, PATH), html.P(t("con_failed", lang).format(error=exc))])
    return html.Div([
        nav(principal, lang, PATH),
        html.H1(t("con_users", lang)),
        html.P(t("con_manage_cli", lang)),
        html.Div(table(("con_users", "con_col_role", "con_f_state", "con_col_last_login"), [
            (u["name"], t(f"role_{u['role']}", lang), t("con_disabled" if u["disabled"] else "con_active", lang),
             local_time(u["last_login_at"])) for u in users], lang, "console-users-table"), className="panel"),
        html.Div([html.H2(t("con_wall_tokens", lang)), table(("con_wall", "con_f_state", "con_col_last_used"), [
            (w["name"], t("con_revoked", lang) if w["revoked_at"] else t("con_active", lang),
             local_time(w["last_used_at"])) for w in tokens], lang, "console-tokens-table")], className="panel"),
        html.Div([html.H2(t("con_recent_signins", lang)), table(("con_col_at", "con_users", "con_f_state",
                                                                  "con_col_detail"), [
            (local_time(a["at"]), a["username"], t(f"con_login_{a['outcome']}", lang), a["address"]) for a in attempts],
            lang, "console-signins-table")], className="panel"),
        exports(lang),
    ], className="console")


def exports(lang: str) -> html.Div:
    """A range of days and one button per audit trail: the browser downloads the CSV."""
    last = datetime.now(LOCAL_TZ).date()
    first = last - timedelta(days=EXPORT_DAYS - 1)
    return html.Div([
        html.H2(t("con_exports", lang)),
        html.P(t("con_exports_help", lang)),
        html.Form([
            html.Label([t("con_export_from", lang), dcc.Input(type="date", name="from", value=first.isoformat(),
                                                              id="export-from")]),
            html.Label([t("con_export_to", lang), dcc.Input(type="date", name="to", value=last.isoformat(),
                                                            id="export-to")]),
            *[html.Button(t(f"con_export_{name}", lang), type="submit", id=f"export-{name}",
                          formAction=EXPORT_HREF.format(name=name)) for name in audit.TRAILS],
        ], method="GET", action=EXPORT_HREF.format(name="alerts"), className="console-form", id="console-exports"),
    ], className="panel")


def _plain(text: str, status: int) -> Response:
    return Response(f"{text}\n", status=status, mimetype="text/plain")


@hooks.route("console/export/<name>.csv")
def export_trail(name: str):
    """The trail's rows for the days asked, streamed; a bad range is a 400 naming the field, a database
    that cannot be reached a 503 before anything is sent."""
    require("users.manage")
    try:
        which = audit.trail(name)
        first = audit.parse_day(request.args.get("from"), "from")
        last = audit.parse_day(request.args.get("to"), "to")
        since, until = audit.day_range(first, last)
    except InputError as exc:
        return _plain(str(exc), 400)
    rows = audit.rows(settings().dsn, which, since, until)
    try:
        head = next(rows, None)  # connects and runs the query: a failure is still a clean 503
    except IOCError as exc:
        return _plain(str(exc), 503)
    body = audit.csv_chunks(which.columns, chain([head] if head is not None else [], rows))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{audit.file_name(which, first, last)}"'})
