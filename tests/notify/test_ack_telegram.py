"""Acknowledging from Telegram, end to end against a fake Bot API (tests/notify/fake_telegram.py):
the notifier (``run_notifier``, as ``ioc notify run``) sends the alert with its button, hears the
press through getUpdates, acknowledges as the Telegram user, answers the press and takes the button
off the message; a forged button, one pressed in another chat, an expired one and a second press
are refused and say why; each press is handled once; a Bot API that fails is polled again; one
notifier polls at a time."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from agents.alerting.notify import acklinks
from agents.alerting.notify.ackstore import AckStore
from agents.alerting.notify.runner import run_notifier
from agents.alerting.notify.telegram_acks import PollLock, TelegramAcks
from agents.alerting.notify.oncall import load_oncall
from agents.alerting.store import AlertStore
from streams.core.backoff import Backoff
from streams.core.settings import Settings
from tests.notify.conftest import fire
from tests.notify.fake_telegram import FakeBotApi
from tests.support import wait_for

pytestmark = pytest.mark.integration

TOKEN = "123456:TEST-TOKEN"
CHAT = -1001000000001
USER = {"id": 4242, "username": "nguyenvana"}


@pytest.fixture
def bot():
    with FakeBotApi(TOKEN, max_wait_s=0.5) as api:
        yield api


@pytest.fixture
def settings(notify_dsn, bot, tmp_path) -> Settings:
    oncall = tmp_path / "oncall.yaml"
    oncall.write_text(yaml.safe_dump({"receivers": {"truc-ban": {"channel": "telegram", "chat_id": str(CHAT)}},
                                      "levels": [{"after": "0s", "receivers": ["truc-ban"]}]}))
    return Settings(database_url=notify_dsn, oncall_file=oncall, run_dir=tmp_path, telegram_api_url=bot.url(""),
                    telegram_token=TOKEN, telegram_poll_s=1, notify_poll_s=0.1, notify_timeout_s=5,
                    notify_metrics_port=0, metrics_port=0)


@contextmanager
def notifier(settings: Settings) -> Iterator[None]:
    """``run_notifier`` in a thread until the block ends; it must then stop cleanly."""
    stop, result = threading.Event(), {}
    thread = threading.Thread(target=lambda: result.update(rc=run_notifier(settings, stop)), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive() and result == {"rc": 0}


def sent_button(bot: FakeBotApi, alert_id: int) -> tuple[int, str]:
    """(message_id, callback_data) of the message about ``alert_id`` the notifier sent."""
    def find():
        for i, body in enumerate(bot.bodies("sendMessage")):
            if f"/alerts/{alert_id}" in body["text"]:
                return i + 1, body["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        return None
    return wait_for(find, timeout=15, interval=0.05, what=f"the message of alert {alert_id}")


def answers(bot: FakeBotApi, query_id: str) -> list[dict]:
    return [b for b in bot.bodies("answerCallbackQuery") if b["callback_query_id"] == query_id]


def answered(bot: FakeBotApi, query_id: str) -> dict:
    return wait_for(lambda: answers(bot, query_id), timeout=15, interval=0.05, what=f"the answer to {query_id}")[0]


def acknowledged(ndb, alert_id: int) -> tuple[str | None, list[dict]]:
    by = ndb.execute("SELECT acknowledged_by FROM alert WHERE id = %s", (alert_id,)).fetchone()["acknowledged_by"]
    events = ndb.execute("SELECT actor, detail FROM alert_event WHERE alert_id = %s AND kind = 'acknowledged'",
                         (alert_id,)).fetchall()
    return by, events


def test_acknowledge_with_the_button_of_the_message(settings, bot, notify_dsn, ndb):
    with notifier(settings):
        alert_id = fire(notify_dsn, "ack-tg", [("telegram", "truc-ban")])
        message_id, data = sent_button(bot, alert_id)
        assert len(data.encode()) <= 64 and bot.bodies("sendMessage")[0]["chat_id"] == CHAT

        query = bot.press(data, chat_id=CHAT, message_id=message_id, user=USER)
        answer = answered(bot, query)
        assert answer["text"].startswith(f"✅ Đã tiếp nhận cảnh báo #{alert_id}.") and not answer["show_alert"]
        edit = wait_for(lambda: bot.bodies("editMessageReplyMarkup"), timeout=15, interval=0.05, what="the edit")
        assert edit == [{"chat_id": CHAT, "message_id": message_id, "reply_markup": {"inline_keyboard": []}}]
        by, events = acknowledged(ndb, alert_id)
        assert by == "telegram:nguyenvana"
        assert [(e["actor"], e["detail"]["via"], e["detail"]["chat"], e["detail"]["user_id"]) for e in events] == [
            ("telegram:nguyenvana", "telegram", CHAT, 4242)]

        # someone else presses the same button (on another phone, before the edit reached it)
        again = bot.press(data, chat_id=CHAT, message_id=message_id, user={"id": 77})
        assert "đã được telegram:nguyenvana tiếp nhận" in answered(bot, again)["text"]
        assert len(acknowledged(ndb, alert_id)[1]) == 1
        # every press confirmed by the next getUpdates: none is handled twice
        last = bot.next_update_id
        wait_for(lambda: any(b.get("offset") == last for b in bot.bodies("getUpdates")), timeout=15, interval=0.05,
                 what="the offset past the last press")
        assert len(answers(bot, query)) == 1 and len(answers(bot, again)) == 1
    polls = bot.bodies("getUpdates")
    assert all(b["allowed_updates"] == ["callback_query"] and b["timeout"] == 1 for b in polls)


def test_a_forged_button_or_one_pressed_elsewhere_is_refused(settings, bot, notify_dsn, ndb):
    with notifier(settings):
        alert_id = fire(notify_dsn, "ack-tg-forged", [("telegram", "truc-ban")])
        message_id, data = sent_button(bot, alert_id)
        prefix, _, sig = data.rpartition(":")
        forged = f"{prefix}:{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
        other = fire(notify_dsn, "ack-tg-other", [])
        refused = [bot.press(forged, chat_id=CHAT, message_id=message_id, user=USER),
                   bot.press(data.replace(f":{alert_id}:", f":{other}:"), chat_id=CHAT, message_id=message_id,
                             user=USER),
                   bot.press(data, chat_id=-1009999, message_id=5, user=USER)]  # copied to another group
        for query in refused:
            answer = answered(bot, query)
            assert answer["text"] == "Nút không hợp lệ ở nhóm này. / This button is not valid here." and answer["show_alert"]
        assert acknowledged(ndb, alert_id) == (None, []) and acknowledged(ndb, other) == (None, [])
        assert bot.bodies("editMessageReplyMarkup") == []  # not our message to change


def test_the_poller_survives_a_failing_bot_api(settings, bot, notify_dsn, ndb):
    acks = TelegramAcks(settings, AckStore(notify_dsn))
    acks.backoff = Backoff(base_s=0.05, max_s=0.1)
    bot.fail_polls(3)
    stop = threading.Event()
    thread = threading.Thread(target=acks.run, args=(stop,), daemon=True)
    thread.start()
    try:
        alert_id = fire(notify_dsn, "ack-tg-retry", [])
        data = acks.offer.button(alert_id, CHAT)["inline_keyboard"][0][0]["callback_data"]
        query = bot.press(data, chat_id=CHAT, message_id=9, user={"id": 555})
        assert answered(bot, query)["text"].startswith("✅")
        assert acknowledged(ndb, alert_id)[0] == "telegram:555"  # no username: the id
        assert len(bot.calls("getUpdates")) > 3
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_an_expired_button_or_a_closed_alert_is_said_and_the_button_goes(settings, bot, notify_dsn, ndb):
    acks = TelegramAcks(settings, AckStore(notify_dsn))
    alert_id = fire(notify_dsn, "ack-tg-late", [])
    old = acklinks.button_data(acks.offer.key, alert_id, CHAT, now=datetime.now(timezone.utc) - timedelta(hours=5),
                               ttl_s=4 * 3600)
    press = {"id": "cq-late", "from": USER, "data": old, "message": {"message_id": 3, "chat": {"id": CHAT}}}
    assert acks.handle(press).kind == "expired"
    (answer,) = answers(bot, "cq-late")
    assert answer["text"].startswith("Nút đã hết hạn") and answer["show_alert"]
    AlertStore(notify_dsn).resolve(alert_id, "truc-ban")
    fresh = acks.offer.button(alert_id, CHAT)["inline_keyboard"][0][0]["callback_data"]
    assert acks.handle({**press, "id": "cq-closed", "data": fresh}).kind == "closed"
    assert answers(bot, "cq-closed")[0]["text"] == f"Cảnh báo #{alert_id} đã kết thúc. / Alert #{alert_id} is already over."
    assert [b["message_id"] for b in bot.bodies("editMessageReplyMarkup")] == [3, 3]  # the useless button goes
    assert acknowledged(ndb, alert_id) == (None, [])


def test_one_notifier_polls_at_a_time(notify_dsn, settings):
    first, second = PollLock(notify_dsn), PollLock(notify_dsn)
    try:
        assert first.held() and not second.held()
        assert first.held()  # still
        first.close()
        # the server frees the lock when the closed session's backend ends, a moment after the client closes
        wait_for(second.held, timeout=30, interval=0.1, what="the poll lock, free once the first holder closed")
    finally:
        first.close()
        second.close()


def test_no_poller_without_a_token_a_telegram_receiver_or_buttons(settings, tmp_path):
    oncall = load_oncall(settings.oncall_file)
    assert TelegramAcks.from_settings(settings, oncall) is not None
    assert TelegramAcks.from_settings(settings.model_copy(update={"telegram_poll_s": 0}), oncall) is None
    assert TelegramAcks.from_settings(settings.model_copy(update={"ack_link_ttl_s": 0}), oncall) is None
    no_token = Settings(database_url=settings.dsn, oncall_file=settings.oncall_file, run_dir=tmp_path)
    assert TelegramAcks.from_settings(no_token, oncall) is None
