"""Acknowledging an alert from its notification: signed e-mail links and Telegram buttons (pure).

E-mail link   ``<dashboard>/ack/<token>``, one per recipient.  The token is
              ``base64url(JSON [1, alert id, receiver, recipient, expiry, nonce]) "." base64url(HMAC)``,
              the HMAC-SHA256 of the first part under the ack link key (``streams.core.keys``).  The
              random nonce makes the link single-use (``ack_link_use``), the expiry
              (``IOC_ACK_LINK_TTL_S``) bounds how long a forwarded mail can acknowledge.
Telegram      ``callback_data`` ``ack:<alert id>:<expiry>:<signature>`` (Telegram allows 64 bytes), the
              signature the first 16 bytes of the HMAC of alert id, expiry and the chat the message
              went to: a press counts only in that chat.  Telegram tells the bot who pressed.

``standing(alert, use)`` says what a link can still do for an alert, for the page and the bot alike.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

VERSION = 1
LINK_DOMAIN = b"ioc-ack-link\x00"
BUTTON_DOMAIN = b"ioc-ack-button\x00"
BUTTON_PREFIX = "ack"
BUTTON_SIG_BYTES = 16
CALLBACK_DATA_MAX = 64  # bytes, the Bot API's limit
TOKEN_MAX = 2048  # characters: anything longer is refused before any work
#: what a link or a button may meet: ready (it will acknowledge) and done are the good ones
KINDS = ("ready", "done", "used", "acknowledged", "closed", "missing", "invalid", "expired")


class LinkRefused(Exception):
    """A token or callback data that does not acknowledge: ``kind`` is ``invalid`` or ``expired``."""

    def __init__(self, kind: str, alert_id: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.alert_id = alert_id


@dataclass(frozen=True, slots=True)
class LinkClaims:
    alert_id: int
    receiver: str  # the on-call receiver the mail went to
    recipient: str  # the e-mail address of this link
    expires: int  # Unix seconds
    nonce: str

    @property
    def actor(self) -> str:
        return f"email:{self.recipient}"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # one of KINDS
    alert_id: int | None = None
    by: str | None = None  # who acknowledged, or used the link
    at: datetime | None = None  # when


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, domain: bytes, data: bytes) -> bytes:
    return hmac.new(key, domain + data, hashlib.sha256).digest()


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of a signature as given (any text) with the expected one."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def _unix(now: datetime) -> int:
    return int(now.timestamp())


def expiry(now: datetime, ttl_s: float) -> int:
    """Unix seconds until which a link or button made at ``now`` works."""
    return _unix(now) + int(ttl_s)


# --- e-mail links -------------------------------------------------------------------------------

def make_token(key: bytes, alert_id: int, receiver: str, recipient: str, *, now: datetime, ttl_s: float,
               nonce: str | None = None) -> str:
    """A signed token for ``recipient`` of ``receiver`` to acknowledge ``alert_id`` until now + ttl."""
    body = json.dumps([VERSION, int(alert_id), receiver, recipient, expiry(now, ttl_s),
                       nonce or secrets.token_urlsafe(16)], separators=(",", ":")).encode()
    return f"{_b64(body)}.{_b64(_mac(key, LINK_DOMAIN, body))}"


def read_token(key: bytes, token: str, *, now: datetime) -> LinkClaims:
    """The claims of a token signed with ``key``; ``LinkRefused("invalid")`` for anything altered,
    truncated or signed with another key, ``LinkRefused("expired", alert_id)`` past its expiry."""
    if not isinstance(token, str) or len(token) > TOKEN_MAX or token.count(".") != 1:
        raise LinkRefused("invalid")
    body_text, sig_text = token.split(".")
    try:
        body = _unb64(body_text)
    except (binascii.Error, ValueError):
        raise LinkRefused("invalid") from None
    if _b64(body) != body_text or not _same(sig_text, _b64(_mac(key, LINK_DOMAIN, body))):
        raise LinkRefused("invalid")  # compared as text: one token per claims, no other spelling of it
    try:
        version, alert_id, receiver, recipient, expires, nonce = json.loads(body)
    except (ValueError, TypeError):
        raise LinkRefused("invalid") from None
    if version != VERSION or not all(isinstance(v, int) for v in (alert_id, expires)) or \
            not all(isinstance(v, str) and v for v in (receiver, recipient, nonce)):
        raise LinkRefused("invalid")
    if _unix(now) >= expires:
        raise LinkRefused("expired", alert_id)
    return LinkClaims(alert_id, receiver, recipient, expires, nonce)


def ack_url(alert_page: str, token: str) -> str:
    """``/ack/<token>`` on the dashboard of ``IOC_ALERT_PAGE_URL`` (the alert page's template): its
    scheme and host, and the path before ``/alerts/`` for a dashboard behind a path prefix."""
    parts = urlsplit(alert_page)
    cut = parts.path.find("/alerts/")
    prefix = parts.path[:cut] if cut >= 0 else ""
    return urlunsplit((parts.scheme, parts.netloc, f"{prefix}/ack/{token}", "", ""))


# --- Telegram buttons ---------------------------------------------------------------------------

def chat_identity(chat: int | str) -> str:
    """One spelling of a chat: a numeric id as digits, ``@name`` in lower case."""
    text = str(chat).strip()
    return text.lower() if text.startswith("@") else str(int(text))


def message_chats(chat: Mapping[str, Any]) -> list[str]:
    """The identities of a Bot API ``Chat`` object: its id, and ``@username`` when it has one."""
    out = [chat_identity(chat["id"])] if isinstance(chat.get("id"), int) else []
    if isinstance(chat.get("username"), str) and chat["username"]:
        out.append(chat_identity("@" + chat["username"]))
    return out


def _button_sig(key: bytes, alert_id: int, expires: int, chat: str) -> str:
    return _b64(_mac(key, BUTTON_DOMAIN, f"{alert_id}:{expires}:{chat}".encode())[:BUTTON_SIG_BYTES])


def button_data(key: bytes, alert_id: int, chat: int | str, *, now: datetime, ttl_s: float) -> str:
    """``callback_data`` of the acknowledge button of a message to ``chat``."""
    expires = expiry(now, ttl_s)
    data = f"{BUTTON_PREFIX}:{int(alert_id)}:{expires}:{_button_sig(key, int(alert_id), expires, chat_identity(chat))}"
    if len(data.encode()) > CALLBACK_DATA_MAX:  # cannot happen for a bigint id; said rather than cut
        raise ValueError(f"callback_data of {len(data.encode())} bytes, Telegram allows {CALLBACK_DATA_MAX}")
    return data


def read_button(key: bytes, data: Any, chats: Iterable[str], *, now: datetime) -> int:
    """The alert id of a press of our button in one of ``chats`` (``message_chats``);
    ``LinkRefused("invalid")`` for forged data or a press in another chat, ``"expired"`` past its expiry."""
    parts = data.split(":") if isinstance(data, str) and len(data) <= CALLBACK_DATA_MAX else []
    if len(parts) != 4 or parts[0] != BUTTON_PREFIX or not all(p.isascii() and p.isdigit() for p in parts[1:3]):
        raise LinkRefused("invalid")
    alert_id, expires = int(parts[1]), int(parts[2])
    if not any(_same(parts[3], _button_sig(key, alert_id, expires, c)) for c in chats):
        raise LinkRefused("invalid")
    if _unix(now) >= expires:
        raise LinkRefused("expired", alert_id)
    return alert_id


# --- what a link can do -------------------------------------------------------------------------

def standing(alert_id: int, alert: Mapping[str, Any] | None, use: Mapping[str, Any] | None = None) -> Outcome:
    """``ready`` when acknowledging would work; else why not: the link was ``used``, the alert is
    ``missing``, ``closed`` (resolved or cancelled) or ``acknowledged`` already (by whom, when)."""
    if use is not None:
        return Outcome("used", alert_id, use.get("actor"), use.get("used_at"))
    if alert is None:
        return Outcome("missing", alert_id)
    if alert["state"] in ("resolved", "cancelled"):
        return Outcome("closed", alert_id, None, alert.get("resolved_at"))
    if alert.get("acknowledged_at") is not None:
        return Outcome("acknowledged", alert_id, alert.get("acknowledged_by"), alert["acknowledged_at"])
    return Outcome("ready", alert_id)
