"""Who hears of an alert: receivers and escalation levels from ``deploy/oncall.yaml``.

::

    receivers:
      alertmanager: {channel: alertmanager, url: http://127.0.0.1:9193}
      noc-webhook:  {channel: webhook, url: https://noc.example/ioc}
      truc-ca:      {channel: email, to: [truc.ca@kiengiang.gov.vn]}
      noc-telegram: {channel: telegram, chat_id: "-1001234567890"}
    levels:                      # level 0 is called on firing; level i once unacknowledged for 'after'
      - {after: 0s,  receivers: [alertmanager, noc-webhook, noc-telegram]}
      - {after: 15m, receivers: [truc-ca]}
    drill:                       # who hears of the alerts of a running drill (``ioc drill``)
      receivers: [dien-tap]      # at every level, instead of the levels' receivers
      notify_oncall: false       # true: the levels' receivers hear of drill alerts too

A string may name a setting in effect as ``{name}`` (``url: "{demo_receiver_url}/ioc"``,
``Settings.template_values``): a second stack on other ports posts to its own receiver.
Without a ``drill`` section, drill alerts notify nobody (they are still stored and shown).
Loading validates everything and names the file, the entry and the field of each problem.
The evaluator calls ``receivers_for(level)`` (pairs of channel and receiver name, as written to
``notification_outbox``) and passes ``level_delays`` to its escalation step.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from agents.alerting.rules import parse_duration
from streams.core.errors import ConfigError
from streams.core.settings import Settings
from streams.core.yamlfile import read_yaml

#: channel -> the field that holds its address
CHANNELS = {"alertmanager": "url", "webhook": "url", "email": "to", "telegram": "chat_id", "zalo": "phone",
            "zalo-oa": "user_id"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+$")
_CHAT = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")
_ZALO_USER = re.compile(r"^\d{1,24}$")
_PHONE = re.compile(r"^84[35789]\d{8}$")


def normalise_phone(value: str) -> str | None:
    """A Vietnamese mobile number as ZNS wants it (``84`` then 9 digits), or None."""
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    return digits if _PHONE.match(digits) else None


class Route(NamedTuple):
    """What the evaluator writes to ``notification_outbox``: (channel, receiver)."""

    channel: str
    receiver: str


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    channel: str
    address: str  # URL (alertmanager, webhook), chat id (telegram), e-mail addresses joined by ", ",
                  # phone 84… (zalo), follower id (zalo-oa)

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.address.split(",") if a.strip()]


@dataclass(frozen=True, slots=True)
class Level:
    after: timedelta
    receivers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DrillRouting:
    receivers: tuple[str, ...] = ()
    notify_oncall: bool = False  # the levels' receivers hear of drill alerts too


@dataclass(frozen=True)
class OnCall:
    receivers: dict[str, Receiver]
    levels: tuple[Level, ...]
    source: str = "<memory>"
    drill: DrillRouting = DrillRouting()

    def receivers_for(self, level: int, *, drill: str | None = None) -> list[Route]:
        """(channel, receiver) pairs to notify at ``level``; past the last level, the last one's.

        For an alert of a drill (``drill`` names it): the drill receivers at every level, and the
        level's receivers only when ``drill.notify_oncall`` is set."""
        if level < 0:
            raise ValueError(f"escalation level must be >= 0, got {level}")
        chosen = self.levels[min(level, len(self.levels) - 1)]
        names = list(chosen.receivers)
        if drill is not None:
            names = list(dict.fromkeys([*self.drill.receivers, *(names if self.drill.notify_oncall else [])]))
        return [Route(self.receivers[n].channel, n) for n in names]

    def hears_drills(self, name: str) -> bool:
        """Whether receiver ``name`` is told of drill alerts (the Alertmanager re-send asks)."""
        return name in self.drill.receivers or (
            self.drill.notify_oncall and any(name in lv.receivers for lv in self.levels))

    @property
    def level_delays(self) -> list[timedelta]:
        """How long after firing each level is called (``[0, 15 min, …]``)."""
        return [lv.after for lv in self.levels]

    def receiver(self, name: str) -> Receiver:
        try:
            return self.receivers[name]
        except KeyError:
            raise ConfigError(f"{self.source}: no receiver {name!r}; known: {', '.join(sorted(self.receivers))}") from None

    def by_channel(self, channel: str) -> list[Receiver]:
        return [r for r in self.receivers.values() if r.channel == channel]


def _address(channel: str, value: Any, at: str, *, default_url: str | None) -> str:
    field = CHANNELS[channel]
    if channel == "email":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(a, str) for a in items):
            raise ConfigError(f"{at}: 'to' must be an e-mail address or a non-empty list of them")
        bad = [a for a in items if not _EMAIL.match(a.strip())]
        if bad:
            raise ConfigError(f"{at}: 'to' has invalid e-mail addresses: {', '.join(map(repr, bad))}")
        return ", ".join(a.strip() for a in items)
    if channel == "telegram":
        text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not _CHAT.match(text):
            raise ConfigError(f"{at}: 'chat_id' must be a numeric chat id or @channelname, got {value!r}")
        return text
    if channel == "zalo":
        phone = normalise_phone(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if phone is None:
            raise ConfigError(f"{at}: 'phone' must be a Vietnamese mobile number (0912345678 or 84912345678), "
                              f"got {value!r}")
        return phone
    if channel == "zalo-oa":
        text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not _ZALO_USER.match(text):
            raise ConfigError(f"{at}: 'user_id' must be the follower's numeric Zalo user id, got {value!r}")
        return text
    if value is None and default_url:
        value = default_url
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{at}: '{field}' must be an http(s) URL, got {value!r}")
    return value.rstrip("/") if channel == "alertmanager" else value


def _receiver(name: Any, doc: Any, where: str, default_url: str | None) -> Receiver:
    at = f"{where}: receivers.{name}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{at}: a receiver name is 1-63 of a-z 0-9 _ . - (starting with a letter or digit)")
    if not isinstance(doc, dict):
        raise ConfigError(f"{at}: expected a mapping with 'channel' and its address, got {type(doc).__name__}")
    channel = doc.get("channel")
    if channel not in CHANNELS:
        raise ConfigError(f"{at}: 'channel' must be one of {', '.join(CHANNELS)}, got {channel!r}")
    field = CHANNELS[channel]
    unknown = set(doc) - {"channel", field, "description"}
    if unknown:
        raise ConfigError(f"{at}: unknown fields {sorted(unknown)} for channel {channel} (expected '{field}')")
    if field not in doc and not (channel == "alertmanager" and default_url):
        raise ConfigError(f"{at}: missing '{field}'")
    return Receiver(name, channel, _address(channel, doc.get(field), at, default_url=default_url))


def _level(i: int, doc: Any, where: str, receivers: dict[str, Receiver]) -> Level:
    at = f"{where}: levels[{i}]"
    if not isinstance(doc, dict):
        raise ConfigError(f"{at}: expected a mapping with 'after' and 'receivers'")
    unknown = set(doc) - {"after", "receivers", "name"}
    if unknown:
        raise ConfigError(f"{at}: unknown fields {sorted(unknown)}")
    try:
        after = parse_duration(doc.get("after", 0))
    except ValueError as exc:
        raise ConfigError(f"{at}: 'after': {exc}") from None
    names = doc.get("receivers")
    if not isinstance(names, list) or not names:
        raise ConfigError(f"{at}: 'receivers' must be a non-empty list of receiver names")
    return Level(after, _known(names, at, receivers))


def _known(names: list, at: str, receivers: dict[str, Receiver]) -> tuple[str, ...]:
    """``names``, each a defined receiver, none twice."""
    missing = [n for n in names if n not in receivers]
    if missing:
        raise ConfigError(f"{at}: unknown receivers {missing}; defined: {', '.join(sorted(receivers))}")
    if len(set(names)) != len(names):
        raise ConfigError(f"{at}: a receiver is listed twice")
    return tuple(names)


def _drill(doc: Any, where: str, receivers: dict[str, Receiver]) -> DrillRouting:
    at = f"{where}: drill"
    if doc is None:
        return DrillRouting()
    if not isinstance(doc, dict):
        raise ConfigError(f"{at}: expected a mapping with 'receivers' (and 'notify_oncall')")
    unknown = set(doc) - {"receivers", "notify_oncall", "description"}
    if unknown:
        raise ConfigError(f"{at}: unknown fields {sorted(unknown)} (expected receivers, notify_oncall)")
    names = doc.get("receivers", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{at}.receivers: must be a list of receiver names")
    chosen = _known(names, f"{at}.receivers", receivers)
    flag = doc.get("notify_oncall", False)
    if not isinstance(flag, bool):
        raise ConfigError(f"{at}.notify_oncall: must be true or false, got {flag!r}")
    return DrillRouting(chosen, flag)


def parse_oncall(doc: Any, where: str = "<memory>", *, alertmanager_url: str | None = None) -> OnCall:
    """Validate a parsed on-call document; ``alertmanager_url`` is the default of alertmanager receivers."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a mapping with 'receivers' and 'levels'")
    unknown = set(doc) - {"receivers", "levels", "drill"}
    if unknown:
        raise ConfigError(f"{where}: unknown top-level fields {sorted(unknown)} (expected receivers, levels, drill)")
    raw = doc.get("receivers")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{where}: 'receivers' must be a non-empty mapping of name -> receiver")
    receivers = {name: _receiver(name, r, where, alertmanager_url) for name, r in raw.items()}
    raw_levels = doc.get("levels")
    if not isinstance(raw_levels, list) or not raw_levels:
        raise ConfigError(f"{where}: 'levels' must be a non-empty list")
    levels = tuple(_level(i, lv, where, receivers) for i, lv in enumerate(raw_levels))
    if levels[0].after != timedelta(0):
        raise ConfigError(f"{where}: levels[0]: 'after' must be 0 (level 0 is called when the alert fires)")
    for i in range(1, len(levels)):
        if levels[i].after <= levels[i - 1].after:
            raise ConfigError(f"{where}: levels[{i}]: 'after' ({levels[i].after}) must be later than "
                              f"levels[{i - 1}] ({levels[i - 1].after})")
    return OnCall(receivers, levels, where, _drill(doc.get("drill"), where, receivers))


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill_in(doc: Any, values: Mapping[str, str], where: str) -> Any:
    """``doc`` with every ``{name}`` in its strings replaced by ``values[name]`` (the settings in
    effect, ``Settings.template_values``): ``url: "{demo_receiver_url}/ioc"``."""
    if isinstance(doc, dict):
        return {k: fill_in(v, values, where) for k, v in doc.items()}
    if isinstance(doc, list):
        return [fill_in(v, values, where) for v in doc]
    if not isinstance(doc, str):
        return doc

    def value(match: re.Match) -> str:
        if match[1] not in values:
            raise ConfigError(f"{where}: {{{match[1]}}} names no setting that may be written out (a secret never "
                              "is); e.g. {demo_receiver_url}, {alertmanager_url}, {dash_port}")
        return values[match[1]]

    return _PLACEHOLDER.sub(value, doc)


def load_oncall(path: Path | str, *, alertmanager_url: str | None = None,
                values: Mapping[str, str] | None = None) -> OnCall:
    """The on-call file at ``path``, its ``{name}`` placeholders filled in from ``values``."""
    doc = read_yaml(path, "on-call file", "IOC_ONCALL_FILE")
    return parse_oncall(fill_in(doc, values or {}, str(path)), str(path), alertmanager_url=alertmanager_url)


def oncall_of(settings: Settings) -> OnCall:
    """The on-call file of ``settings`` (``IOC_ONCALL_FILE``), filled in from them."""
    return load_oncall(settings.oncall_file, alertmanager_url=settings.alertmanager_url,
                       values=settings.template_values())
