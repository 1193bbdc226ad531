"""Progress lines of a command whose steps may be slow (``ioc register report``).

Quiet while the work is quick: a step says its name only once it has run longer than ``after_s``,
then how long it has run every ``every_s``, and that it is done; once one step has been slow, the
next ones say their names as they begin.  A background thread watches the step under way, so a
single long call (a PDF being laid out) is reported while it runs.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Progress:
    def __init__(self, out: Callable[[str], None] = print, *, after_s: float = 1.0, every_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.out, self.after_s, self.every_s, self.clock = out, after_s, every_s, clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._step: str | None = None
        self._began = 0.0
        self._next = 0.0       # when the step under way next says how long it has run (0: not said yet)
        self._loud = False     # a step was slow: say every step

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        with self._lock:
            self._step, self._began, self._next = what, self.clock(), 0.0
            if self._loud:
                self._say(f"{what}…")
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="progress", daemon=True)
            self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                if self._next:
                    self._say(f"{what}: done in {self.clock() - self._began:.1f} s")
                self._step = None

    def _say(self, line: str) -> None:
        self.out(line)
        self._next = self.clock() + self.every_s
        self._loud = True

    def _watch(self) -> None:
        while not self._stop.wait(min(0.2, self.after_s / 2 or 0.01)):
            with self._lock:
                if self._step is None:
                    continue
                ran = self.clock() - self._began
                if not self._next and ran >= self.after_s:
                    self._say(f"{self._step}…")
                elif self._next and self.clock() >= self._next:
                    self._say(f"{self._step}… {ran:.0f} s")
