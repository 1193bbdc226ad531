"""Each channel against a local fake of its receiver (127.0.0.1 only): webhook, Telegram, SMTP."""
from __future__ import annotations

import json
import re

import pytest

from agents.alerting.notify import acklinks
from agents.alerting.payload import build_payload
from streams.core.clock import utcnow
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
    return Settings(notify_timeout_s=3, ack_link_key="k" * 40, **kw)


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
    ((button,),) = body["reply_markup"]["inline_keyboard"]
    assert button["text"] == "✅ Tiếp nhận / Acknowledge" and len(button["callback_data"].encode()) <= 64
    assert acklinks.read_button(b"k" * 40, button["callback_data"], ["-1001234"], now=utcnow()) == 7


def test_telegram_message_of_a_resolved_alert_has_no_button():
    resolved = build_payload(alert_row(7, state="resolved", resolved_at=alert_row()["fired_at"]), "resolved")
    with LocalReceiver(respond=lambda req: (200, b'{"ok": true, "result": {"message_id": 1}}')) as api:
        TelegramChannel(settings(telegram_api_url=api.url(""), telegram_token="123:ABC")).send(
            Receiver("duty", "telegram", "-1001234"), resolved, key="k")
        assert "reply_markup" not in api.wait_for(1)[0].json()


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

def _mail(envelope):
    from email import message_from_bytes, policy

    return message_from_bytes(envelope.original_content, policy=policy.default)


def test_email_over_smtp_one_message_each_with_its_own_acknowledge_link(smtp_server):
    ctl, inbox, logins = smtp_server
    s = settings(smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_tls="none", smtp_user="ioc", smtp_password="pw",
                 smtp_from="IOC <ioc@kiengiang.gov.vn>", alert_page_url="https://ioc.kiengiang.gov.vn/alerts/{id}")
    EmailChannel(s).send(Receiver("duty", "email", "a@kiengiang.gov.vn, b@kiengiang.gov.vn"), PAYLOAD,
                         key="ioc-notification-9")
    assert logins == [(b"ioc", b"pw")]  # one session
    assert [(e.mail_from, e.rcpt_tos) for e in inbox.envelopes] == [
        ("ioc@kiengiang.gov.vn", ["a@kiengiang.gov.vn"]), ("ioc@kiengiang.gov.vn", ["b@kiengiang.gov.vn"])]
    links = []
    for env, to in zip(inbox.envelopes, ["a@kiengiang.gov.vn", "b@kiengiang.gov.vn"]):
        msg = _mail(env)
        assert msg["To"] == to
        assert msg["Subject"].startswith("[IOC An Giang][CẢNH BÁO][Nghiêm trọng] eoffice")
        assert msg["X-IOC-Delivery"] == "ioc-notification-9"
        body = msg.get_content()
        assert "Đối tượng: eoffice" in body and "English: [FIRING]" in body
        link = re.search(r"https://ioc\.kiengiang\.gov\.vn/ack/\S+", body)[0]
        assert body.index("Tiếp nhận cảnh báo") < body.index("Đối tượng") < body.index(f"Acknowledge (no sign-in; works "
                                                                                         f"once, until")
        assert body.count(link) == 2  # below the summary, and in the English part
        links.append(link)
    assert links[0] != links[1]


def test_email_of_a_resolved_alert_goes_once_to_everyone_without_a_link(smtp_server):
    ctl, inbox, _ = smtp_server
    resolved = build_payload(alert_row(7, state="resolved", resolved_at=alert_row()["fired_at"]), "resolved")
    EmailChannel(settings(smtp_port=ctl.port, smtp_tls="none")).send(
        Receiver("duty", "email", "a@kiengiang.gov.vn, b@kiengiang.gov.vn"), resolved, key="k")
    (env,) = inbox.envelopes
    assert env.rcpt_tos == ["a@kiengiang.gov.vn", "b@kiengiang.gov.vn"]
    assert "/ack/" not in _mail(env).get_content()


def test_email_one_recipient_refused_the_others_have_it(smtp_server, caplog):
    ctl, inbox, _ = smtp_server
    EmailChannel(settings(smtp_port=ctl.port, smtp_tls="none")).send(
        Receiver("duty", "email", "nobody@kiengiang.gov.vn, a@kiengiang.gov.vn"), PAYLOAD, key="k")
    assert [e.rcpt_tos for e in inbox.envelopes] == [["a@kiengiang.gov.vn"]]
    assert "refused" in caplog.text and "nobody@kiengiang.gov.vn" in caplog.text


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


def test_a_report_mail_goes_out_as_written_through_the_outbox(ndb, notify_dsn, smtp_server):
    """A scheduled report's e-mail (a row without an alert, its message written by the report) is sent by
    the same dispatcher as the alerts, subject and body as they are."""
    from email import message_from_bytes, policy

    from agents.indicators.report_archive import ReportArchive
    from agents.alerting.notify.channels import build_channels
    from agents.alerting.notify.dispatcher import Dispatcher
    from agents.alerting.notify.oncall import parse_oncall
    from streams.core.settings import Settings

    ctl, inbox, _ = smtp_server
    oncall = parse_oncall({"receivers": {"lanh-dao-bao-cao": {"channel": "email", "to": ["vanphong@ubnd.gov.vn"]}},
                           "levels": [{"after": "0s", "receivers": ["lanh-dao-bao-cao"]}]})
    subject = "[IOC] Báo cáo vận hành tháng · Tháng 11/2026"
    row = ReportArchive(notify_dsn).mail("lanh-dao-bao-cao", subject, f"{subject}\n\nhttp://ioc/console/reports/file?id=7\n",
                                         [7])
    settings = Settings(database_url=notify_dsn, smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_tls="none",
                        notify_timeout_s=5)
    done = Dispatcher(notify_dsn, oncall, build_channels(settings)).run_once()
    assert done.sent >= 1
    mail = next(message_from_bytes(e.original_content, policy=policy.default) for e in inbox.envelopes
                if e.rcpt_tos == ["vanphong@ubnd.gov.vn"])
    assert mail["Subject"] == subject and "console/reports/file?id=7" in mail.get_content()
    assert ndb.execute("SELECT status FROM notification_outbox WHERE id = %s", (row,)).fetchone()["status"] == "sent"
