"""What the feed jobs share: progress lines, and where events go."""
from __future__ import annotations

from typing import Any

from streams.core.errors import BrokerError, ConfigError
from streams.core.settings import Settings
from streams.core.topics import topic_name

PROGRESS_EVERY_S = 5.0


def progress_line(verb: str, messages: int, events: int, seconds: float, done: float | None) -> str:
    rate = events / seconds if seconds else 0.0
    line = f"{verb}: {messages} messages, {events} events, {rate:.0f} events/s"
    if done:
        eta = seconds * (1 - done) / done
        line += f", {done:.0%} done, ETA {int(eta) // 60}:{int(eta) % 60:02d}"
    return line


def open_sender(settings: Settings, out: str | None, source: str, metrics: Any = None) -> Any:
    """A ``send(family, key, value)`` with ``close()`` and ``errors``: to a recording file or Kafka."""
    if out:
        from simulators.recording import RecordingWriter
        from streams.core.geography import load_province

        try:
            return RecordingWriter(out, province=load_province(settings.province_file).code, source=source)
        except OSError as exc:
            raise ConfigError(f"cannot write {out}: {exc.strerror}") from None
    from simulators.kafka import KafkaSender

    return KafkaSender(settings, metrics)


def warm(sender: Any, settings: Settings, names: list[str]) -> None:
    """Fetches the topics' metadata before the first send, so the first message is not late."""
    from kafka.errors import KafkaError

    for family in names:
        topic = topic_name(settings, family)
        try:
            sender.producer.partitions_for(topic)
        except KafkaError as exc:
            sender.close()
            raise BrokerError(f"no metadata for the topic ({exc}); ioc topics create makes it", topic=topic) from exc


def login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
