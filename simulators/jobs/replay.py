"""``ioc replay``: a recording to Kafka with its original spacing scaled, optionally moved to now."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from streams.core.families import named_families
from simulators.jobs.common import PROGRESS_EVERY_S, open_sender, progress_line, warm
from simulators.recording import Recording, parse_speed, replay
from simulators.timeshift import TimeShifter, first_event_time
from streams.core.errors import ConfigError
from streams.core.settings import Settings


def run_replay(settings: Settings, path: str, *, shift_to_now: bool = False, skip_bad: bool = False) -> int:
    try:
        speed = parse_speed(settings.replay_speed)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    names = named_families(settings.replay_families)
    rec = Recording(path, skip_bad=skip_bad, families=frozenset(names) if names else None)
    per_family = rec.scan()  # every line checked before anything is sent
    total = sum(per_family.values())
    transform: Callable[[Any], bytes] | None = None
    if shift_to_now:
        first = next((t for m in rec if (t := first_event_time(m.family, m.value)) is not None), None)
        if first is None:
            raise ConfigError(f"{path}: no event with a timestamp to shift from")
        shifter = TimeShifter(datetime.now(timezone.utc) - first)
        transform = lambda m: shifter.shift(m.family, m.value)  # noqa: E731
        print(f"replay: timestamps shifted by {shifter.delta}", flush=True)
    sender = open_sender(settings, None, "replay")
    warm(sender, settings, list(per_family))
    counts = ", ".join(f"{n} {f}" for f, n in per_family.most_common())
    print(f"replay: {total} messages ({counts}) from {path} at speed {settings.replay_speed}", flush=True)

    def progress(stats: Any) -> None:
        print(progress_line("replay", stats.messages, stats.events, stats.seconds, stats.done), flush=True)

    try:
        stats = replay(rec, sender, speed=speed, transform=transform, on_progress=progress,
                       progress_every_s=PROGRESS_EVERY_S, total=total)
    finally:
        sender.close()
    skipped = f", {rec.skipped} bad lines skipped" if rec.skipped else ""
    print(f"replay: done, {stats.messages} messages, {stats.events} events in {stats.seconds:.1f} s, "
          f"{stats.rate:.0f} events/s{skipped}, {sender.errors} send errors", flush=True)
    return 1 if sender.errors else 0
