"""Random tokens for sessions and wall screens, their stored hashes, and the session key.

A session cookie holds a random token; the database keeps only HMAC-SHA256(session key, token),
so a copy of the table opens no session, and changing the key signs everyone out.  A wall
token is kept as plain SHA-256 so that changing the session key leaves the wall screens on.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path

from streams.core.errors import ConfigError
from streams.core.settings import Settings

log = logging.getLogger("ioc.auth")
KEY_FILE = "dash_session_key"
MIN_KEY_LENGTH = 32


def new_token() -> str:
    return secrets.token_urlsafe(32)


def session_hash(key: bytes, token: str) -> bytes:
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def wall_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()  # any text hashes


def session_key(settings: Settings) -> bytes:
    """IOC_DASH_SESSION_KEY, or for the dev stack a key generated once into IOC_RUN_DIR."""
    configured = settings.dash_session_key.get_secret_value()
    if configured:
        if len(configured) < MIN_KEY_LENGTH:
            raise ConfigError(f"IOC_DASH_SESSION_KEY is too short: at least {MIN_KEY_LENGTH} characters")
        return configured.encode()
    return _key_file(Path(settings.run_dir) / KEY_FILE)


def _key_file(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # two dashboards: one wins
    except FileExistsError:  # another process is writing it
        for _ in range(50):
            if key := path.read_bytes().strip():
                return key
            time.sleep(0.02)
        raise ConfigError(f"the session key file {path} is empty; delete it or set IOC_DASH_SESSION_KEY") from None
    except OSError as exc:
        raise ConfigError(f"cannot create the session key file {path}: {exc.strerror}; "
                          "set IOC_DASH_SESSION_KEY instead") from exc
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48) + "\n")
    log.info("generated a session key in %s (set IOC_DASH_SESSION_KEY to use your own)", path)
    return path.read_bytes().strip()
