"""Presses of the acknowledge button of Telegram messages, heard by ``ioc notify run``.

    getUpdates    long polling (``IOC_TELEGRAM_POLL_S``), callback queries only, from ``offset``
    each press    the button's signature is checked against the chat it was pressed in
                  (``acklinks.read_button``); a good one acknowledges the alert as
                  ``telegram:<username or id>`` (``AckStore``: audited in alert_event); the presser is
                  told what happened (``answerCallbackQuery``: done, already acknowledged by whom,
                  expired …) and the button is taken off the message (``editMessageReplyMarkup``) —
                  except for a forged press, whose message is none of ours to change
    offset        the last update's id + 1: Telegram forgets what an offset confirms, so a press is
                  handled once; one met while the database is away is not confirmed, and comes again

One notifier polls at a time (a PostgreSQL advisory lock, as for the alert engine): Telegram answers a
second concurrent getUpdates with 409.  Errors (the Bot API away, a bad token, a webhook set on the bot)
are retried after 1 s doubling to 60 s, logged once until they change.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from agents.alerting.notify.ackoffer import AckOffer
from agents.alerting.notify.acklinks import LinkRefused, Outcome, message_chats, read_button
from agents.alerting.notify.ackstore import AckStore
from agents.alerting.notify.oncall import OnCall
from agents.alerting.notify.transport import json_body, post
from streams.core.backoff import Backoff
from streams.core.clock import utcnow
from streams.core.errors import IOCError, NotifyError, SinkUnavailable
from streams.core.settings import Settings
from streams.db.connect import Connection, connect
from streams.db.errors import translated

log = logging.getLogger("ioc.notify")

POLL_LOCK = 7_402_180_003  # the alert engine holds 7_402_180_002, migrations 7_402_180_001
LOCK_RETRY_S = 10.0
ANSWER_MAX = 200  # characters of answerCallbackQuery's text
#: what the presser reads, Vietnamese then English
ANSWERS = {
    "done": "✅ Đã tiếp nhận cảnh báo #{id}. / Acknowledged alert #{id}.",
    "acknowledged": "Cảnh báo #{id} đã được {by} tiếp nhận. / Alert #{id} was already acknowledged by {by}.",
    "closed": "Cảnh báo #{id} đã kết thúc. / Alert #{id} is already over.",
    "missing": "Không còn cảnh báo #{id}. / Alert #{id} no longer exists.",
    "expired": "Nút đã hết hạn: tiếp nhận trên bảng điều khiển. / This button has expired: acknowledge in "
               "the console.",
    "invalid": "Nút không hợp lệ ở nhóm này. / This button is not valid here.",
}


def answer_text(outcome: Outcome) -> str:
    text = ANSWERS.get(outcome.kind, ANSWERS["invalid"]).format(id=outcome.alert_id, by=outcome.by or "?")
    return text if len(text) <= ANSWER_MAX else text[: ANSWER_MAX - 1] + "…"


def presser(user: Mapping[str, Any]) -> str:
    """``telegram:<username>``, or ``telegram:<id>`` for a user without one."""
    return f"telegram:{user.get('username') or user.get('id')}"


class PollLock:
    """The advisory lock that lets one notifier poll; held as long as its connection lives."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: Connection | None = None
        self.have = False

    def held(self) -> bool:
        try:
            with translated("Telegram poll lock"):
                if self.conn is None or self.conn.closed:
                    self.conn = connect(self.dsn, what="Telegram poll lock", role="notify", autocommit=True)
                    self.have = False
                if self.have:
                    self.conn.execute("SELECT 1")  # a lost connection lost the lock too
                else:
                    self.have = bool(self.conn.execute("SELECT pg_try_advisory_lock(%s)", (POLL_LOCK,)).fetchone()[0])
        except SinkUnavailable as exc:
            log.debug("Telegram poll lock: %s", exc)
            self.close()
        return self.have

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn, self.have = None, False


class TelegramAcks:
    def __init__(self, settings: Settings, store: AckStore, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.base = settings.telegram_api_url.rstrip("/")
        self.token = settings.telegram_token.get_secret_value()
        self.poll_s = settings.telegram_poll_s
        self.timeout = settings.notify_timeout_s
        self.offer = AckOffer(settings, clock)
        self.store = store
        self.clock = clock
        self.lock = PollLock(store.dsn)
        self.offset: int | None = None
        self.confirmed: int | None = None  # the offset Telegram last heard
        self.backoff = Backoff(base_s=1, max_s=60)

    @classmethod
    def from_settings(cls, settings: Settings, oncall: OnCall) -> TelegramAcks | None:
        """The poller, or None: no bot token, no Telegram receiver, no buttons, or polling off here."""
        if not (settings.telegram_token.get_secret_value() and oncall.by_channel("telegram")
                and settings.ack_link_ttl_s > 0 and settings.telegram_poll_s > 0):
            return None
        return cls(settings, AckStore(settings.dsn))

    def call(self, method: str, body: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        """One Bot API method; its ``result``, or ``NotifyError`` (the token never in the message)."""
        _, answer = post(f"{self.base}/bot{self.token}/{method}", json_body(body), channel="telegram",
                         receiver="bot", timeout=timeout or self.timeout, shown_url=f"{self.base}/bot<token>/{method}")
        try:
            doc = json.loads(answer)
        except ValueError:
            raise NotifyError(f"{method}: the Bot API answered no JSON", channel="telegram", receiver="bot") from None
        if not isinstance(doc, dict) or not doc.get("ok"):
            raise NotifyError(f"{method}: {str(doc)[:300]}", channel="telegram", receiver="bot")
        return doc.get("result")

    def poll_once(self) -> int:
        """One getUpdates (waiting up to ``poll_s`` for a press) and the presses it brought."""
        body: dict[str, Any] = {"timeout": int(self.poll_s), "allowed_updates": ["callback_query"]}
        if self.offset is not None:
            body["offset"] = self.offset
        updates = self.call("getUpdates", body, timeout=self.poll_s + self.timeout)
        self.confirmed = self.offset
        for update in updates if isinstance(updates, list) else []:
            if isinstance(update.get("callback_query"), dict):
                try:
                    self.handle(update["callback_query"])
                except SinkUnavailable:  # not confirmed: the press comes again once the database is back
                    raise
                except IOCError as exc:
                    log.error("Telegram update %s not handled: %s", update.get("update_id"), exc)
            self.offset = int(update["update_id"]) + 1
        return len(updates or [])

    def handle(self, press: Mapping[str, Any]) -> Outcome:
        message = press.get("message") if isinstance(press.get("message"), dict) else {}
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        user = press.get("from") if isinstance(press.get("from"), dict) else {}
        try:
            alert_id = read_button(self.offer.key, press.get("data"), message_chats(chat), now=self.clock())
        except LinkRefused as exc:
            outcome = Outcome(exc.kind, exc.alert_id)
        else:
            _, outcome = self.store.acknowledge(alert_id, presser(user), via="telegram", detail={
                "chat": chat.get("id"), "user_id": user.get("id"), "message_id": message.get("message_id")})
        log.info("Telegram button of alert %s pressed by %s in chat %s: %s", outcome.alert_id, presser(user),
                 chat.get("id"), outcome.kind)
        self._tell(press, outcome)
        if outcome.kind != "invalid" and chat.get("id") is not None and message.get("message_id") is not None:
            self._best_effort("editMessageReplyMarkup", {"chat_id": chat["id"], "message_id": message["message_id"],
                                                         "reply_markup": {"inline_keyboard": []}})
        return outcome

    def _tell(self, press: Mapping[str, Any], outcome: Outcome) -> None:
        if press.get("id") is not None:
            self._best_effort("answerCallbackQuery", {"callback_query_id": press["id"], "text": answer_text(outcome),
                                                      "show_alert": outcome.kind != "done"})

    def _best_effort(self, method: str, body: Mapping[str, Any]) -> None:
        """An answer or an edit that may fail (a press answered late, a message already edited)."""
        try:
            self.call(method, body)
        except NotifyError as exc:
            log.info("Telegram %s failed: %s", method, exc)

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, while this notifier holds the poll lock."""
        failures, failing = 0, ""
        log.info("Telegram: listening for acknowledge buttons (getUpdates)")
        try:
            while not stop.is_set():
                if not self.lock.held():  # another notifier polls, or the database is away
                    stop.wait(LOCK_RETRY_S)
                    continue
                try:
                    self.poll_once()
                except (NotifyError, SinkUnavailable) as exc:
                    failures += 1
                    wait = max(self.backoff.seconds(failures), getattr(exc, "retry_after", None) or 0)
                    if str(exc) != failing:
                        log.warning("Telegram acknowledge buttons: %s; retrying (one line until it changes)", exc)
                        failing = str(exc)
                    stop.wait(wait)
                    continue
                if failing:
                    log.warning("Telegram acknowledge buttons work again")
                failures, failing = 0, ""
            if self.offset is not None and self.offset != self.confirmed:  # what was handled is not sent again
                self._best_effort("getUpdates", {"offset": self.offset, "timeout": 0, "limit": 1,
                                                 "allowed_updates": ["callback_query"]})
        finally:
            self.lock.close()
