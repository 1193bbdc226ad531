"""The wall's pages, in their default playlist order.  Each is a module: KEY, PATH, TITLE,
``layout(lang)`` and ``register(app, ctx)`` (see ``ioc_dash.pages.common``)."""
from __future__ import annotations

from ioc_dash.pages import border, environment, network, overview, security, services, sources, systems
from ioc_dash.pages import map as map_page

WALL_PAGES = (overview, systems, network, security, border, map_page, environment, services, sources)
