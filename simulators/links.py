"""The province's network links as every simulator sees them: one schedule of cuts, one set of forces.

A camera is reachable only while its link and every link above it (the province file's
``parent``) are up, and the network feed reports the same links down at the same moments.  The
background cuts are drawn from the seed, the link and the hour alone, never from a simulator's
own random stream, so two processes with the same seed (``ioc simulate`` and an ``ioc drill``
background) cut the same links at the same times; a drill's forced ``down`` is shared by every
simulator built on the same ``LinkOutages``.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from streams.core.geography import Province

CUTS_PER_HOUR = 0.003  # background fibre cuts or power losses per link
CUT_MINUTES = (5.0, 45.0)
_HOUR = 3600


def seed_of(rng: random.Random) -> str:
    """A seed from a generator's state, without drawing from it (its stream stays as it was)."""
    return ":".join(str(v) for v in rng.getstate()[1][:8])


class LinkOutages:
    def __init__(self, province: Province, seed: object, *, incidents: bool = True) -> None:
        self.parents = {n.code: n.parent for n in province.networks}
        self.seed = seed
        self.incidents = incidents
        self.forced: set[str] = set()  # links a drill holds down
        self._cuts: dict[tuple[str, int], tuple[datetime, datetime] | None] = {}

    def force(self, link: str, down: bool) -> None:
        if link not in self.parents:
            raise ValueError(f"unknown link {link!r}; known: {', '.join(self.parents)}")
        (self.forced.add if down else self.forced.discard)(link)

    def cut(self, link: str, now: datetime) -> bool:
        """Whether ``link`` itself is cut at ``now`` (forced, or a background cut)."""
        return link in self.forced or (self.incidents and self._background(link, now))

    def why_down(self, link: str, now: datetime) -> str | None:
        """Why a link is down now (its own cut, or one above it), or None when it is up."""
        seen: set[str] = set()
        at: str | None = link
        while at in self.parents and at not in seen:
            if self.cut(at, now):
                return "loss of signal" if at == link else f"upstream {at} down"
            seen.add(at)
            at = self.parents[at]
        return None

    def _background(self, link: str, now: datetime) -> bool:
        hour = int(now.timestamp()) // _HOUR
        longest = int(CUT_MINUTES[1] * 60) // _HOUR + 1  # a cut that began in an earlier hour may still hold
        for start_hour in range(hour - longest, hour + 1):
            span = self._cut_of(link, start_hour)
            if span is not None and span[0] <= now < span[1]:
                return True
        return False

    def _cut_of(self, link: str, hour: int) -> tuple[datetime, datetime] | None:
        """The cut that begins in this hour of the epoch, if any: the same for every process and seed."""
        key = (link, hour)
        if key not in self._cuts:
            if len(self._cuts) > 100_000:  # hours long past
                self._cuts.clear()
            rng = random.Random(f"{self.seed}:{link}:{hour}")
            span = None
            if rng.random() < CUTS_PER_HOUR:
                start = datetime.fromtimestamp(hour * _HOUR + rng.random() * _HOUR, timezone.utc)
                span = start, start + timedelta(minutes=rng.uniform(*CUT_MINUTES))
            self._cuts[key] = span
        return self._cuts[key]
