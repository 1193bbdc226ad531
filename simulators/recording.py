"""Recordings of feeds: a JSON-lines file (gzip when the name ends in ``.gz``), replayed on a plan.

The first line is a header, every other line one Kafka message as it arrived::

    {"format": "ioc-recording", "version": 1, "province": "91", "started": "2026-03-02T02:30:00.000Z"}
    {"at": "2026-03-02T02:30:00.104Z", "family": "health", "key": "dvc", "value": "{\\"id\\": …}"}
    {"at": "…", "family": "camera", "key": null, "value": "3q2+7w==", "b64": true}

``value`` holds the message bytes as UTF-8 text, or base64 with ``"b64": true`` when they are not
UTF-8, so a replay sends exactly what was recorded (bad messages included).  Lines stay in the
order they arrived; a replay sends them in file order, each at ``(at - first at) / speed`` after
the start, measured on a monotonic clock so that waits never add up to drift.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from simulators.base import Send, iso
from streams.core.clock import utcnow
from streams.core.errors import IOCError
from streams.core.topics import FEEDS

FORMAT = "ioc-recording"
VERSION = 1


class RecordingError(IOCError):
    """A recording cannot be read; names the file and the line."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path is not None and line is not None else (f"{path}: " if path else "")
        super().__init__(where + message)
        self.path, self.line = path, line


@dataclass(frozen=True, slots=True)
class Message:
    at: datetime
    family: str
    key: str | None
    value: bytes
    line: int = 0

    @property
    def events(self) -> int:
        return count_events(self.value)


def count_events(value: bytes) -> int:
    """Events in a message: the length of a JSON array, else one."""
    if value[:1] == b"[":
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError:
            return 1
        return len(doc) if isinstance(doc, list) else 1
    return 1


def _open(path: str | Path, mode: str) -> IO[bytes]:
    path = Path(path)
    if mode == "wb":
        return gzip.open(path, "wb", compresslevel=5) if path.suffix == ".gz" else open(path, "wb")
    raw = open(path, "rb")
    if raw.peek(2)[:2] == b"\x1f\x8b":  # gzip, whatever the name
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


# --- writing ----------------------------------------------------------------------------------


class RecordingWriter:
    """Writes a recording; also a ``send(family, key, value)`` callable stamping arrival by ``clock``."""

    def __init__(self, target: str | Path | IO[bytes], *, province: str, source: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._own = not hasattr(target, "write")
        self.file: IO[bytes] = _open(target, "wb") if self._own else target  # type: ignore[arg-type]
        self.clock = clock
        self.messages = 0
        self.errors = 0  # the same face as KafkaSender
        header = {"format": FORMAT, "version": VERSION, "province": province, "source": source,
                  "started": iso(clock())}
        self.file.write(orjson.dumps(header) + b"\n")

    def write(self, at: datetime, family: str, key: str | None, value: bytes) -> None:
        line: dict[str, Any] = {"at": iso(at), "family": family, "key": key}
        try:
            line["value"] = value.decode("utf-8")
        except UnicodeDecodeError:
            line["value"] = base64.b64encode(value).decode("ascii")
            line["b64"] = True
        self.file.write(orjson.dumps(line) + b"\n")
        self.messages += 1

    def __call__(self, family: str, key: str, value: bytes) -> None:
        self.write(self.clock(), family, key, value)

    def flush(self, timeout_s: float = 0) -> None:
        self.file.flush()

    def close(self) -> None:
        if self._own:
            self.file.close()
        else:
            self.file.flush()


# --- reading ----------------------------------------------------------------------------------


def _parse(raw: bytes, path: str | Path, lineno: int) -> Message:
    def bad(what: str) -> RecordingError:
        return RecordingError(what, path=path, line=lineno)

    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise bad(f"expected a JSON object, got {type(doc).__name__}")
    missing = [k for k in ("at", "family", "value") if k not in doc]
    if missing:
        raise bad(f"missing {', '.join(missing)}")
    family, key, value = doc["family"], doc.get("key"), doc["value"]
    if family not in FEEDS:
        raise bad(f"unknown family {family!r}; known: {', '.join(FEEDS)}")
    if not isinstance(value, str) or not (key is None or isinstance(key, str)):
        raise bad("`value` must be text and `key` text or null")
    try:
        at = datetime.fromisoformat(doc["at"])
    except (TypeError, ValueError):
        raise bad(f"`at` is not an ISO 8601 time: {str(doc['at'])[:40]!r}") from None
    if at.tzinfo is None:
        raise bad("`at` has no UTC offset")
    try:
        data = base64.b64decode(value, validate=True) if doc.get("b64") else value.encode("utf-8")
    except binascii.Error:
        raise bad("`value` is flagged b64 but is not base64") from None
    return Message(at, family, key, data, lineno)


@dataclass
class Recording:
    """An open recording: ``header`` is read at once, messages as they are iterated."""

    path: str | Path
    skip_bad: bool = False
    families: frozenset[str] | None = None
    header: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0  # bad lines passed over (only with ``skip_bad``)

    def __post_init__(self) -> None:
        with _open(self.path, "rb") as f:
            first = f.readline()
        try:
            self.header = orjson.loads(first)
        except orjson.JSONDecodeError:
            self.header = {}
        if not isinstance(self.header, dict) or self.header.get("format") != FORMAT:
            raise RecordingError(f"not an {FORMAT} file (its first line is not the header)", path=self.path, line=1)
        if self.header.get("version") != VERSION:
            raise RecordingError(f"format version {self.header.get('version')!r}, this reader knows {VERSION}",
                                 path=self.path, line=1)

    def _lines(self) -> Iterator[Message]:
        with _open(self.path, "rb") as f:
            f.readline()
            for lineno, raw in enumerate(f, start=2):
                if not raw.strip():
                    continue
                try:
                    yield _parse(raw, self.path, lineno)
                except RecordingError:
                    if not self.skip_bad:
                        raise
                    self.skipped += 1

    def __iter__(self) -> Iterator[Message]:
        self.skipped = 0
        for msg in self._lines():
            if self.families is None or msg.family in self.families:
                yield msg

    def scan(self) -> Counter[str]:
        """Reads the whole file once: the messages a replay will send, by family.  Raises on the
        first bad line (unless ``skip_bad``), so nothing is sent from a file that would fail half-way."""
        return Counter(m.family for m in self)


# --- replaying --------------------------------------------------------------------------------


def due_after(first: datetime, at: datetime, speed: float | None) -> float:
    """Seconds after the replay's start at which a message recorded ``at`` is due (0 at full speed)."""
    if speed is None:
        return 0.0
    return max(0.0, (at - first).total_seconds() / speed)


@dataclass
class ReplayStats:
    messages: int = 0
    events: int = 0
    seconds: float = 0.0
    total: int | None = None  # messages expected, when known

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def done(self) -> float | None:
        return min(1.0, self.messages / self.total) if self.total else None

    @property
    def eta_s(self) -> float | None:
        done = self.done
        return self.seconds * (1 - done) / done if done else None


def replay(
    messages: Iterable[Message],
    send: Send,
    *,
    speed: float | None,
    transform: Callable[[Message], bytes] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[ReplayStats], None] | None = None,
    progress_every_s: float = 5.0,
    total: int | None = None,
) -> ReplayStats:
    """Sends every message at its due time (``speed`` None: as fast as possible), in file order."""
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    stats = ReplayStats(total=total)
    start = last_report = monotonic()
    first: datetime | None = None
    for msg in messages:
        if first is None:
            first = msg.at
        delay = start + due_after(first, msg.at, speed) - monotonic()
        if delay > 0:
            sleep(delay)
        send(msg.family, msg.key or "", transform(msg) if transform else msg.value)
        stats.messages += 1
        stats.events += msg.events
        if on_progress is not None and monotonic() - last_report >= progress_every_s:
            last_report = monotonic()
            stats.seconds = last_report - start
            on_progress(stats)
    stats.seconds = monotonic() - start
    return stats


def parse_speed(text: str) -> float | None:
    """``max`` -> None (as fast as possible), else a positive factor such as ``60``."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"speed is a positive number or 'max', got {text!r}") from None
    if not 0 < speed < float("inf"):
        raise ValueError(f"speed is a positive number or 'max', got {text!r}")
    return speed
