"""gunicorn settings of the wall and console: ``gunicorn -c python:ioc_dash.gunicorn_conf ioc_dash.wsgi:server``.

The access log names the path, never the query string or the referrer: a wall screen signs in
with ``?token=…`` (a read-only wall token), and gunicorn's default line (``%(r)s``, the request
line, and ``%(f)s``, the referrer) would write that token into every log that keeps it.
"""
from __future__ import annotations

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
