"""Sends ``notification_outbox`` rows: due rows are claimed with ``FOR UPDATE SKIP LOCKED``, so
several dispatchers share the work and never send the same row twice at once.

For each claimed row: send through its channel to its receiver, then in the same transaction
mark it ``sent``, or count the attempt, keep the error and schedule the next try (exponential
backoff), or give it up as ``failed`` once attempts or age run out or the receiver rejected it.
A receiver that fails makes its other rows in the round wait with it, so a receiver that is
down is tried once per backoff step, and its rows still go out in order once it is back.

A crash after a send and before the commit sends that row again: the delivery key (the row id)
lets receivers drop the repeat.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from streams.core.clock import utcnow
from streams.core.errors import ConfigError, NotifyError
from streams.core.metrics import NotifyMetrics
from agents.alerting.notify.alertmanager import resend_batch
from streams.core.backoff import Backoff
from agents.alerting.notify.channels import AlertmanagerChannel, Channel, Clock, build_channels
from agents.alerting.notify.oncall import OnCall, oncall_of
from agents.alerting.notify.wakeup import Wakeup, run_loop
from streams.core.settings import Settings
from streams.db.connect import Connection, connect
from streams.db.errors import translated

log = logging.getLogger("ioc.notify")

CLAIM = """SELECT id, channel, receiver, payload, attempts, created_at FROM notification_outbox
           WHERE status = 'pending' AND next_attempt_at <= %s
           ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED"""
RESEND = """SELECT * FROM alert
            WHERE fired_at IS NOT NULL AND suppressed_by IS NULL
              AND (state = 'firing' AND NOT silence_until_resolved AND (silenced_until IS NULL OR silenced_until <= %(now)s)
                   OR state = 'resolved' AND resolved_at >= %(since)s)"""


@dataclass
class RoundResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retried + self.failed + self.deferred


def backoff_from(settings: Settings) -> Backoff:
    return Backoff(base_s=settings.notify_backoff_base_s, max_s=settings.notify_backoff_max_s,
                   max_attempts=settings.notify_max_attempts, max_age=timedelta(seconds=settings.notify_max_age_s))


class Dispatcher:
    def __init__(self, dsn: str, oncall: OnCall, channels: Mapping[str, Channel], *, backoff: Backoff = Backoff(),
                 batch: int = 20, resolved_for: timedelta = timedelta(minutes=15),
                 metrics: NotifyMetrics | None = None, clock: Clock = utcnow) -> None:
        self.dsn = dsn
        self.resolved_for = resolved_for
        self.oncall = oncall
        self.channels = dict(channels)
        self.backoff = backoff
        self.batch = batch
        self.metrics = metrics
        self.clock = clock
        self.failing: dict[str, str] = {}  # "channel:receiver" -> its last error, while it fails

    @classmethod
    def from_settings(cls, settings: Settings, *, metrics: NotifyMetrics | None = None,
                      clock: Clock = utcnow) -> Dispatcher:
        oncall = oncall_of(settings)
        return cls(settings.dsn, oncall, build_channels(settings, clock), backoff=backoff_from(settings),
                   batch=settings.notify_batch, resolved_for=timedelta(seconds=settings.alertmanager_resolved_for_s),
                   metrics=metrics, clock=clock)

    def _connect(self) -> Connection:
        return connect(self.dsn, what="notification outbox unavailable", table="notification_outbox", role="notify",
                       dict_rows=True)

    # --- one round --------------------------------------------------------------------------

    def _send(self, row: Mapping[str, Any]) -> None:
        channel = self.channels.get(row["channel"])
        try:
            receiver = self.oncall.receiver(row["receiver"])
        except ConfigError as exc:
            raise NotifyError(str(exc), channel=row["channel"], receiver=row["receiver"]) from exc
        if receiver.channel != row["channel"]:
            raise NotifyError(f"receiver is a {receiver.channel} receiver, the row asks for {row['channel']!r}",
                              channel=row["channel"], receiver=row["receiver"])
        if channel is None:
            raise NotifyError(f"no channel {row['channel']!r} in this dispatcher; it has {', '.join(self.channels)}",
                              channel=row["channel"], receiver=row["receiver"])
        try:
            channel.send(receiver, row["payload"], key=f"ioc-notification-{row['id']}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a payload no retry will mend
            raise NotifyError(f"malformed payload: {type(exc).__name__}: {exc}", channel=row["channel"],
                              receiver=row["receiver"], retryable=False) from exc

    def run_once(self) -> RoundResult:
        """Claim the due rows, send them, record the outcome; one transaction."""
        result = RoundResult()
        now = self.clock()
        with translated("notification outbox", table="notification_outbox"), self._connect() as conn, \
                conn.transaction():
            rows = conn.execute(CLAIM, (now, self.batch)).fetchall()
            waiting: dict[str, datetime] = {}  # receiver -> when its failed row is retried
            for row in rows:
                if row["receiver"] in waiting:
                    conn.execute("UPDATE notification_outbox SET next_attempt_at = %s WHERE id = %s",
                                 (waiting[row["receiver"]], row["id"]))
                    result.deferred += 1
                    continue
                self._deliver(conn, row, result, waiting)
        if self.metrics:
            self.update_backlog()
        return result

    def _deliver(self, conn: Connection, row: Mapping[str, Any], result: RoundResult,
                 waiting: dict[str, datetime]) -> None:
        channel = row["channel"]
        try:
            self._send(row)
        except NotifyError as exc:
            now = self.clock()
            attempts = row["attempts"] + 1
            retry_at = (self.backoff.next_attempt(attempts, row["created_at"], now, exc.retry_after)
                        if exc.retryable else None)
            conn.execute(
                """UPDATE notification_outbox SET attempts = %s, last_error = %s, status = %s,
                          next_attempt_at = coalesce(%s, next_attempt_at) WHERE id = %s""",
                (attempts, str(exc)[:1000], "pending" if retry_at else "failed", retry_at, row["id"]),
            )
            if retry_at:
                waiting[row["receiver"]] = retry_at
                result.retried += 1
                # one warning when a receiver starts failing (or fails differently), not one per retry
                key, error = f"{channel}:{row['receiver']}", str(exc)
                level = logging.DEBUG if self.failing.get(key) == error else logging.WARNING
                self.failing[key] = error
                log.log(level, "notification %s: attempt %d failed, next at %s (the receiver's notifications wait "
                        "and are retried; one line until it delivers or fails differently): %s", row["id"],
                        attempts, retry_at.isoformat(timespec="seconds"), exc)
            else:
                result.failed += 1
                log.error("notification %s given up after %d attempts: %s", row["id"], attempts, exc)
            if self.metrics:
                self.metrics.errors.labels(channel).inc()
                if not retry_at:
                    self.metrics.failed.labels(channel).inc()
            return
        if self.failing.pop(f"{channel}:{row['receiver']}", None) is not None:
            log.warning("%s receiver %r delivers again", channel, row["receiver"])
        sent_at = self.clock()
        conn.execute(
            "UPDATE notification_outbox SET status = 'sent', sent_at = %s, attempts = attempts + 1 WHERE id = %s",
            (sent_at, row["id"]),
        )
        result.sent += 1
        if self.metrics:
            self.metrics.sent.labels(channel).inc()
            self.metrics.latency.labels(channel).observe(max(0.0, (sent_at - row["created_at"]).total_seconds()))

    def update_backlog(self) -> dict[str, int]:
        """Pending rows per channel (also set as ``ioc_notify_backlog``)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT channel, count(*) AS n FROM notification_outbox WHERE status = 'pending' GROUP BY channel"
            ).fetchall()
        counts = {r["channel"]: r["n"] for r in rows}
        if self.metrics:
            for channel in set(self.channels) | set(counts):
                self.metrics.backlog.labels(channel).set(counts.get(channel, 0))
        return counts

    # --- Alertmanager re-send ---------------------------------------------------------------

    def resend_alertmanager(self) -> int:
        """Re-send firing and recently resolved alerts to every alertmanager receiver.

        Called every ``alertmanager_resend_s`` (60 s): Alertmanager keeps no history, and firing
        alerts it does not hear of again resolve at their endsAt.  Returns the number of alerts in
        the batch; a receiver that fails is logged and counted, the next round sends again.
        """
        am = self.channels.get("alertmanager")
        receivers = self.oncall.by_channel("alertmanager")
        if not isinstance(am, AlertmanagerChannel) or not receivers:
            return 0
        now = self.clock()
        with translated("alerts to re-send", table="alert"), self._connect() as conn:
            rows = conn.execute(RESEND, {"now": now, "since": now - self.resolved_for}).fetchall()
        alerts = resend_batch(rows, now=now, resolved_within=self.resolved_for, margin=am.margin,
                              url_template=am.url_template)
        quiet = resend_batch([r for r in rows if r.get("drill_run") is None], now=now,
                             resolved_within=self.resolved_for, margin=am.margin, url_template=am.url_template)
        for receiver in receivers:
            # a drill's alerts go only to the receivers that hear of drills
            batch = alerts if self.oncall.hears_drills(receiver.name) else quiet
            try:
                am.post_alerts(receiver, batch)
            except NotifyError as exc:
                log.warning("re-send to Alertmanager failed: %s", exc)
                if self.metrics:
                    self.metrics.errors.labels(am.name).inc()
                continue
            if self.metrics:
                self.metrics.resent.inc(len(batch))
        return len(alerts)

    # --- loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, poll_s: float = 1.0, resend_every_s: float | None = None) -> None:
        """Dispatch until ``stop`` is set; re-send to Alertmanager every ``resend_every_s`` if given."""
        next_resend = self.clock()

        def step() -> bool:
            nonlocal next_resend
            if resend_every_s and self.clock() >= next_resend:
                next_resend = self.clock() + timedelta(seconds=resend_every_s)
                self.resend_alertmanager()
            return self.run_once().claimed >= self.batch

        run_loop(step, stop=stop, wakeup=Wakeup(self.dsn, "ioc_notification_outbox", stop), poll_s=poll_s,
                 what="dispatcher")
