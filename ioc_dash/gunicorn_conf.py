"""gunicorn settings of the wall and console: ``gunicorn -c python:ioc_dash.gunicorn_conf ioc_dash.wsgi:server``.

The access log names the path, never the query string or the referrer: a wall screen signs in
with ``?token=…`` (a read-only wall token), and gunicorn's default line (``%(r)s``, the request
line, and ``%(f)s``, the referrer) would write that token into every log that keeps it.  The path
of an e-mail's acknowledge link (``/ack/<token>``) is written as ``/ack/…``.

``/metrics`` adds up the metrics of every worker process (prometheus_client's multiprocess mode):
the processes write them to files in ``IOC_DASH_MULTIPROC_DIR`` (default: a fresh folder under
the temporary directory, removed when gunicorn exits).  The folder is chosen here, in the master,
before any worker imports prometheus_client; the files of a worker that ends are let go.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.glogging import Logger

from streams.core.settings import Settings

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
TOKEN_PATHS = ("/ack/",)


class TokenlessLogger(Logger):
    """gunicorn's logger, with the token of a token-bearing path left out of the access log."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for prefix in TOKEN_PATHS:
            if str(atoms.get("U", "")).startswith(prefix):
                atoms["U"] = prefix + "…"
        return atoms


logger_class = TokenlessLogger

_chosen = Settings().dash_multiproc_dir
_metrics_dir = _chosen or Path(tempfile.mkdtemp(prefix="ioc-dash-metrics-"))
_metrics_dir.mkdir(parents=True, exist_ok=True)
for _stale in _metrics_dir.glob("*.db"):  # a previous master's counts are not ours
    _stale.unlink()
# for prometheus_client (read when it is imported) and for the workers' settings
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ["IOC_DASH_MULTIPROC_DIR"] = str(_metrics_dir)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _chosen is None:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
