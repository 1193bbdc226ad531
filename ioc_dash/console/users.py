"""/console/users (admin): users, wall tokens and recent sign-ins; changes are made with ``ioc users``."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html

from ioc_dash.auth import can, current_principal
from ioc_dash.console.common import user_store
from ioc_dash.console.views import forbidden, nav
from ioc_dash.figures import local_time
from ioc_dash.i18n import t
from streams.core.errors import IOCError

PATH = "/console/users"


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
            (local_time(a["at"]), a["username"], a["outcome"], a["address"]) for a in attempts],
            lang, "console-signins-table")], className="panel"),
    ], className="console")
