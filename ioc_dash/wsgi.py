"""WSGI entry point for production servers: ``gunicorn ioc_dash.wsgi:server``.

Settings come from ``IOC_*`` variables (and ``IOC_<NAME>_FILE`` files), as for every command.
Each gunicorn worker process imports this module and builds its own app, so each keeps its
own snapshot cache: N processes read the database at most N times per refresh period.
``ioc dash`` remains the development server.
"""
from __future__ import annotations

import logging

from ioc_dash.app import create_app
from streams.core.settings import Settings

settings = Settings()
logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app(settings)
server = app.server  # the Flask app gunicorn serves
