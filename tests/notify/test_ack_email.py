"""Acknowledging from an e-mail, end to end: an alert fires, the dispatcher mails it to a local
SMTP server, the link is taken from the mail received and opened on a real ``ioc dash`` (which
shares the notifier's key through the run folder, as on the dev stack): looking changes nothing,
the button acknowledges as the recipient, a second use and the other links are refused with a
page that says why.  Screenshots at phone size go to .run/screenshots/ack-*.png."""
from __future__ import annotations

import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from flask import Flask

from agents.alerting.notify import acklinks
from agents.alerting.notify.ackstore import AckStore
from agents.alerting.notify.channels import build_channels
from agents.alerting.notify.dispatcher import Dispatcher
from agents.alerting.notify.oncall import parse_oncall
from agents.alerting.store import AlertStore
from ioc_dash import ack_page
from streams.core.keys import ack_link_key
from streams.core.settings import Settings
from tests.ioc_dash.browser import Browser, DashServer
from tests.notify.conftest import fire

pytestmark = pytest.mark.integration

A, B = "giamdoc.ioc@kiengiang.gov.vn", "phogiamdoc.ioc@kiengiang.gov.vn"
ONCALL = parse_oncall({"receivers": {"lanh-dao": {"channel": "email", "to": [A, B]}},
                       "levels": [{"after": "0s", "receivers": ["lanh-dao"]}]})
PHONE = (390, 844)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(url: str, *, post: bool = False) -> tuple[int, str]:
    """(status, page) of a GET, or of the POST a browser sends for the page's button."""
    origin = re.match(r"https?://[^/]+", url)[0]
    req = urllib.request.Request(url, data=b"" if post else None, method="POST" if post else "GET",
                                 headers={"Origin": origin} if post else {})
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def dash(notify_dsn, tmp_path_factory):
    """A real ``ioc dash`` on the module's database, with a run folder of its own and no key set."""
    run = tmp_path_factory.mktemp("ack-run")
    server = DashServer(Settings(database_url=notify_dsn, run_dir=run, metrics_port=0), run / "dash.log")
    yield server, Settings(database_url=notify_dsn, run_dir=run, alert_page_url=f"{server.base}/alerts/{{id}}",
                           notify_timeout_s=5, smtp_host="127.0.0.1", smtp_tls="none")
    server.stop()


def state(db, alert_id: int) -> dict:
    alert = db.execute("SELECT state, acknowledged_by, acknowledged_at FROM alert WHERE id = %s", (alert_id,)).fetchone()
    events = db.execute("SELECT kind, actor, detail FROM alert_event WHERE alert_id = %s AND kind = 'acknowledged'",
                        (alert_id,)).fetchall()
    uses = db.execute("SELECT receiver, actor, address FROM ack_link_use WHERE alert_id = %s", (alert_id,)).fetchall()
    return {**alert, "events": events, "uses": uses}


def test_acknowledge_from_the_link_of_the_mail(dash, notify_dsn, ndb, smtp_server):
    server, settings = dash
    ctl, inbox, _ = smtp_server
    alert_id = fire(notify_dsn, "ack-mail", [("email", "lanh-dao")])
    sent = Dispatcher(notify_dsn, ONCALL, build_channels(settings.model_copy(update={"smtp_port": ctl.port}))).run_once()
    assert sent.sent == 1
    mails = {env.rcpt_tos[0]: message_from_bytes(env.original_content, policy=policy.default).get_content()
             for env in inbox.envelopes}
    links = {to: re.search(rf"{re.escape(server.base)}/ack/\S+", body)[0] for to, body in mails.items()}
    assert set(links) == {A, B} and links[A] != links[B]

    # a mail scanner and a link preview fetch the link: nothing changes
    for _ in range(2):
        status, page = http(links[A])
        assert status == 200 and "ack-mail: hệ thống ngừng hoạt động" in page and 'id="ack-submit"' in page
    assert 'name="viewport"' in page and page.index('id="ack-message-vi"') < page.index('id="ack-message-en"')
    before = state(ndb, alert_id)
    assert (before["state"], before["acknowledged_at"], before["events"], before["uses"]) == ("firing", None, [], [])

    # on a phone: the page fits the screen, the button acknowledges
    browser = Browser("ack")
    try:
        browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
        browser.get(links[A])
        browser.wait_text("Tiếp nhận", "#ack-submit")
        width, scroll, button_bottom = browser.driver.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth,"
            " document.querySelector('#ack-submit').getBoundingClientRect().bottom];")
        assert width == PHONE[0] and scroll <= PHONE[0] and button_bottom <= PHONE[1], (width, scroll, button_bottom)
        browser.shot("ready-390x844")
        browser.find("#ack-submit").click()
        browser.wait_text("Đã tiếp nhận", "#ack-message-vi")
        assert f"email:{A}" in browser.text("#ack-message-vi") and "Acknowledged" in browser.text("#ack-message-en")
        browser.shot("done-390x844")
    finally:
        browser.close()

    after = state(ndb, alert_id)
    assert after["acknowledged_by"] == f"email:{A}" and after["state"] == "firing"
    ((event,),) = [after["events"]]
    assert event["actor"] == f"email:{A}" and event["detail"]["via"] == "email"
    assert event["detail"]["receiver"] == "lanh-dao"
    assert after["uses"] == [{"receiver": "lanh-dao", "actor": f"email:{A}", "address": "127.0.0.1"}]

    # the same link again: refused, saying who used it
    status, page = http(links[A], post=True)
    assert status == 409 and "Liên kết đã được dùng" in page and f"email:{A}" in page and "ack-submit" not in page
    # the other recipient's link: the alert is taken already, by whom
    for post in (False, True):
        status, page = http(links[B], post=post)
        assert status == 409 and "Cảnh báo đã có người tiếp nhận" in page and f"email:{A}" in page
    final = state(ndb, alert_id)
    assert final["acknowledged_by"] == f"email:{A}" and len(final["events"]) == 1 and len(final["uses"]) == 1


def test_expired_altered_and_closed_links_say_so_and_change_nothing(dash, notify_dsn, ndb):
    server, settings = dash
    key = ack_link_key(settings)  # the dashboard's, from the shared run folder
    alert_id = fire(notify_dsn, "ack-closed", [])
    now = datetime.now(timezone.utc)

    def link(**kw) -> str:
        token = acklinks.make_token(key, kw.pop("alert", alert_id), "lanh-dao", A, **{"now": now, "ttl_s": 600, **kw})
        return acklinks.ack_url(settings.alert_page, token)

    expired = link(now=now - timedelta(hours=5), ttl_s=4 * 3600)
    status, page = http(expired, post=True)
    assert status == 410 and "Liên kết đã hết hạn" in page and "4 giờ" in page and f'href="/alerts/{alert_id}"' in page
    for bad in (link()[:-3], link().replace("/ack/", "/ack/x"),
                acklinks.ack_url(settings.alert_page, acklinks.make_token(b"x" * 40, alert_id, "r", A, now=now, ttl_s=600))):
        status, page = http(bad, post=True)
        assert status == 400 and "Liên kết không hợp lệ" in page and "This link is not valid" in page
    status, page = http(link(alert=alert_id + 1000), post=True)
    assert status == 404 and "Không tìm thấy cảnh báo" in page
    AlertStore(notify_dsn).resolve(alert_id, "truc-ban", "đã khắc phục")
    status, page = http(link(), post=True)
    assert status == 409 and "Cảnh báo đã kết thúc" in page and f'href="/alerts/{alert_id}"' in page
    assert state(ndb, alert_id)["acknowledged_at"] is None and not state(ndb, alert_id)["uses"]


def test_an_address_bringing_bad_links_is_slowed_down(notify_dsn, tmp_path):
    """The limit of bad links per address (a Flask test client: each test has its own page)."""
    settings = Settings(database_url=notify_dsn, run_dir=tmp_path)
    server = Flask(__name__)
    ack_page.install(server, settings, store=AckStore(notify_dsn))
    client = server.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    for _ in range(ack_page.BAD_LINKS.max_failures):
        assert client.get("/ack/not-a-token").status_code == 400
    resp = client.get("/ack/not-a-token")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0 and "Quá nhiều yêu cầu" in resp.text
    other = server.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.8.8"
    assert other.get("/ack/not-a-token").status_code == 400  # another address is not held back
    assert resp.headers["Cache-Control"] == "no-store"
