"""The Zalo channels against a local server that implements the documented endpoints: ZNS template
messages (``/message/template``) and Official Account messages (``/v3.0/oa/message/cs``)."""
from __future__ import annotations

import json

import pytest

from agents.alerting.notify.channels import build_channels
from agents.alerting.notify.oncall import Receiver, load_oncall, normalise_phone
from agents.alerting.notify.testing import LocalReceiver, Request
from agents.alerting.notify.zalo import PARAM_MAX, ZaloOaChannel, ZaloZnsChannel
from agents.alerting.payload import build_payload
from streams.core.errors import ConfigError, NotifyError
from streams.core.settings import Settings
from tests.notify.conftest import alert_row

PAYLOAD = build_payload(alert_row(7), "firing")
TOKEN = "oa-access-token-1"
TEMPLATE = "7895417a7d3f9461cd2e"
PARAMS = {"alert_id", "status", "severity", "summary", "started", "link"}


class FakeZalo:
    """What the Zalo platform checks: the token header, the body's documented fields; answers as it does
    (HTTP 200, ``error`` 0 on success, a negative code otherwise)."""

    def __init__(self) -> None:
        self.rx = LocalReceiver(respond=self.answer)

    def answer(self, req: Request) -> tuple[int, bytes]:
        if req.headers.get("access_token") != TOKEN:
            return 200, json.dumps({"error": -124, "message": "Access token is invalid"}).encode()
        body = req.json()
        if req.path == "/message/template":
            ok = (isinstance(body.get("phone"), str) and body["phone"].startswith("84") and len(body["phone"]) == 11
                  and body.get("template_id") == TEMPLATE and set(body.get("template_data", {})) == PARAMS
                  and all(isinstance(v, str) and len(v) <= PARAM_MAX for v in body["template_data"].values())
                  and body.get("tracking_id"))
            if body.get("phone") == "84900000000":
                return 200, json.dumps({"error": -108, "message": "Phone number is invalid"}).encode()
            data = {"msg_id": "a1b2", "sent_time": "1733112000000"}
        elif req.path == "/v3.0/oa/message/cs":
            ok = body.get("recipient", {}).get("user_id", "").isdigit() and 0 < len(body["message"]["text"]) <= 2000
            data = {"message_id": "m1", "user_id": body.get("recipient", {}).get("user_id")}
        else:
            return 404, b"{}"
        if not ok:
            return 200, json.dumps({"error": -201, "message": "Parameters are invalid"}).encode()
        return 200, json.dumps({"error": 0, "message": "Success", "data": data}).encode()


@pytest.fixture
def zalo():
    fake = FakeZalo()
    with fake.rx:
        yield fake.rx


def settings(zalo: LocalReceiver, **kw) -> Settings:
    values = dict(notify_timeout_s=3, zalo_access_token=TOKEN, zalo_template_id=TEMPLATE,
                  zalo_zns_url=zalo.url("/message/template"), zalo_oa_url=zalo.url("/v3.0/oa/message/cs"),
                  alert_page_url="https://ioc.example.gov.vn/alerts/{id}")
    values.update(kw)
    return Settings(**values)


def test_a_zns_template_message_carries_the_alert(zalo):
    ZaloZnsChannel(settings(zalo)).send(Receiver("duty", "zalo", "84912000001"), PAYLOAD, key="ioc-notification-9")
    (req,) = zalo.wait_for(1)
    body = req.json()
    assert (body["phone"], body["template_id"], body["tracking_id"]) == ("84912000001", TEMPLATE, "ioc-notification-9")
    data = body["template_data"]
    assert data["alert_id"] == "7" and data["status"] == "CẢNH BÁO" and data["severity"] == "Nghiêm trọng"
    assert data["summary"].startswith("eoffice: mức sẵn sàng 82%")
    assert data["link"] == "https://ioc.example.gov.vn/alerts/7" and "giờ VN" in data["started"]


def test_an_oa_message_is_the_text_of_the_alert(zalo):
    ZaloOaChannel(settings(zalo)).send(Receiver("duty", "zalo-oa", "2512523625412515"), PAYLOAD, key="k")
    (req,) = zalo.wait_for(1)
    body = req.json()
    assert body["recipient"] == {"user_id": "2512523625412515"}
    assert body["message"]["text"].startswith("🔴 CẢNH BÁO · Nghiêm trọng\neoffice: mức sẵn sàng 82%")


def test_zalo_refusals_say_what_to_do(zalo):
    with pytest.raises(NotifyError, match="renew IOC_ZALO_ACCESS_TOKEN") as err:
        ZaloZnsChannel(settings(zalo, zalo_access_token="expired")).send(
            Receiver("duty", "zalo", "84912000001"), PAYLOAD, key="k")
    assert "expired" not in str(err.value)  # the token is never printed
    with pytest.raises(NotifyError, match="Zalo error -108: Phone number is invalid"):
        ZaloZnsChannel(settings(zalo)).send(Receiver("duty", "zalo", "84900000000"), PAYLOAD, key="k")
    with pytest.raises(NotifyError, match="IOC_ZALO_TEMPLATE_ID"):
        ZaloZnsChannel(settings(zalo, zalo_template_id="")).send(Receiver("d", "zalo", "84912000001"), PAYLOAD, key="k")
    with pytest.raises(NotifyError, match="IOC_ZALO_ACCESS_TOKEN"):
        ZaloOaChannel(settings(zalo, zalo_access_token="")).send(Receiver("d", "zalo-oa", "1"), PAYLOAD, key="k")


def test_a_long_summary_is_cut_to_the_templates_limit(zalo):
    row = alert_row(8)
    row["summary_vi"] = "Hệ thống " * 60
    ZaloZnsChannel(settings(zalo)).send(Receiver("duty", "zalo", "84912000001"), build_payload(row, "firing"), key="k")
    summary = zalo.wait_for(1)[0].json()["template_data"]["summary"]
    assert len(summary) == PARAM_MAX and summary.endswith("…")


def test_receivers_name_phones_and_followers(tmp_path):
    assert normalise_phone("0912 000 001") == "84912000001" == normalise_phone("+84-912-000-001")
    assert normalise_phone("0212000001") is None and normalise_phone("091200000") is None
    path = tmp_path / "oncall.yaml"
    path.write_text("receivers:\n  z: {channel: zalo, phone: '0912000001'}\n  o: {channel: zalo-oa, user_id: '2512'}\n"
                    "levels:\n  - {after: 0s, receivers: [z, o]}\n", encoding="utf-8")
    oncall = load_oncall(path)
    assert (oncall.receivers["z"].address, oncall.receivers["o"].address) == ("84912000001", "2512")
    path.write_text("receivers:\n  z: {channel: zalo, phone: '12345'}\nlevels:\n  - {after: 0s, receivers: [z]}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="Vietnamese mobile number"):
        load_oncall(path)
    assert {"zalo", "zalo-oa"} <= set(build_channels(Settings()))
