"""Acknowledge links and buttons (pure): what a signed token carries, and every way one is refused —
expired, altered, cut, signed with another key, pressed in another chat; the key shared through
the run folder; what a link can still do for an alert."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.notify import acklinks
from agents.alerting.notify.acklinks import LinkRefused
from agents.alerting.notify.ackoffer import AckOffer
from streams.core.errors import ConfigError
from streams.core.keys import ack_link_key
from streams.core.settings import Settings

KEY = b"k" * 40
OTHER = b"o" * 40
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)
TTL = 4 * 3600


def token(**kw) -> str:
    args = {"now": NOW, "ttl_s": TTL, **kw}
    return acklinks.make_token(KEY, 7, "lanh-dao", "giamdoc.ioc@kiengiang.gov.vn", **args)


def refused(fn) -> LinkRefused:
    with pytest.raises(LinkRefused) as err:
        fn()
    return err.value


def test_a_token_carries_alert_receiver_recipient_expiry_and_a_fresh_nonce():
    claims = acklinks.read_token(KEY, token(), now=NOW + timedelta(hours=3))
    assert (claims.alert_id, claims.receiver, claims.recipient) == (7, "lanh-dao", "giamdoc.ioc@kiengiang.gov.vn")
    assert claims.expires == int(NOW.timestamp()) + TTL and claims.actor == "email:giamdoc.ioc@kiengiang.gov.vn"
    assert acklinks.read_token(KEY, token(), now=NOW).nonce != claims.nonce  # every link its own nonce
    assert all(c.isalnum() or c in "-_." for c in token())  # a path segment as it is


def test_a_token_expires_at_its_expiry_and_says_which_alert():
    t = token()
    acklinks.read_token(KEY, t, now=NOW + timedelta(seconds=TTL - 1))
    err = refused(lambda: acklinks.read_token(KEY, t, now=NOW + timedelta(seconds=TTL)))
    assert (err.kind, err.alert_id) == ("expired", 7)


def test_an_expired_token_altered_is_invalid_not_expired():
    body, sig = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims[4] += 10 * TTL  # a later expiry, the old signature
    forged = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert refused(lambda: acklinks.read_token(KEY, f"{forged}.{sig}", now=NOW + timedelta(days=1))).kind == "invalid"


@pytest.mark.parametrize("change", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the signature
    lambda t: ("A" if t[0] != "A" else "B") + t[1:],  # one character of the claims
    lambda t: t[:-5],  # cut short by a mail client
    lambda t: t.split(".")[0],  # no signature
    lambda t: t.replace(".", ".."),
    lambda t: "",
    lambda t: "é" + t,  # not ASCII
    lambda t: t + "é",
    lambda t: t + "\ud800",  # a lone surrogate, as a decoded URL may carry
    lambda t: t.replace(".", "=."),  # padding: another spelling of the same bytes
    lambda t: t + "." + t,
    lambda t: "x" * 5000,
])
def test_an_altered_token_is_invalid(change):
    assert refused(lambda: acklinks.read_token(KEY, change(token()), now=NOW)).kind == "invalid"


def test_a_token_signed_with_another_key_is_invalid():
    t = acklinks.make_token(OTHER, 7, "r", "a@kiengiang.gov.vn", now=NOW, ttl_s=TTL)
    assert refused(lambda: acklinks.read_token(KEY, t, now=NOW)).kind == "invalid"


def test_the_link_is_on_the_site_of_the_alert_page():
    assert acklinks.ack_url("https://ioc.kiengiang.gov.vn/alerts/{id}", "T") == "https://ioc.kiengiang.gov.vn/ack/T"
    assert acklinks.ack_url("http://127.0.0.1:8050/alerts/{id}", "T") == "http://127.0.0.1:8050/ack/T"
    assert acklinks.ack_url("https://x.gov.vn/ioc/alerts/{id}", "T") == "https://x.gov.vn/ioc/ack/T"  # a path prefix
    assert acklinks.ack_url("https://x.gov.vn/console/alert?id={id}", "T") == "https://x.gov.vn/ack/T"


# --- Telegram buttons ---------------------------------------------------------------------------

CHAT = "-1001000000001"


def test_a_button_fits_telegrams_64_bytes_and_names_its_alert():
    data = acklinks.button_data(KEY, 2**63 - 1, CHAT, now=NOW, ttl_s=TTL)
    assert len(data.encode()) <= 64
    assert acklinks.read_button(KEY, data, [CHAT], now=NOW) == 2**63 - 1


def test_a_button_counts_only_in_the_chat_it_was_sent_to():
    data = acklinks.button_data(KEY, 7, CHAT, now=NOW, ttl_s=TTL)
    assert refused(lambda: acklinks.read_button(KEY, data, ["-1009999"], now=NOW)).kind == "invalid"
    assert refused(lambda: acklinks.read_button(KEY, data, [], now=NOW)).kind == "invalid"
    # a channel named by @name: the press comes with the chat's numeric id and its username
    named = acklinks.button_data(KEY, 7, "@IOC_KG_Duty", now=NOW, ttl_s=TTL)
    chats = acklinks.message_chats({"id": -100123, "type": "channel", "username": "ioc_kg_duty"})
    assert chats == ["-100123", "@ioc_kg_duty"] and acklinks.read_button(KEY, named, chats, now=NOW) == 7


@pytest.mark.parametrize("forge", [
    lambda d: d.replace(":7:", ":8:"),  # another alert, the same signature
    lambda d: d[:-1] + ("A" if d[-1] != "A" else "B"),
    lambda d: d.rsplit(":", 1)[0] + ":",
    lambda d: "ack:7",
    lambda d: "ack:７:1:x",  # digits that are not ASCII
    lambda d: d + "x" * 64,
    lambda d: d[:-1] + "é",
    lambda d: None,
])
def test_a_forged_button_is_invalid(forge):
    data = acklinks.button_data(KEY, 7, CHAT, now=NOW, ttl_s=TTL)
    assert refused(lambda: acklinks.read_button(KEY, forge(data), [CHAT], now=NOW)).kind == "invalid"
    assert refused(lambda: acklinks.read_button(OTHER, data, [CHAT], now=NOW)).kind == "invalid"


def test_a_button_expires():
    data = acklinks.button_data(KEY, 7, CHAT, now=NOW, ttl_s=60)
    err = refused(lambda: acklinks.read_button(KEY, data, [CHAT], now=NOW + timedelta(seconds=60)))
    assert (err.kind, err.alert_id) == ("expired", 7)


# --- what is offered, with which key ------------------------------------------------------------

def test_the_key_is_generated_once_into_the_run_folder_and_shared(tmp_path):
    a, b = Settings(run_dir=tmp_path), Settings(run_dir=tmp_path)
    assert ack_link_key(a) == ack_link_key(b) and len(ack_link_key(a)) >= 48  # the notifier's is the dashboard's
    assert oct((tmp_path / "ack_link_key").stat().st_mode & 0o777) == "0o600"
    assert ack_link_key(Settings(run_dir=tmp_path, ack_link_key="s" * 40)) == b"s" * 40
    with pytest.raises(ConfigError, match="IOC_ACK_LINK_KEY is too short"):
        ack_link_key(Settings(run_dir=tmp_path, ack_link_key="short"))


def test_links_are_offered_for_alerts_that_ask_someone_to_act(tmp_path):
    offer = AckOffer(Settings(run_dir=tmp_path, alert_page_url="https://ioc.kiengiang.gov.vn/alerts/{id}"),
                     clock=lambda: NOW)
    firing = {"event": "firing", "alert": {"id": 7, "state": "firing"}}
    assert offer.wanted(firing) and offer.wanted({**firing, "event": "escalated"})
    assert not offer.wanted({"event": "resolved", "alert": {"id": 7, "state": "resolved"}})
    assert not offer.wanted({"event": "acknowledged", "alert": {"id": 7, "state": "firing"}})
    url, until = offer.email_link(7, "truc-ca", "a@kiengiang.gov.vn")
    assert url.startswith("https://ioc.kiengiang.gov.vn/ack/")
    assert datetime.fromisoformat(until) == NOW + timedelta(hours=4)
    assert acklinks.read_token(offer.key, url.rsplit("/", 1)[1], now=NOW).recipient == "a@kiengiang.gov.vn"
    off = AckOffer(Settings(run_dir=tmp_path, ack_link_ttl_s=0))
    assert not off.wanted(firing)


# --- what a link can do -------------------------------------------------------------------------

def test_standing_of_an_alert():
    firing = {"state": "firing", "acknowledged_at": None}
    assert acklinks.standing(7, firing).kind == "ready"
    assert acklinks.standing(7, None).kind == "missing"
    acked = acklinks.standing(7, {**firing, "acknowledged_at": NOW, "acknowledged_by": "email:a@x.vn"})
    assert (acked.kind, acked.by, acked.at) == ("acknowledged", "email:a@x.vn", NOW)
    assert acklinks.standing(7, {**firing, "state": "resolved", "resolved_at": NOW}).kind == "closed"
    assert acklinks.standing(7, {**firing, "state": "cancelled", "resolved_at": NOW}).kind == "closed"
    used = acklinks.standing(7, firing, {"actor": "email:a@x.vn", "used_at": NOW})
    assert (used.kind, used.by) == ("used", "email:a@x.vn")  # said first: the link is spent whatever the alert
