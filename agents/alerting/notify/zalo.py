"""Zalo, the messaging app on-call staff in Vietnam carry: two channels of the Zalo platform's HTTP API.

``zalo`` — a ZNS (Zalo Notification Service) template message to a phone number::

    POST {IOC_ZALO_ZNS_URL}                      (https://business.openapi.zalo.me/message/template)
    access_token: <the Official Account's access token>
    {"phone": "84912345678", "template_id": "<IOC_ZALO_TEMPLATE_ID>",
     "template_data": {"alert_id": …, "status": …, "severity": …, "summary": …, "started": …, "link": …},
     "tracking_id": "<the delivery key>"}

  ZNS sends only templates Zalo has approved; the template registered for the IOC must have the
  parameters above (docs/operations.md "Zalo").  ``tracking_id`` is the outbox delivery key, so a
  repeat after a crash can be told apart on the Zalo side.

``zalo-oa`` — a text message from the Official Account to a Zalo user who follows it::

    POST {IOC_ZALO_OA_URL}                       (https://openapi.zalo.me/v3.0/oa/message/cs)
    access_token: <the same token>
    {"recipient": {"user_id": "<follower id>"}, "message": {"text": "…"}}

Both answer HTTP 200 with ``{"error": 0, "message": "Success", "data": {…}}`` on success and a
negative ``error`` otherwise; an invalid or expired access token (-124, -216) says to renew it
(Official Account access tokens last about a day; renew with the refresh token, docs/operations.md).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agents.alerting.notify import messages
from agents.alerting.notify.alertmanager import page_url
from agents.alerting.notify.oncall import Receiver
from agents.alerting.notify.transport import json_body, post
from streams.core.errors import NotifyError
from streams.core.settings import Settings

TOKEN_ERRORS = {-124, -216}  # access token invalid or expired
OA_TEXT_MAX = 2000
PARAM_MAX = 100  # a template parameter is cut to this many characters

def _cut(text: str, limit: int = PARAM_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def template_data(payload: Mapping[str, Any], url_template: str) -> dict[str, str]:
    """The ZNS template's parameters for an outbox payload (Vietnamese)."""
    a = payload["alert"]
    vi, _ = messages.event_titles(payload)
    summary = (a.get("summary") or {}).get("vi") or a["rule"]
    return {"alert_id": str(a["id"]), "status": _cut(vi, 30),
            "severity": messages.SEVERITY_VI.get(a["severity"], a["severity"]), "summary": _cut(summary),
            "started": messages.vn_time(a.get("fired_at") or a.get("started_at")),
            "link": page_url(url_template, a["id"])}


class _ZaloChannel:
    name = ""

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.notify_timeout_s
        self.token = settings.zalo_access_token.get_secret_value()
        self.url_template = settings.alert_page

    def _post(self, url: str, receiver: Receiver, body: Mapping[str, Any]) -> dict[str, Any]:
        if not self.token:
            raise NotifyError("no access token (set IOC_ZALO_ACCESS_TOKEN)", channel=self.name, receiver=receiver.name)
        _, raw = post(url, json_body(body), channel=self.name, receiver=receiver.name, timeout=self.timeout,
                      headers={"access_token": self.token})
        try:
            answer = json.loads(raw or b"{}")
            code = int(answer.get("error", 0))
        except (ValueError, TypeError, AttributeError):
            raise NotifyError(f"unreadable answer from {url}: {raw[:200]!r}", channel=self.name,
                              receiver=receiver.name) from None
        if code == 0:
            return answer
        text = str(answer.get("message", ""))[:200]
        if code in TOKEN_ERRORS:
            raise NotifyError(f"Zalo refused the access token ({code} {text}): renew IOC_ZALO_ACCESS_TOKEN",
                              channel=self.name, receiver=receiver.name)
        raise NotifyError(f"Zalo error {code}: {text}", channel=self.name, receiver=receiver.name)


class ZaloZnsChannel(_ZaloChannel):
    """A ZNS template message to the receiver's phone number."""

    name = "zalo"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.url = settings.zalo_zns_url
        self.template_id = settings.zalo_template_id

    def send(self, receiver: Receiver, payload: Mapping[str, Any], *, key: str) -> None:
        if not self.template_id:
            raise NotifyError("no ZNS template (set IOC_ZALO_TEMPLATE_ID)", channel=self.name, receiver=receiver.name)
        self._post(self.url, receiver, {"phone": receiver.address, "template_id": self.template_id,
                                        "template_data": template_data(payload, self.url_template),
                                        "tracking_id": key[:48]})


class ZaloOaChannel(_ZaloChannel):
    """A text message from the Official Account to a follower (the same text as Telegram's)."""

    name = "zalo-oa"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.url = settings.zalo_oa_url

    def send(self, receiver: Receiver, payload: Mapping[str, Any], *, key: str) -> None:
        text = messages.telegram_text(payload, self.url_template)
        if len(text) > OA_TEXT_MAX:
            text = text[: OA_TEXT_MAX - 1] + "…"
        self._post(self.url, receiver, {"recipient": {"user_id": receiver.address}, "message": {"text": text}})
