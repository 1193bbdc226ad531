"""Kiosk rotation: ``/wall?kiosk=1&playlist=overview,systems,map&every=30``.

Pure: ``parse_config`` reads the query, ``step(state, config, now=…, critical=…)`` says which page
the wall shows now.  Pages rotate every ``every`` seconds; a critical alert the screen has not
brought forward yet takes the screen to its page (the page of its rule, or the overview) for one
period, then rotation resumes after the page it interrupted.  Alerts already open when the screen
starts are not "new".  The state is a small dict kept in the browser (``dcc.Store``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import parse_qs

DEFAULT_EVERY_S = 30.0
MIN_EVERY_S, MAX_EVERY_S = 5.0, 3600.0


@dataclass(frozen=True)
class KioskConfig:
    playlist: tuple[str, ...]
    every_s: float = DEFAULT_EVERY_S
    kiosk: bool = False  # no controls

    def as_dict(self) -> dict[str, Any]:
        return {"playlist": list(self.playlist), "every_s": self.every_s, "kiosk": self.kiosk}

    @classmethod
    def from_dict(cls, d: Any, pages: Sequence[str]) -> KioskConfig:
        """What the browser sent back (it can be changed there), checked as a query is: unknown
        pages dropped, the period clamped; anything malformed gives the default rotation."""
        try:
            return _checked(list(d["playlist"]), float(d["every_s"]), d["kiosk"] is True, pages)
        except (KeyError, TypeError, ValueError):
            return cls(tuple(pages))


def _checked(wanted: Sequence[Any], every: float, kiosk: bool, pages: Sequence[str]) -> KioskConfig:
    """Known pages in the order given (all pages when none is), the period clamped."""
    playlist = tuple(dict.fromkeys(p for p in wanted if isinstance(p, str) and p in pages)) or tuple(pages)
    every = DEFAULT_EVERY_S if math.isnan(every) else min(MAX_EVERY_S, max(MIN_EVERY_S, every))
    return KioskConfig(playlist, every, kiosk)


def parse_config(search: str | None, pages: Sequence[str]) -> KioskConfig:
    """The playlist (known pages, in the order given; all pages when none is valid), the period and
    the kiosk flag, from a query string.  Unknown pages are dropped; ``every`` is clamped."""
    q = parse_qs((search or "").lstrip("?"))
    wanted = [p.strip() for v in q.get("playlist", []) for p in v.split(",") if p.strip()]
    try:
        every = float(q.get("every", [DEFAULT_EVERY_S])[-1])
    except ValueError:
        every = DEFAULT_EVERY_S
    return _checked(wanted, every, q.get("kiosk", ["0"])[-1].lower() in ("1", "true", "yes", "on"), pages)


@dataclass(frozen=True)
class KioskState:
    index: int  # position in the playlist that rotation continues from
    page: str  # the page on the screen
    shown_at: float  # when it came up (seconds, the server's clock)
    seen: tuple[int, ...] = ()  # critical alerts open and already brought forward (or open at start)
    forced: bool = False  # the page is shown for a critical alert

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any, pages: Sequence[str]) -> KioskState | None:
        """The state the browser kept, or None (start afresh) when it is missing or malformed."""
        if not d:
            return None
        try:
            state = cls(int(d["index"]), str(d["page"]), float(d["shown_at"]),
                        tuple(int(i) for i in d.get("seen") or ()), d.get("forced") is True)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            return None
        return state if state.page in pages and math.isfinite(state.shown_at) else None


def step(state: KioskState | None, config: KioskConfig, *, now: float,
         critical: Sequence[tuple[int, str]]) -> KioskState:
    """The next state.  ``critical``: (alert id, its page) of the critical alerts needing attention,
    newest first."""
    open_ids = tuple(sorted({i for i, _ in critical}))
    if state is None or state.index >= len(config.playlist):
        return KioskState(0, config.playlist[0], now, open_ids)
    new = [(i, page) for i, page in critical if i not in state.seen]
    if new:
        return KioskState(state.index, new[0][1], now, open_ids, forced=True)
    if now - state.shown_at >= config.every_s:
        nxt = (state.index + 1) % len(config.playlist)
        return KioskState(nxt, config.playlist[nxt], now, open_ids)
    return replace(state, seen=open_ids)
