"""Every simulator by feed family, built from the province description.

Each class carries its ``weight``, its share of the total rate when several run together, so a
mixed feed looks like a province: request logs, security logs and camera detections carry the
volume (1.0, 1.0, 0.8); dossiers and citizen reports are a trickle (0.02, 0.002); sensors report
on their stations' schedules and take no share (0.0).
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from simulators.base import Simulator
from simulators.links import LinkOutages, seed_of
from streams.core.families import FAMILIES as DECLARED, known_families
from streams.core.geography import Province

FAMILIES: dict[str, type] = {f.name: f.load("simulator") for f in DECLARED}


def build_simulators(province: Province, rng: random.Random, families: Sequence[str] | None = None) -> list[Simulator]:
    names = known_families(families or FAMILIES)
    # one network for the families that see it, cut by the seed alone: a process simulating other
    # families with the same seed cuts the same links at the same times
    links = LinkOutages(province, seed_of(rng))
    # one child generator per family, so adding a family does not change another's feed
    return [_build(FAMILIES[n], province, random.Random(f"{rng.random()}:{n}"), links) for n in names]


def _build(cls: type, province: Province, rng: random.Random, links: LinkOutages) -> Simulator:
    return cls(province, rng, links=links) if getattr(cls, "shares_links", False) else cls(province, rng)
