"""The signals a scenario promises, checked over the events of a run.

A signal looks at the events of one family that match ``where`` (``field: value``,
``field: [a, b]`` for any of them, ``field: {gte: 500}`` with ``gt gte lt lte ne``,
``field: {from_event_s: [0, 86400]}`` for a time 0 to 86400 s after the event's ``dateObserved``;
a dotted field reads inside objects) and whose time falls in ``window`` (seconds of scenario
time, ``[start, end)``).  Kinds:

- ``count``: at least ``min`` such events (and at most ``max`` when given); with ``group_by``,
  in one group (one ``src_ip`` …);
- ``distinct``: at least ``min`` different values of ``field``;
- ``share``: more than ``above`` of them also match ``of``;
- ``rate_ratio``: their rate in ``window`` is at least ``factor`` times their rate in ``baseline``.

A check takes events one at a time (``observe``) and keeps counters only, so ``ioc drill`` can
check its own feed as it goes and tests can check millions of events.
"""
from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.drills.scenario import Signal

Predicate = Callable[[dict[str, Any]], bool]
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le, "ne": operator.ne,
}


def _get(event: dict[str, Any], field: str) -> Any:
    value: Any = event
    for part in field.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _test(cond: Any) -> Callable[[Any], bool]:
    if isinstance(cond, list):
        return lambda v: v in cond
    if isinstance(cond, dict):
        unknown = set(cond) - set(OPS)
        if unknown:
            raise ValueError(f"unknown comparison {', '.join(sorted(unknown))}; known: {', '.join(OPS)}")
        tests = [(OPS[op], arg) for op, arg in cond.items()]

        def compare(v: Any) -> bool:
            try:
                return v is not None and all(op(v, arg) for op, arg in tests)
            except TypeError:
                return False
        return compare
    return lambda v: v == cond


def _seconds_after_event(field: str, cond: Any) -> Callable[[dict[str, Any]], bool]:
    """``field: {from_event_s: [lo, hi]}``: the time in ``field`` is lo..hi seconds after ``dateObserved``."""
    if (not isinstance(cond, list) or len(cond) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in cond)):
        raise ValueError(f"{field}: `from_event_s` takes [low, high] seconds, got {cond!r}")
    lo, hi = cond

    def test(event: dict[str, Any]) -> bool:
        try:
            gap = datetime.fromisoformat(_get(event, field)) - datetime.fromisoformat(event["dateObserved"])
        except (KeyError, TypeError, ValueError):
            return False
        return lo <= gap.total_seconds() <= hi
    return test


def predicate(where: dict[str, Any]) -> Predicate:
    """A function telling whether an event dict matches ``where``."""
    tests: list[Predicate] = []
    for field, cond in where.items():
        if isinstance(cond, dict) and "from_event_s" in cond:
            if len(cond) > 1:
                raise ValueError(f"{field}: `from_event_s` goes alone")
            tests.append(_seconds_after_event(field, cond["from_event_s"]))
        else:
            test = _test(cond)
            tests.append(lambda event, f=field, t=test: t(_get(event, f)))
    return lambda event: all(t(event) for t in tests)


@dataclass(frozen=True, slots=True)
class SignalResult:
    signal: Signal
    ok: bool
    observed: str

    def line(self, lang: str = "en") -> str:
        text = getattr(self.signal.says, lang)
        return f"{'✓' if self.ok else '✗'} {text} — observed {self.observed}"


class SignalCheck:
    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        self._where = predicate(signal.where)
        self._of = predicate(signal.of or {})
        self.groups: Counter[Any] = Counter()  # count (by group), distinct values
        self.in_window = 0
        self.in_part = 0  # share: also matching `of`; rate_ratio: in the baseline

    def observe(self, family: str, at: float, event: dict[str, Any]) -> None:
        sig = self.signal
        if family != sig.family or not self._where(event):
            return
        if sig.baseline is not None and sig.baseline[0] <= at < sig.baseline[1]:
            self.in_part += 1
        if not sig.window[0] <= at < sig.window[1]:
            return
        self.in_window += 1
        if sig.kind == "share":
            self.in_part += self._of(event)
        elif sig.group_by is not None or sig.kind == "distinct":
            value = _get(event, sig.group_by or sig.field)  # type: ignore[arg-type]
            if value is not None:
                self.groups[value] += 1

    def result(self) -> SignalResult:
        sig = self.signal
        if sig.kind == "count":
            if sig.group_by is not None:
                top, n = self.groups.most_common(1)[0] if self.groups else (None, 0)
                return SignalResult(sig, n >= sig.min, f"{n} from {sig.group_by} {top}")  # type: ignore[operator]
            ok = self.in_window >= sig.min and (sig.max is None or self.in_window <= sig.max)  # type: ignore[operator]
            return SignalResult(sig, ok, f"{self.in_window}")
        if sig.kind == "distinct":
            return SignalResult(sig, len(self.groups) >= sig.min, f"{len(self.groups)} {sig.field}")  # type: ignore[operator]
        if sig.kind == "share":
            share = self.in_part / self.in_window if self.in_window else 0.0
            return SignalResult(sig, share > sig.above, f"{share:.1%} of {self.in_window}")  # type: ignore[operator]
        base_len = sig.baseline[1] - sig.baseline[0]  # type: ignore[index]
        win_len = sig.window[1] - sig.window[0]
        if self.in_part:
            ratio = (self.in_window / win_len) / (self.in_part / base_len)
        else:
            ratio = float("inf") if self.in_window else 0.0
        return SignalResult(sig, ratio >= sig.factor, f"×{ratio:.1f} ({self.in_window} vs {self.in_part} events)")  # type: ignore[operator]


def check(signals: Iterable[Signal], observed: Iterable[tuple[str, float, dict[str, Any]]]) -> list[SignalResult]:
    """Every signal over (family, scenario seconds, event) triples."""
    checks = [SignalCheck(s) for s in signals]
    for family, at, event in observed:
        for c in checks:
            c.observe(family, at, event)
    return [c.result() for c in checks]
