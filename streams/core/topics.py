"""Every Kafka topic of the project, defined in one place.

Feed topics carry JSON: one event per message, or a JSON array of events (high-volume
feeds batch).  Keys are the entity (system, camera, station, unit) so that a worker owns
an entity's whole history.  ``deadletter`` receives what validation rejects.
"""
from __future__ import annotations

from dataclasses import dataclass

from streams.core.settings import Settings


@dataclass(frozen=True, slots=True)
class TopicSpec:
    family: str
    description: str
    partitions_factor: int = 1  # multiplies Settings.topic_partitions for high-volume feeds


FEEDS: dict[str, TopicSpec] = {
    spec.family: spec
    for spec in (
        TopicSpec("health", "information-system probes and request logs", 2),
        TopicSpec("security", "authentication failures, WAF/IDS hits, malware, scans, firewall logs", 2),
        TopicSpec("camera", "camera analytics and camera health", 2),
        TopicSpec("sensor", "water level, salinity, rainfall, air quality, weather observations"),
        TopicSpec("dossier", "public-service dossier events"),
        TopicSpec("citizen", "citizen field reports (phản ánh hiện trường)"),
    )
}
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
