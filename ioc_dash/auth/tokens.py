"""Random tokens for sessions and wall screens, their stored hashes; the session key is
``streams.core.keys.session_key``.

A session cookie holds a random token; the database keeps only HMAC-SHA256(session key, token),
so a copy of the table opens no session, and changing the key signs everyone out.  A wall
token is kept as plain SHA-256 so that changing the session key leaves the wall screens on.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from streams.core.keys import session_key

__all__ = ["new_token", "session_hash", "session_key", "wall_hash"]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def session_hash(key: bytes, token: str) -> bytes:
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def wall_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()  # any text hashes
