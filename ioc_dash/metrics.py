"""``/metrics`` of the wall and console: requests, callback latency, snapshot age and sessions.

One process (``ioc dash``) keeps its metrics in memory.  Under gunicorn every worker process
writes its metrics to files in ``IOC_DASH_MULTIPROC_DIR`` (prometheus_client's multiprocess mode,
set up by ``ioc_dash/gunicorn_conf.py`` before any worker starts), and whichever process answers
``/metrics`` adds up all of them: Prometheus sees one wall whatever the number of processes.

    ioc_dash_requests_total{kind, code}        kind: page, callback, layout, asset, login, metrics
    ioc_dash_callback_seconds                  time to answer a Dash callback request
    ioc_dash_snapshot_timestamp_seconds        when the newest snapshot of any process was read
    ioc_dash_snapshot_age_seconds              now minus that, at the scrape
    ioc_dash_sessions{kind}                    console sessions alive, wall screens seen in 5 min
    ioc_dash_status_page_requests_total{answer}  /status answered: page, not_modified (304), unavailable
    ioc_dash_status_page_cache_hits_total      /status answered from the page in memory, without reading
    ioc_dash_status_page_reads_total{outcome}  /status's database reads: ok, failed
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import prometheus_client.values
from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from streams.core.errors import ConfigError, IOCError
from streams.core.metrics import LATENCY_BUCKETS
from streams.core.settings import Settings

log = logging.getLogger(__name__)
PATH = "/metrics"
T = TypeVar("T")
_KINDS = (("/_dash-update-component", "callback"), ("/_dash-layout", "layout"), ("/_dash-dependencies", "layout"),
          ("/assets/", "asset"), ("/_dash-component-suites/", "asset"), ("/_favicon.ico", "asset"),
          ("/login", "login"), ("/logout", "login"), (PATH, "metrics"), ("/status", "status"))


def request_kind(path: str) -> str:
    """A few kinds of request, so the label stays small whatever the paths asked for."""
    return next((kind for prefix, kind in _KINDS if path.startswith(prefix)), "page")


class DashMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry or CollectorRegistry()
        self.requests = Counter("ioc_dash_requests", "HTTP requests answered by the wall and console",
                                ["kind", "code"], registry=registry)
        self.callback_seconds = Histogram("ioc_dash_callback_seconds", "time to answer one Dash callback request",
                                          buckets=LATENCY_BUCKETS, registry=registry)
        self.snapshot_time = Gauge("ioc_dash_snapshot_timestamp_seconds",
                                   "when the newest snapshot the wall shows was read from the database",
                                   multiprocess_mode="livemax", registry=registry)
        self.status_requests = Counter("ioc_dash_status_page_requests", "requests of the public status page, by answer",
                                       ["answer"], registry=registry)
        self.status_cache_hits = Counter("ioc_dash_status_page_cache_hits",
                                         "status page requests answered without reading the database", registry=registry)
        self.status_reads = Counter("ioc_dash_status_page_reads", "database reads of the status page, by outcome",
                                    ["outcome"], registry=registry)


class _Scrape:
    """What one scrape reports: the processes' metrics, the snapshot's age and the sessions."""

    def __init__(self, source, sessions: Callable[[], dict[str, int]] | None) -> None:
        self.source = source
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        newest = None
        for family in self.source.collect():
            if family.name == "ioc_dash_snapshot_timestamp_seconds":
                newest = max((s.value for s in family.samples), default=None)
            yield family
        if newest:
            yield GaugeMetricFamily("ioc_dash_snapshot_age_seconds",
                                    "seconds since the newest snapshot the wall shows was read",
                                    value=max(0.0, time.time() - newest))
        if self.sessions is None:
            return
        try:
            counts = self.sessions()
        except IOCError as exc:  # the database is down: the scrape still answers, without sessions
            log.warning("sessions not counted: %s", exc)
            return
        family = GaugeMetricFamily("ioc_dash_sessions", "console sessions alive and wall screens seen in 5 minutes",
                                   labels=["kind"])
        for kind, n in sorted(counts.items()):
            family.add_metric([kind], n)
        yield family


def timed(read: Callable[[], T], metrics: DashMetrics) -> Callable[[], T]:
    """``read`` (the snapshot's database read) noting when it last succeeded."""

    @functools.wraps(read)  # ``inspect.unwrap`` gives the read back (the repository behind it)
    def read_and_note() -> T:
        value = read()
        metrics.snapshot_time.set(time.time())
        return value

    return read_and_note


def _gate_sessions(server: Flask) -> Callable[[], dict[str, int]]:
    def count() -> dict[str, int]:
        gate = server.extensions.get("ioc_auth")  # the sign-in gate, when ioc_dash.auth is installed
        return gate.store.live_sessions() if gate is not None else {}

    return count


def install(server: Flask, settings: Settings, metrics: DashMetrics, *,
            sessions: Callable[[], dict[str, int]] | None = None) -> None:
    """Count every request of ``server`` and serve ``/metrics``; ``sessions`` counts them (default:
    the sign-in gate's store).  Installed before the sign-in gate, which leaves ``/metrics`` open:
    the reverse proxy in front of the wall must not publish it."""
    multiproc = settings.dash_multiproc_dir
    if multiproc is not None and prometheus_client.values.ValueClass is prometheus_client.values.MutexValue:
        raise ConfigError("IOC_DASH_MULTIPROC_DIR is set but this process keeps its metrics in memory: run "
                          "gunicorn with -c python:ioc_dash.gunicorn_conf, or unset it")
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Scrape(MultiProcessCollector(None, path=str(multiproc)) if multiproc else metrics.registry,
                            sessions or _gate_sessions(server)))

    @server.before_request
    def started() -> None:
        g.ioc_started = time.perf_counter()

    @server.after_request
    def counted(resp: Response) -> Response:
        kind = request_kind(request.path)
        metrics.requests.labels(kind, str(resp.status_code)).inc()
        if kind == "callback" and "ioc_started" in g:
            metrics.callback_seconds.observe(time.perf_counter() - g.ioc_started)
        return resp

    @server.get(PATH)
    def serve() -> Response:
        return Response(generate_latest(scrape), content_type=CONTENT_TYPE_LATEST)
