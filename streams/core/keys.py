"""Secret keys that work with no configuration on the dev stack: the value of a setting, or a key
generated once into ``IOC_RUN_DIR`` and read back by every process of that stack.

    session key      IOC_DASH_SESSION_KEY   or IOC_RUN_DIR/dash_session_key   (the dashboard's sessions)
    ack link key     IOC_ACK_LINK_KEY       or IOC_RUN_DIR/ack_link_key       (acknowledge links and
                                                                               Telegram buttons: the notifier
                                                                               signs, the dashboard checks)

Production sets each by file (``IOC_<NAME>_FILE``); processes on different hosts or containers must
be given the same value, since each would otherwise generate its own.
"""
from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

from pydantic import SecretStr

from streams.core.errors import ConfigError
from streams.core.settings import Settings

log = logging.getLogger("ioc.keys")
MIN_KEY_LENGTH = 32
SESSION_KEY_FILE = "dash_session_key"
ACK_LINK_KEY_FILE = "ack_link_key"


def configured_or_generated(value: SecretStr, run_dir: Path, file_name: str, variable: str) -> bytes:
    """``value`` when set (at least ``MIN_KEY_LENGTH`` characters), else the key in
    ``run_dir/file_name``, generated (mode 0600) by the first process that asks."""
    configured = value.get_secret_value()
    if configured:
        if len(configured) < MIN_KEY_LENGTH:
            raise ConfigError(f"{variable} is too short: at least {MIN_KEY_LENGTH} characters")
        return configured.encode()
    return key_file(Path(run_dir) / file_name, variable)


def key_file(path: Path, variable: str) -> bytes:
    """The key in ``path``; a new random one written there first when the file does not exist."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # two processes: one wins
    except FileExistsError:  # another process is writing it
        for _ in range(50):
            if key := path.read_bytes().strip():
                return key
            time.sleep(0.02)
        raise ConfigError(f"the key file {path} is empty; delete it or set {variable}") from None
    except OSError as exc:
        raise ConfigError(f"cannot create the key file {path}: {exc.strerror}; set {variable} instead") from exc
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48) + "\n")
    log.info("generated a key in %s (set %s to use your own)", path, variable)
    return path.read_bytes().strip()


def session_key(settings: Settings) -> bytes:
    """IOC_DASH_SESSION_KEY, or for the dev stack a key generated once into IOC_RUN_DIR."""
    return configured_or_generated(settings.dash_session_key, settings.run_dir, SESSION_KEY_FILE,
                                   "IOC_DASH_SESSION_KEY")


def ack_link_key(settings: Settings) -> bytes:
    """IOC_ACK_LINK_KEY, or for the dev stack a key generated once into IOC_RUN_DIR."""
    return configured_or_generated(settings.ack_link_key, settings.run_dir, ACK_LINK_KEY_FILE, "IOC_ACK_LINK_KEY")
