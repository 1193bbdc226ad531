"""Every Kafka topic of the project: one per feed family (``streams.core.families``) and the dead letters.

Feed topics carry JSON: one event per message, or a JSON array of events (high-volume
feeds batch).  Keys are the entity (system, camera, station, unit) so that a worker owns
an entity's whole history.  ``deadletter`` receives what validation rejects.
"""
from __future__ import annotations

from streams.core.families import FAMILIES, Family
from streams.core.settings import Settings


FEEDS: dict[str, Family] = {f.name: f for f in FAMILIES}  # name, description, partitions_factor
DEADLETTER = "deadletter"


def topic_name(settings: Settings, family: str) -> str:
    if family != DEADLETTER and family not in FEEDS:
        raise KeyError(f"unknown feed family {family!r}; known: {', '.join(FEEDS)}")
    return f"{settings.topic_prefix}{family}"


def all_topics(settings: Settings) -> dict[str, int]:
    """Topic name -> partition count, for creating topics up front."""
    topics = {
        topic_name(settings, fam): settings.topic_partitions * spec.partitions_factor
        for fam, spec in FEEDS.items()
    }
    topics[topic_name(settings, DEADLETTER)] = settings.topic_partitions
    return topics
