"""What a notification offers for acknowledging its alert: the e-mail's link and the Telegram
message's button (``acklinks``), signed with the ack link key, loaded on first use.

Only the notifications that ask someone to act carry one: a firing or escalated alert that is still
firing; none when ``IOC_ACK_LINK_TTL_S`` is 0.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from agents.alerting.notify import acklinks
from streams.core.clock import utcnow
from streams.core.keys import ack_link_key
from streams.core.settings import Settings

ACK_EVENTS = ("firing", "escalated")
BUTTON_TEXT = "✅ Tiếp nhận / Acknowledge"


class AckOffer:
    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.ttl_s = settings.ack_link_ttl_s
        self.alert_page = settings.alert_page
        self.clock = clock
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = ack_link_key(self.settings)
        return self._key

    def wanted(self, payload: Mapping[str, Any]) -> bool:
        return (self.ttl_s > 0 and payload.get("event") in ACK_EVENTS
                and payload["alert"].get("state", "firing") == "firing")

    def email_link(self, alert_id: int, receiver: str, recipient: str) -> tuple[str, str]:
        """(URL of the acknowledge page, ISO time until which it works) for one recipient."""
        now = self.clock()
        token = acklinks.make_token(self.key, alert_id, receiver, recipient, now=now, ttl_s=self.ttl_s)
        until = datetime.fromtimestamp(acklinks.expiry(now, self.ttl_s), timezone.utc)
        return acklinks.ack_url(self.alert_page, token), until.isoformat()

    def button(self, alert_id: int, chat: int | str) -> dict[str, Any]:
        """The ``reply_markup`` of a Telegram message to ``chat``: one acknowledge button."""
        data = acklinks.button_data(self.key, alert_id, chat, now=self.clock(), ttl_s=self.ttl_s)
        return {"inline_keyboard": [[{"text": BUTTON_TEXT, "callback_data": data}]]}
