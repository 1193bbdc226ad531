"""The loop of the dispatcher and the SOC forwarder, and how it waits for work: LISTEN on a channel the outbox triggers notify (migration 011), so a new row
is picked up at once, with a timeout so that retries falling due are found by polling.  Without a
listening connection (database away) it simply sleeps; it listens again on the next wait."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from psycopg import sql

from streams.core.errors import SinkUnavailable
from streams.core.backoff import Backoff
from streams.db.connect import Connection, connect
from streams.db.errors import translated

log = logging.getLogger("ioc.notify")


class Wakeup:
    def __init__(self, dsn: str, channel: str, stop: threading.Event) -> None:
        self.dsn, self.channel, self.stop = dsn, channel, stop
        self._conn: Connection | None = None

    def _listen(self) -> Connection | None:
        if self._conn is None or self._conn.closed:
            try:
                with translated(f"cannot listen on {self.channel}"):
                    self._conn = connect(self.dsn, what=f"cannot listen on {self.channel}", role="notify",
                                         autocommit=True)
                    self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            except SinkUnavailable:
                self.close()
        return self._conn

    def wait(self, timeout: float) -> None:
        """Return when rows were added, ``timeout`` seconds passed, or the stop event is set."""
        if self.stop.is_set():
            return
        conn = self._listen()
        if conn is None:
            self.stop.wait(timeout)
            return
        try:
            with translated(f"listening on {self.channel}"):
                for _ in conn.notifies(timeout=timeout, stop_after=1):
                    pass
        except SinkUnavailable:
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def run_loop(step: Callable[[], bool], *, stop: threading.Event, wakeup: Wakeup, poll_s: float, what: str) -> None:
    """Call ``step`` until ``stop`` is set.  ``step`` returns True when more work is waiting (it is
    called again at once); otherwise the loop waits for a wake-up or ``poll_s``.  While the database
    is away the loop waits 1 s, doubling to 30 s."""
    failures, backoff = 0, Backoff(base_s=1, max_s=30)
    try:
        while not stop.is_set():
            try:
                busy = step()
                failures = 0
            except SinkUnavailable as exc:
                failures += 1
                wait = backoff.delay(failures).total_seconds()
                log.warning("%s: %s; retrying in %.0f s", what, exc, wait)
                stop.wait(wait)
                continue
            if not busy:
                wakeup.wait(poll_s)
    finally:
        wakeup.close()
