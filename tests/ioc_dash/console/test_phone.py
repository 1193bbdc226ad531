"""The console on a phone, through a real ``ioc dash`` and database: headless Chromium with mobile emulation
at 412×915 (and the list at 360×780), every action by touch.

On-call staff open the link of a notification (``/alerts/<id>``) on their phone: they sign in there,
land on the alert, acknowledge it, comment, silence, resolve, and read the alert list.  Every page
visited fits the screen (no sideways scrolling), its text is 16 px or more and its controls 44 px
tall or more.  Screenshots go to ``.run/screenshots/console/``.
"""
from __future__ import annotations

import uuid

import pytest

from agents.alerting.store import AlertStore
from ioc_dash.auth.store import UserStore
from tests.ioc_dash.browser import running_dash
from tests.ioc_dash.conftest import FAST_PASSWORDS, PASSWORD
from tests.ioc_dash.phone import MIN_TARGET_PX, Phone
from tests.ioc_dash.screens import NAVS_JS

pytestmark = pytest.mark.integration
PHONE, SMALL_PHONE = (412, 915), (360, 780)
DASH_ENV = {"IOC_DASH_SESSION_KEY": "p" * 40, "IOC_DASH_REFRESH_S": "1", "IOC_DASH_LOGIN_MAX_FAILURES": "50"}
ACTIONS = "#console-actions"


@pytest.fixture(scope="module")
def operator(test_settings):
    name = f"oncall-{uuid.uuid4().hex[:6]}"
    store = UserStore(test_settings.dsn, FAST_PASSWORDS)
    store.add_user(name, "operator", PASSWORD, actor="tests")
    store.close()
    return name


@pytest.fixture(scope="module")
def server(test_settings, worker, tmp_path_factory):
    with running_dash(test_settings, tmp_path_factory, **DASH_ENV) as dash:
        yield dash


@pytest.fixture
def phone():
    p = Phone(PHONE)
    yield p
    p.close()


def alert(settings, alert_id: int) -> dict:
    return AlertStore(settings.dsn).fetch("SELECT * FROM alert WHERE id = %s", (alert_id,))[0]


def acted(phone: Phone, button: str, done: str) -> None:
    """Tap an action button and wait for the page to say it is done."""
    phone.tap(button)
    phone.wait_text(done, "#console-action-result")


def test_on_call_from_a_notification_link(server, phone, operator, firing, test_settings):
    first, second = (firing(f"it-phone-{uuid.uuid4().hex[:6]}") for _ in range(2))

    # the notification's link, on a phone not signed in: the sign-in page, then the alert
    phone.get(f"{server.base}/alerts/{first}?lang=vi")
    phone.wait(lambda: phone.all("#login-submit"), what="the sign-in page")
    phone.check_fits("main")
    phone.shot("sign-in")
    phone.type_into("#login-name", operator)
    phone.type_into("#login-password", PASSWORD)
    phone.tap("#login-submit")
    phone.wait(lambda: phone.all("#alert-card") and f"#{first}" in phone.text("#alert-card"), what="the alert")
    assert phone.driver.current_url.endswith(f"/console/alert?id={first}")
    phone.check_fits()
    buttons = phone.boxes(f"{ACTIONS} button")
    assert len(buttons) == 6 and all(h >= MIN_TARGET_PX for _, h, _ in buttons)
    panel = phone.boxes(ACTIONS)[0][2]
    assert all(w >= panel * 0.8 for *_, w in buttons), f"buttons not full width: {buttons} in {panel} px"
    phone.shot("alert-before")

    # acknowledge with a comment, add a comment, silence for two hours
    phone.type_into("#console-comment", "đang đến hiện trường")
    acted(phone, "#console-ack", "Đã ghi: Tiếp nhận")
    phone.wait_text(operator, "#alert-con_col_ack")
    phone.check_fits()
    phone.driver.execute_script("window.scrollTo(0, 0)")
    phone.shot("alert-acknowledged")
    phone.wait(lambda: phone.find("#console-comment").get_attribute("value") == "", what="the comment field emptied")
    phone.type_held("#console-comment", "chờ nhà cung cấp")
    acted(phone, "#console-comment-btn", "Đã ghi: Ghi chú")
    # a done action redraws the alert (its history): type the next field only once that has happened
    phone.wait_text("chờ nhà cung cấp", "#alert-history")
    phone.wait(lambda: phone.find("#console-comment").get_attribute("value") == "", what="the comment field emptied")
    phone.type_held("#console-until", "2h")
    acted(phone, "#console-silence", "Đã ghi: Tắt thông báo")
    phone.wait_text("chờ nhà cung cấp", "#alert-history")
    phone.check_fits()
    phone.shot("alert-history")

    # the alert list: cards, the acknowledged one says by whom; a tap opens the other
    phone.get(f"{server.base}/console/alerts")
    phone.wait_text(operator, f"#alert-row-{first}")
    phone.wait(lambda: phone.all(f"#alert-row-{second}"), what="the second alert in the list")
    assert phone.find("#console-filters-box").get_attribute("open") is None  # folded: the list comes first
    phone.check_fits()
    assert phone.small_text(".wall-header") == [] and phone.small_text("#banner") == []  # the shell too
    assert [cls for cls, _ in phone.driver.execute_script(NAVS_JS)] == ["console-nav"]  # one navigation
    phone.shot("alert-list")
    phone.tap(".console-filters-summary")
    phone.wait(lambda: phone.boxes("#console-f-text"), what="the filters unfolded")
    phone.check_fits()
    phone.tap(f"#alert-row-{second}")
    phone.wait(lambda: f"#{second}" in phone.text("#alert-card"), what="the second alert's page")
    acted(phone, "#console-silence-resolved", "Đã ghi: Tắt đến khi hết")
    phone.wait_text("đến khi hết cảnh báo", "#alert-con_silenced_until")
    phone.check_fits()

    # back to the first from its link, signed in now: resolve it
    phone.get(f"{server.base}/alerts/{first}")
    phone.wait(lambda: f"#{first}" in phone.text("#alert-card") and phone.all("#console-resolve"),
               what="the first alert again")
    acted(phone, "#console-resolve", "Đã ghi: Đóng cảnh báo")

    a, b = alert(test_settings, first), alert(test_settings, second)
    assert a["acknowledged_by"] == operator and a["state"] == "resolved" and a["silenced_until"] is not None
    assert b["silence_until_resolved"] and b["state"] == "firing"
    store = AlertStore(test_settings.dsn)
    mine = [e for e in store.history(first) if e["actor"] == operator]
    assert [e["kind"] for e in mine] == ["acknowledged", "commented", "silenced", "resolved_by_operator"]
    assert [e["detail"]["comment"] for e in mine[:2]] == ["đang đến hiện trường", "chờ nhà cung cấp"]
    assert ("silenced", operator) in [(e["kind"], e["actor"]) for e in store.history(second)]


def test_the_list_on_a_small_phone_upright_and_on_its_side(server, phone, operator, firing):
    entity = f"it-phone-small-{uuid.uuid4().hex[:6]}"
    alert_id = firing(entity)
    phone.resize(SMALL_PHONE)
    phone.login(server.base, operator, PASSWORD)
    phone.wait(lambda: "/login" not in phone.driver.current_url, what="sign-in")
    for size in (SMALL_PHONE, SMALL_PHONE[::-1]):
        phone.resize(size)
        phone.get(f"{server.base}/console/alerts")
        phone.wait_text(entity, f"#alert-row-{alert_id}")
        phone.check_fits()
        phone.shot("alert-list")
