"""Each channel against a local fake of its receiver (127.0.0.1 only): webhook, Telegram, SMTP."""
from __future__ import annotations

import json

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from agents.alerting.payload import build_payload
from streams.core.errors import NotifyError
from agents.alerting.notify.channels import AlertmanagerChannel, EmailChannel, TelegramChannel, WebhookChannel
from agents.alerting.notify.oncall import Receiver
from agents.alerting.notify.testing import LocalReceiver
from agents.alerting.notify.transport import signature
from streams.core.settings import Settings
from tests.notify.conftest import alert_row
from tests.support import free_port

PAYLOAD = build_payload(alert_row(7), "firing")


def settings(**kw) -> Settings:
    return Settings(notify_timeout_s=3, **kw)


# --- webhook ----------------------------------------------------------------------------------

def test_webhook_posts_the_payload_signed():
    with LocalReceiver() as rx:
        ch = WebhookChannel(settings(webhook_secret="s3cret"))
        ch.send(Receiver("hook", "webhook", rx.url("/ioc")), PAYLOAD, key="ioc-notification-1")
        (req,) = rx.wait_for(1)
    assert req.path == "/ioc" and req.json() == PAYLOAD
    assert req.headers["x-ioc-delivery"] == "ioc-notification-1"
    assert req.headers["x-ioc-event"] == "firing"
    assert req.headers["x-ioc-signature-256"] == signature("s3cret", req.body)


def test_webhook_unsigned_without_a_secret():
    with LocalReceiver() as rx:
        WebhookChannel(settings()).send(Receiver("hook", "webhook", rx.url("/")), PAYLOAD, key="k")
        assert "x-ioc-signature-256" not in rx.wait_for(1)[0].headers


def test_receiver_down_is_a_retryable_error_naming_channel_and_receiver():
    url = f"http://127.0.0.1:{free_port()}/ioc"
    with pytest.raises(NotifyError) as err:
        WebhookChannel(settings()).send(Receiver("noc-webhook", "webhook", url), PAYLOAD, key="k")
    e = err.value
    assert (e.channel, e.receiver, e.retryable) == ("webhook", "noc-webhook", True)
    assert f"cannot reach {url}" in str(e) and "webhook receiver 'noc-webhook'" in str(e)


@pytest.mark.parametrize("status, retryable", [(400, False), (422, False), (404, True), (500, True), (503, True)])
def test_http_status_decides_whether_to_retry(status, retryable):
    with LocalReceiver(respond=lambda req: (status, b'{"error": "nope"}')) as rx:
        with pytest.raises(NotifyError) as err:
            WebhookChannel(settings()).send(Receiver("hook", "webhook", rx.url("/")), PAYLOAD, key="k")
    assert err.value.retryable is retryable and f"HTTP {status}" in str(err.value) and "nope" in str(err.value)


def test_slow_receiver_times_out():
    import time

    with LocalReceiver(respond=lambda req: (time.sleep(1.5), (200, b"{}"))[1]) as rx:
        with pytest.raises(NotifyError, match="no answer .* within 0.5 s"):
            WebhookChannel(Settings(notify_timeout_s=0.5)).send(Receiver("h", "webhook", rx.url("/")), PAYLOAD, key="k")


# --- Alertmanager (the wire format; the real Alertmanager is in test_alertmanager_live) ---------

def test_alertmanager_channel_posts_a_one_alert_array():
    with LocalReceiver() as rx:
        AlertmanagerChannel(settings()).send(Receiver("am", "alertmanager", rx.url("")), PAYLOAD, key="k")
        (req,) = rx.wait_for(1)
    assert req.path == "/api/v2/alerts"
    (alert,) = req.json()
    assert alert["labels"]["alertname"] == "service_unavailable" and alert["annotations"]["alert_id"] == "7"


# --- Telegram ---------------------------------------------------------------------------------

def test_telegram_send_message_to_a_fake_bot_api():
    with LocalReceiver(respond=lambda req: (200, b'{"ok": true, "result": {"message_id": 1}}')) as api:
        ch = TelegramChannel(settings(telegram_api_url=api.url(""), telegram_token="123:ABC"))
        ch.send(Receiver("duty", "telegram", "-1001234"), PAYLOAD, key="k")
        (req,) = api.wait_for(1)
    assert req.path == "/bot123:ABC/sendMessage"
    body = req.json()
    assert body["chat_id"] == -1001234 and body["disable_web_page_preview"] is True
    assert body["text"].startswith("🔴 CẢNH BÁO · Nghiêm trọng\neoffice: mức sẵn sàng 82%")


def test_telegram_flood_control_gives_retry_after_and_hides_the_token():
    answer = json.dumps({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 17",
                         "parameters": {"retry_after": 17}}).encode()
    with LocalReceiver(respond=lambda req: (429, answer)) as api:
        ch = TelegramChannel(settings(telegram_api_url=api.url(""), telegram_token="123:SECRET"))
        with pytest.raises(NotifyError) as err:
            ch.send(Receiver("duty", "telegram", "@ioc_kg_duty"), PAYLOAD, key="k")
        assert api.wait_for(1)[0].json()["chat_id"] == "@ioc_kg_duty"
    assert err.value.retry_after == 17 and err.value.retryable
    assert "SECRET" not in str(err.value) and "/bot<token>/sendMessage" in str(err.value)


def test_telegram_without_a_token_says_which_setting():
    with pytest.raises(NotifyError, match="IOC_TELEGRAM_TOKEN"):
        TelegramChannel(settings()).send(Receiver("duty", "telegram", "1"), PAYLOAD, key="k")


# --- e-mail -----------------------------------------------------------------------------------

class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's naming)
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        if address.startswith("full@"):
            return "452 4.2.2 mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"pw")

    ctl = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                     auth_require_tls=False)
    ctl.start()
    yield ctl, inbox, logins
    ctl.stop()


def test_email_over_smtp(smtp_server):
    ctl, inbox, logins = smtp_server
    s = settings(smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_tls="none", smtp_user="ioc", smtp_password="pw",
                 smtp_from="IOC <ioc@kiengiang.gov.vn>")
    EmailChannel(s).send(Receiver("duty", "email", "a@kiengiang.gov.vn, b@kiengiang.gov.vn"), PAYLOAD,
                         key="ioc-notification-9")
    (env,) = inbox.envelopes
    assert logins == [(b"ioc", b"pw")]
    assert env.mail_from == "ioc@kiengiang.gov.vn"
    assert env.rcpt_tos == ["a@kiengiang.gov.vn", "b@kiengiang.gov.vn"]
    from email import message_from_bytes, policy

    msg = message_from_bytes(env.original_content, policy=policy.default)
    assert msg["Subject"].startswith("[IOC Kiên Giang][CẢNH BÁO][Nghiêm trọng] eoffice")
    assert msg["X-IOC-Delivery"] == "ioc-notification-9"
    body = msg.get_content()
    assert "Đối tượng: eoffice" in body and "English: [FIRING]" in body


@pytest.mark.parametrize("to, retryable", [("nobody@kiengiang.gov.vn", False), ("full@kiengiang.gov.vn", True)])
def test_email_refused_recipient(smtp_server, to, retryable):
    ctl, inbox, _ = smtp_server
    with pytest.raises(NotifyError, match="refused recipients") as err:
        EmailChannel(settings(smtp_port=ctl.port, smtp_tls="none")).send(Receiver("duty", "email", to), PAYLOAD, key="k")
    assert err.value.retryable is retryable and not inbox.envelopes


def test_email_server_down_is_retryable():
    down = settings(smtp_port=free_port(), smtp_tls="none")
    with pytest.raises(NotifyError, match="email receiver 'duty': SMTP 127.0.0.1:.* failed: ConnectionRefusedError") as err:
        EmailChannel(down).send(Receiver("duty", "email", "a@kiengiang.gov.vn"), PAYLOAD, key="k")
    assert err.value.retryable


def test_email_starttls_refused_by_a_plain_server(smtp_server):
    ctl, inbox, _ = smtp_server
    with pytest.raises(NotifyError, match="STARTTLS") as err:
        EmailChannel(settings(smtp_port=ctl.port)).send(Receiver("d", "email", "a@kiengiang.gov.vn"), PAYLOAD, key="k")
    assert not inbox.envelopes and err.value.retryable
