"""Every simulator by feed family, built from the province description."""
from __future__ import annotations

import random
from collections.abc import Sequence

from simulators.base import Simulator
from simulators.health import HealthSimulator
from simulators.province import Province

FAMILIES: dict[str, type] = {
    "health": HealthSimulator,
}


def build_simulators(province: Province, rng: random.Random, families: Sequence[str] | None = None) -> list[Simulator]:
    names = list(families or FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        from streams.errors import ConfigError

        raise ConfigError(f"unknown feed families {unknown}; known: {', '.join(FAMILIES)}")
    # one child generator per family, so adding a family does not change another's feed
    return [FAMILIES[n](province, random.Random(f"{rng.random()}:{n}")) for n in names]
