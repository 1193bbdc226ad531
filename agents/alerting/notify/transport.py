"""HTTP POST over the standard library, with every failure translated into ``NotifyError``.

Retryable: connection refused or reset, timeouts, 5xx, 408, 425, 429 (with its Retry-After).
Not retryable: the receiver rejected the message itself (400, 405, 413, 415, 422).
Other 4xx (401, 403, 404) stay retryable: they are usually a receiver being reconfigured,
and the outbox gives up by age anyway.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from streams.core.errors import NotifyError

USER_AGENT = "kiengiang-ioc-notify/0.1"
REJECTED = {400, 405, 413, 415, 422}
SIGNATURE_HEADER = "X-IOC-Signature-256"
_OPENER = urllib.request.build_opener()


def json_body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the body, as in GitHub's X-Hub-Signature-256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _retry_after(header: str | None, body: str) -> float | None:
    """Retry-After in seconds, or the Telegram Bot API's ``parameters.retry_after`` in the body."""
    try:
        if header:
            return max(0.0, float(header))
        return float(json.loads(body)["parameters"]["retry_after"]) if "retry_after" in body else None
    except (ValueError, KeyError, TypeError):
        return None  # an HTTP date or an odd body: our own backoff applies


def post(url: str, body: bytes, *, channel: str, receiver: str, timeout: float,
         headers: Mapping[str, str] | None = None, shown_url: str | None = None) -> tuple[int, bytes]:
    """POST ``body`` as JSON; returns (status, response body) for 2xx, raises ``NotifyError`` otherwise.

    ``shown_url`` replaces ``url`` in error messages when the URL holds a secret (Telegram's token).
    """
    where = shown_url or url
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **(headers or {})})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace").strip()
        raise NotifyError(
            f"HTTP {exc.code} from {where}: {detail[:300] or exc.reason}", channel=channel, receiver=receiver,
            retryable=exc.code not in REJECTED, retry_after=_retry_after(exc.headers.get("Retry-After"), detail),
        ) from exc
    except urllib.error.URLError as exc:
        raise NotifyError(f"cannot reach {where}: {exc.reason}", channel=channel, receiver=receiver) from exc
    except (TimeoutError, socket.timeout) as exc:
        raise NotifyError(f"no answer from {where} within {timeout:g} s", channel=channel, receiver=receiver) from exc
    except (http.client.HTTPException, OSError) as exc:
        raise NotifyError(f"connection to {where} failed: {type(exc).__name__}: {exc}",
                          channel=channel, receiver=receiver) from exc
