"""``ioc record``: the feed topics, as they arrive, to a JSON-lines recording."""
from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from streams.core.families import named_families
from simulators.jobs.common import PROGRESS_EVERY_S, open_sender, progress_line
from simulators.recording import count_events
from streams.core.errors import BrokerError, ConfigError
from streams.core.settings import Settings
from streams.core.topics import FEEDS, topic_name


class Tap:
    """The feed topics' partitions, assigned (no consumer group, nothing committed) and positioned."""

    def __init__(self, settings: Settings, names: list[str], from_beginning: bool) -> None:
        from kafka import KafkaConsumer, TopicPartition
        from kafka.errors import KafkaError

        from streams.kafka.security import kafka_python_config

        try:
            self.consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None,
                                          enable_auto_commit=False, client_id="ioc-recorder",
                                          **kafka_python_config(settings))
            self.family_of, tps = {}, []
            for fam in names:
                topic = topic_name(settings, fam)
                parts = self.consumer.partitions_for_topic(topic)
                if not parts:
                    raise BrokerError("topic does not exist (ioc topics create makes it)", topic=topic)
                self.family_of[topic] = fam
                tps += [TopicPartition(topic, p) for p in sorted(parts)]
            self.consumer.assign(tps)
            (self.consumer.seek_to_beginning if from_beginning else self.consumer.seek_to_end)(*tps)
            for tp in tps:
                self.consumer.position(tp)  # resolve the start now: what is produced from here on is recorded
        except KafkaError as exc:
            raise BrokerError(f"cannot read from Kafka at {settings.kafka_bootstrap}: {exc}") from exc

    def __iter__(self) -> Iterator[tuple[datetime, str, Any]]:
        """(arrival, family, record), or a heartbeat (now, "", None) when nothing came for 0.5 s."""
        while True:
            batch = self.consumer.poll(timeout_ms=500, max_records=5000)
            if not batch:
                yield datetime.now(timezone.utc), "", None
                continue
            # merged by timestamp, each partition kept in its own order
            for rec in heapq.merge(*batch.values(), key=lambda r: r.timestamp):
                at = (datetime.fromtimestamp(rec.timestamp / 1000, timezone.utc) if rec.timestamp and rec.timestamp > 0
                      else datetime.now(timezone.utc))
                yield at, self.family_of[rec.topic], rec

    def close(self) -> None:
        self.consumer.close()


def run_record(settings: Settings, *, out: str, duration: float | None = None, count: int | None = None,
               from_beginning: bool = False) -> int:
    names = named_families(settings.record_families) or list(FEEDS)
    tap = Tap(settings, names, from_beginning)
    try:
        writer = open_sender(settings, out, "record")
    except ConfigError:
        tap.close()
        raise
    start = last = time.monotonic()
    events = 0
    print(f"record: {', '.join(names)} -> {out} (Ctrl-C stops)", flush=True)

    def done() -> float | None:
        parts = [(time.monotonic() - start) / duration if duration else 0.0,
                 writer.messages / count if count else 0.0]
        return min(1.0, max(parts)) if duration or count else None

    try:
        for at, family, rec in tap:
            if rec is not None:
                key = rec.key.decode("utf-8", "replace") if rec.key is not None else None
                writer.write(at, family, key, rec.value or b"")
                events += count_events(rec.value or b"")
            if (count and writer.messages >= count) or (duration and time.monotonic() - start >= duration):
                break
            if time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                print(progress_line("record", writer.messages, events, last - start, done()), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        tap.close()
        writer.close()
    print(f"record: done, {writer.messages} messages, {events} events in {time.monotonic() - start:.1f} s "
          f"-> {out}", flush=True)
    return 0
