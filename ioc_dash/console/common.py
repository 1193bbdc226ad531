"""What every console page needs from the running app: settings, the alert store, the language store."""
from __future__ import annotations

from dash import dcc
from flask import current_app

from streams.core.settings import Settings
from agents.alerting.store import AlertStore

LANG_STORE = "console-lang"


def settings() -> Settings:
    return current_app.config["IOC_SETTINGS"]


def alert_store() -> AlertStore:
    return AlertStore(settings().dsn)


def user_store():
    """The sign-in gate's store (users, tokens, audit)."""
    return current_app.extensions["ioc_auth"].store


def lang_store(lang: str) -> dcc.Store:
    """Callbacks read the page's language from here (``State(LANG_STORE, "data")``)."""
    return dcc.Store(id=LANG_STORE, data=lang)
