"""Sign-in with roles for the wall and the console.

``install(app, settings)`` guards a Dash app (see ``web``); ``roles`` says who may do what;
``store`` keeps users, sessions, wall tokens and login attempts; the rest is pure.
"""
from ioc_dash.auth.roles import Principal, can
from ioc_dash.auth.web import allowed, current_principal, guard_outputs, install, require

__all__ = ["Principal", "allowed", "can", "current_principal", "guard_outputs", "install", "require"]
