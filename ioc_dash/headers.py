"""Security headers on every response of the dashboard: Content-Security-Policy and friends.

``policy(script_hashes)`` is pure: the strictest policy under which the wall and the console work.
Dash's page has two inline scripts (the renderer's start and the clientside callbacks), allowed by
their SHA-256 (``Dash.csp_hashes()``), so no other inline script — and no ``javascript:`` URL, no
``on…=`` attribute — can run, whatever text an event brings.  ``install(app)`` adds the
``after_request`` hook; the hashes are taken at the first response, when every callback is known.
"""
from __future__ import annotations

from collections.abc import Iterable

import dash
from flask import Response

#: Plotly and Dash's components set styles through <style> elements they create and through style
#: attributes, so styles allow inline; scripts do not.
STYLE_SRC = ("'self'", "'unsafe-inline'")


def policy(script_hashes: Iterable[str] = ()) -> str:
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": list(STYLE_SRC),
        "img-src": ["'self'", "data:"],  # plotly draws heatmaps as data: images
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def headers(script_hashes: Iterable[str] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": policy(script_hashes),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }


def install(app: dash.Dash) -> None:
    """Set the headers on every response of ``app.server`` (pages, callbacks, assets, errors)."""
    cached: dict[str, str] = {}  # filled at the first response (pure: two threads racing fill it alike)

    def add(resp: Response) -> Response:
        if not cached:
            cached.update(headers(app.csp_hashes()))
        for name, value in cached.items():
            resp.headers.setdefault(name, value)
        return resp

    app.server.after_request(add)
