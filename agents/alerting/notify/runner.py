"""The notifier as a process (``ioc notify run``): the dispatcher of ``notification_outbox``, when
``IOC_SOC_MODE`` is set the layer-4 forwarder, and with a Telegram bot the listener for its
acknowledge buttons (``telegram_acks``), each in its own thread, with their metrics.

It runs until ``stop`` is set; if either thread dies (its traceback is logged), the other is
stopped too and the exit status is 1, so the service manager restarts the whole notifier.
"""
from __future__ import annotations

import logging
import threading

from prometheus_client import CollectorRegistry

from agents.alerting.notify.dispatcher import Dispatcher
from agents.alerting.notify.soc import SocForwarder
from agents.alerting.notify.telegram_acks import TelegramAcks
from streams.core.keys import ack_link_key
from streams.core.metrics import NotifyMetrics, serve
from streams.core.settings import Settings

log = logging.getLogger("ioc.notify")


def run_notifier(settings: Settings, stop: threading.Event, *, registry: CollectorRegistry | None = None) -> int:
    """Dispatch (and forward) until ``stop`` is set or Ctrl-C; metrics on ``IOC_NOTIFY_METRICS_PORT``."""
    registry = registry or CollectorRegistry()
    metrics = NotifyMetrics(registry)
    if settings.ack_link_ttl_s > 0:
        ack_link_key(settings)  # a key too short stops the start, not a delivery; the dev stack's is made now
    dispatcher = Dispatcher.from_settings(settings, metrics=metrics)
    forwarder = SocForwarder.from_settings(settings, metrics=metrics)
    buttons = TelegramAcks.from_settings(settings, dispatcher.oncall)
    serve(registry, settings.notify_metrics_port, settings.metrics_host)
    threads = [threading.Thread(target=dispatcher.run, args=(stop,), kwargs={"poll_s": settings.notify_poll_s},
                                name="dispatcher", daemon=True)]
    if forwarder:
        threads.append(threading.Thread(target=forwarder.run, args=(stop,), kwargs={"poll_s": settings.notify_poll_s},
                                        name="soc-forwarder", daemon=True))
    if buttons:
        threads.append(threading.Thread(target=buttons.run, args=(stop,), name="telegram-acks", daemon=True))
    log.info("notify: receivers from %s; SOC link %s", settings.oncall_file,
             forwarder.sink.target if forwarder else "off")
    for t in threads:
        t.start()
    rc = 0
    try:
        while not stop.wait(1):
            dead = [t.name for t in threads if not t.is_alive()]
            if dead:  # its traceback is already logged; do not keep running half of the service
                log.error("notify: %s stopped unexpectedly; exiting", ", ".join(dead))
                stop.set()
                rc = 1
    except KeyboardInterrupt:
        stop.set()
    for t in threads:  # a long poll of getUpdates ends within telegram_poll_s
        t.join(timeout=settings.notify_timeout_s + settings.telegram_poll_s + 5)
    if forwarder:
        forwarder.sink.close()
    return rc
