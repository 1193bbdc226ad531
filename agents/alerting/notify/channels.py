"""The four ways a notification leaves the IOC.  Each channel is ``send(receiver, payload, *, key)``:
it returns when the receiver has accepted the message and raises ``NotifyError`` otherwise.

``key`` identifies the delivery (the outbox row id): receivers can drop a repeat with it, since a
crash between sending and recording the send makes the dispatcher send once more.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from streams.core.clock import utcnow
from streams.core.geography import load_province
from streams.core.errors import NotifyError
from agents.alerting.notify import messages
from agents.alerting.notify.ackoffer import AckOffer
from agents.alerting.notify.alertmanager import to_alertmanager
from agents.alerting.notify.oncall import Receiver
from agents.alerting.notify.transport import SIGNATURE_HEADER, json_body, post, signature
from streams.core.settings import Settings

Clock = Callable[[], datetime]
log = logging.getLogger("ioc.notify")


class Channel(Protocol):
    name: str

    def send(self, receiver: Receiver, payload: Mapping[str, Any], *, key: str) -> None: ...


class AlertmanagerChannel:
    """``POST {url}/api/v2/alerts`` with a one-alert array (or a whole re-send batch)."""

    name = "alertmanager"

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        self.timeout = settings.notify_timeout_s
        self.margin = timedelta(seconds=settings.alertmanager_end_margin_s)
        self.url_template = settings.alert_page
        self.clock = clock

    def convert(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return to_alertmanager(payload, now=self.clock(), margin=self.margin, url_template=self.url_template)

    def send(self, receiver: Receiver, payload: Mapping[str, Any], *, key: str) -> None:
        self.post_alerts(receiver, [self.convert(payload)])

    def post_alerts(self, receiver: Receiver, alerts: list[dict[str, Any]]) -> None:
        if alerts:
            post(f"{receiver.address}/api/v2/alerts", json_body(alerts), channel=self.name,
                 receiver=receiver.name, timeout=self.timeout)


class WebhookChannel:
    """The outbox payload as JSON, signed with HMAC-SHA256 when a secret is set."""

    name = "webhook"

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.notify_timeout_s
        self.secret = settings.webhook_secret.get_secret_value()

    def send(self, receiver: Receiver, payload: Mapping[str, Any], *, key: str) -> None:
        body = json_body(payload)
        headers = {"X-IOC-Delivery": key, "X-IOC-Event": str(payload.get("event", ""))}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        post(receiver.address, body, channel=self.name, receiver=receiver.name, timeout=self.timeout, headers=headers)


class TelegramChannel:
    """Bot API ``sendMessage``; the base URL is a setting so tests point it at a local fake.  A firing
    or escalated alert's message has an acknowledge button (``telegram_acks`` hears the presses)."""

    name = "telegram"

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        self.timeout = settings.notify_timeout_s
        self.base = settings.telegram_api_url.rstrip("/")
        self.token = settings.telegram_token.get_secret_value()
        self.url_template = settings.alert_page
        self.ack = AckOffer(settings, clock)

    def send(self, receiver: Receiver, payload: Mapping[str, Any], *, key: str) -> None:
        if not self.token:
            raise NotifyError("no bot token (set IOC_TELEGRAM_TOKEN)", channel=self.name, receiver=receiver.name)
        chat: int | str = int(receiver.address) if receiver.address.lstrip("-").isdigit() else receiver.address
        message = {"chat_id": chat, "text": messages.telegram_text(payload, self.url_template),
                   "disable_web_page_preview": True}
        if self.ack.wanted(payload):
            message["reply_markup"] = self.ack.button(payload["alert"]["id"], receiver.address)
        body = json_body(message)
        post(f"{self.base}/bot{self.token}/sendMessage", body, channel=self.name, receiver=receiver.name,
             timeout=self.timeout, shown_url=f"{self.base}/bot<token>/sendMessage")


class EmailChannel:
    """SMTP with smtplib: subject and body in Vietnamese, the English summary below.  A firing or
    escalated alert goes to each recipient in a message of their own, with their acknowledge link.  A
    payload with a ``message`` (subject, body: a scheduled report's) is sent as it is written."""

    name = "email"

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        self.s = settings
        self.url_template = settings.alert_page
        self.ack = AckOffer(settings, clock)
        self.province = load_province(settings.province_file).name

    def message(self, receiver: Receiver, payload: Mapping[str, Any], key: str,
                to: list[str] | None = None) -> EmailMessage:
        """The e-mail to ``to`` (default: every recipient); to one recipient, with their acknowledge
        link when the alert asks for one."""
        to = to or receiver.recipients
        if "message" in payload:  # a message written by its sender (a scheduled report), not an alert's
            subject, body = str(payload["message"]["subject"]), str(payload["message"]["body"])
        else:
            ack_url, ack_until = (self.ack.email_link(payload["alert"]["id"], receiver.name, to[0])
                                  if len(to) == 1 and self.ack.wanted(payload) else ("", None))
            subject, body = messages.email_message(payload, self.url_template, ack_url=ack_url, ack_until=ack_until,
                                                   province=self.province)
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject, self.s.smtp_from, ", ".join(to)
        msg["Date"] = format_datetime(utcnow())
        msg["Message-ID"] = make_msgid("ioc-" + key.replace(" ", ""))
        msg["X-IOC-Delivery"] = key
        msg.set_content(body, charset="utf-8")
        return msg

    def messages(self, receiver: Receiver, payload: Mapping[str, Any], key: str) -> list[EmailMessage]:
        if self.ack.wanted(payload):
            return [self.message(receiver, payload, key, [to]) for to in receiver.recipients]
        return [self.message(receiver, payload, key)]

    def send(self, receiver: Receiver, payload: Mapping[str, Any], *, key: str) -> None:
        s, msgs = self.s, self.messages(receiver, payload, key)
        where = f"{s.smtp_host}:{s.smtp_port}"
        try:
            cls = smtplib.SMTP_SSL if s.smtp_tls == "ssl" else smtplib.SMTP
            kwargs = {"context": ssl.create_default_context()} if s.smtp_tls == "ssl" else {}
            with cls(s.smtp_host, s.smtp_port, timeout=s.notify_timeout_s, **kwargs) as smtp:
                if s.smtp_tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
                refused: dict = {}
                for msg in msgs:  # as with one message to several: refused only when every recipient is
                    try:
                        smtp.send_message(msg)
                    except smtplib.SMTPRecipientsRefused as exc:
                        refused.update(exc.recipients)
                if refused and len(refused) == len(receiver.recipients):
                    raise smtplib.SMTPRecipientsRefused(refused)
                if refused:
                    log.warning("email receiver %r: %s refused %s; the others have it", receiver.name, where, refused)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            raise NotifyError(f"{where} refused recipients {exc.recipients}", channel=self.name,
                              receiver=receiver.name, retryable=any(c < 500 for c in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(f"{where} answered {exc.smtp_code} {exc.smtp_error!r}", channel=self.name,
                              receiver=receiver.name) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"SMTP {where} failed: {type(exc).__name__}: {exc}", channel=self.name,
                              receiver=receiver.name) from exc


def build_channels(settings: Settings, clock: Clock = utcnow) -> dict[str, Channel]:
    from agents.alerting.notify.zalo import ZaloOaChannel, ZaloZnsChannel  # zalo.py builds on this module

    return {c.name: c for c in (AlertmanagerChannel(settings, clock), WebhookChannel(settings),
                                EmailChannel(settings, clock), TelegramChannel(settings, clock),
                                ZaloZnsChannel(settings), ZaloOaChannel(settings))}
