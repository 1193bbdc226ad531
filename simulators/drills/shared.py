"""A drill's forced entity states, shared with the background simulators of other processes.

``ioc drill`` plays its scenario over background simulators of its own, but the feed may have
another background: the ``ioc simulate`` of ``make demo``.  If that one kept reporting a camera
the drill has taken offline as online, the drill would not be what the operator sees.  So the
conductor writes the forces in effect that set an entity's state (a simulator lists those in
``shared_conditions``; injections such as intrusion tracks are not shared, or they would come
twice) to a small JSON file, and every ``ioc simulate`` writing to the same topics follows the
file: it applies each force to its own simulator until the force is released or its end time
has passed (a drill killed without a word cannot hold an entity for ever).

The file is ``<IOC_RUN_DIR>/drill-forces-<IOC_TOPIC_PREFIX>json``: one per feed, so parallel
test runs with their own prefixes never see each other's drills.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from simulators.base import Event, Simulator

log = logging.getLogger("ioc.drill")

Key = tuple[str, str]  # (family, target)


def forces_file(run_dir: Path, topic_prefix: str) -> Path:
    return Path(run_dir) / f"drill-forces-{topic_prefix}json"


def shared_conditions(sim: Any) -> frozenset[str]:
    return frozenset(getattr(sim, "shared_conditions", ()))


def write_forces(path: Path, forces: dict[Key, dict[str, Any]]) -> None:
    """Replaces the file at once (write, then rename); no forces: no file."""
    if not forces:
        path.unlink(missing_ok=True)
        return
    doc = [{"family": f, "target": t, **v} for (f, t), v in sorted(forces.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(orjson.dumps(doc))
    os.replace(tmp, path)


class ForcePublisher:
    """The conductor's side: the shared forces in effect, written on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.active: dict[Key, dict[str, Any]] = {}

    def update(self, family: str, target: str, condition: str | None, options: dict[str, Any],
               until: datetime) -> None:
        key = (family, target)
        if condition is None:
            if self.active.pop(key, None) is not None:
                self._write()
            return
        self.active[key] = {"condition": condition, "options": options, "until": until.isoformat()}
        self._write()

    def clear(self) -> None:
        self.active.clear()
        self._write()

    def _write(self) -> None:
        try:
            write_forces(self.path, self.active)
        except OSError as exc:  # the drill goes on; only other processes' simulators will not follow it
            log.warning("drill forces not shared through %s: %s", self.path, exc)


def read_forces(path: Path, now: datetime) -> dict[Key, tuple[str, dict[str, Any]]]:
    """The forces of the file still in effect at ``now``; an unreadable file holds none."""
    try:
        doc = orjson.loads(path.read_bytes())
        return {(d["family"], d["target"]): (d["condition"], dict(d.get("options") or {}))
                for d in doc if datetime.fromisoformat(d["until"]) > now}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("drill forces in %s ignored: %s", path, exc)
        return {}


class ForceFollower:
    """The background's side: applies the file's forces to this process's simulators, and gives
    each back (``force(target, None)``) when it leaves the file or its time is up."""

    def __init__(self, path: Path, simulators: Sequence[Simulator], *, every: timedelta = timedelta(seconds=1)) -> None:
        self.path, self.every = path, every
        self.by_family = {s.family: s for s in simulators if shared_conditions(s)}
        self.applied: dict[Key, tuple[str, dict[str, Any]]] = {}
        self._next: datetime | None = None

    def poll(self, now: datetime) -> None:
        if self._next is not None and now < self._next:
            return
        self._next = now + self.every
        wanted = {k: v for k, v in read_forces(self.path, now).items()
                  if k[0] in self.by_family and v[0] in shared_conditions(self.by_family[k[0]])}
        for key in [k for k in self.applied if k not in wanted]:
            del self.applied[key]
            self._force(key, None, {})
        for key, (condition, options) in wanted.items():
            if self.applied.get(key) != (condition, options) and self._force(key, condition, options):
                self.applied[key] = (condition, options)

    def _force(self, key: Key, condition: str | None, options: dict[str, Any]) -> bool:
        family, target = key
        try:
            self.by_family[family].force(target, condition, **options)  # type: ignore[attr-defined]
        except (KeyError, ValueError, TypeError) as exc:  # another province file, or another version
            log.warning("drill force %s %s %s not applied here: %s", family, target, condition, exc)
            return False
        log.info("drill force followed: %s %s -> %s", family, target, condition or "released")
        return True


class Following:
    """A Runner simulator that follows the shared drill forces before each tick of its own."""

    def __init__(self, inner: Simulator, follower: ForceFollower) -> None:
        self.inner, self.follower = inner, follower
        self.family, self.weight = inner.family, inner.weight

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        self.follower.poll(now)
        return self.inner.tick(now, dt, n)

    def key_of(self, event: Event) -> str:
        return self.inner.key_of(event)
