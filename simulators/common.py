"""Pieces the simulators share: local-time rhythms, ids, counts and pools of open items.

Everything random takes the simulator's own ``random.Random``, so a seed gives the same feed.
"""
from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from streams.core.clock import LOCAL_TZ
from streams.core.geography import Province, Unit

T = TypeVar("T")


def local_hour(now: datetime) -> float:
    local = now.astimezone(LOCAL_TZ)
    return local.hour + local.minute / 60 + local.second / 3600


def night_factor(now: datetime) -> float:
    """1 in the dead of night (21:00–05:00 local), 0.5 at dusk and dawn, 0.2 by day."""
    h = local_hour(now)
    if h >= 21 or h < 5:
        return 1.0
    if h >= 18 or h < 7:
        return 0.5
    return 0.2


def traffic_factor(now: datetime) -> float:
    """Street activity: peaks 06:30–08:30 and 16:30–19:00 local, quiet after midnight."""
    h = local_hour(now)
    if 6.5 <= h < 8.5 or 16.5 <= h < 19:
        return 1.0
    if 5 <= h < 22:
        return 0.7
    return 0.15


def count(rng: random.Random, expected: float) -> int:
    """An integer whose mean is ``expected`` (stochastic rounding), so small rates still fire."""
    if expected <= 0:
        return 0
    whole = int(expected)
    return whole + (rng.random() < expected - whole)


def hex_id(rng: random.Random, bits: int = 64) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def within(rng: random.Random, now: datetime, dt: float) -> datetime:
    """A time in the tick (now - dt, now]."""
    return now - timedelta(seconds=rng.random() * dt)


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def public_ip(rng: random.Random) -> str:
    """A random address outside the private, loop-back and multicast ranges."""
    first = rng.choice((14, 27, 36, 42, 45, 58, 61, 80, 89, 91, 103, 104, 110, 113, 115, 117, 118, 123, 125,
                        171, 176, 180, 185, 193, 194, 195, 203, 212))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


class Pool(Generic[T]):
    """Open items by key: a random one in O(1), the one due first through a heap."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._entry: dict[str, int] = {}  # key -> sequence number of its live heap entry
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))

    def add(self, key: str, item: T, due: datetime) -> None:
        if key in self._index:
            self.remove(key)
        self._index[key] = len(self._items)
        self._items.append(item)
        self._keys.append(key)
        self._seq += 1
        self._entry[key] = self._seq
        heapq.heappush(self._heap, (due, self._seq, key))

    def remove(self, key: str) -> T:
        i = self._index.pop(key)
        del self._entry[key]
        item = self._items[i]
        last_item, last_key = self._items.pop(), self._keys.pop()
        if i < len(self._items):
            self._items[i], self._keys[i] = last_item, last_key
            self._index[last_key] = i
        return item

    def random(self, rng: random.Random) -> T | None:
        return self._items[rng.randrange(len(self._items))] if self._items else None

    def due_by(self, when: datetime) -> T | None:
        """The open item due first, if it is due by ``when``."""
        heap = self._heap
        while heap:
            due, seq, key = heap[0]
            if self._entry.get(key) != seq:
                heapq.heappop(heap)  # removed or re-added since: a stale entry
                continue
            return self._items[self._index[key]] if due <= when else None
        return None


#: kinds of the district level (three-tier days); every other kind is a commune-level unit
DISTRICT_KINDS = frozenset({"city", "district", "town"})


def units_at(province: Province, day: date) -> tuple[Unit, ...]:
    """The units a simulated event of ``day`` names: those valid that day (the file's predecessors'
    before it took effect), or the file's own when ``day`` is past everything it knows."""
    valid = province.units_on(day)
    if valid:
        return valid
    seat = {u.code: u for u in province.units}
    return province.units + tuple(Unit(c.code, c.name, "commune", seat[c.parent].lat, seat[c.parent].lon, parent=c.parent)
                                  for c in province.communes)
